import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PolicyStatement } from "../../components/platform/policyDocument";
import { loadBalancerControllerPolicy } from "../../components/edge/loadBalancerControllerPolicy";
import {
  ConfigError,
  parseConfig,
  type PlatformConfig,
} from "../../components/config/platformConfig";
import { albAnnotations, albUrl, healthCheck } from "../../components/edge/albIngress";
import {
  cloneStackConfig,
  fakeSecret,
  mockAlbHostname,
  repoRoot,
  runProgram,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
} from "../../verify/program";
import { itUnless } from "../../verify/pending";

/**
 * The upstream policy (kubernetes-sigs/aws-load-balancer-controller `docs/install/iam_policy.json` at the
 * pinned chart's controller version) is never committed here: it is read from the shared reference
 * directory beside the repository, `../shared/reference/`, when that exists.
 */
const referencePath = path.resolve(
  repoRoot,
  "..",
  "shared",
  "reference",
  "aws-load-balancer-controller-iam-policy.json",
);
const reference = fs.existsSync(referencePath)
  ? (JSON.parse(fs.readFileSync(referencePath, "utf8")) as { Statement: PolicyStatement[] })
  : undefined;

/** A statement without its Sid, with actions and resources as sorted arrays: comparable. */
function normalize(s: PolicyStatement) {
  const list = (v: string | string[] | undefined) =>
    v === undefined ? [] : ([] as string[]).concat(v).sort();
  return JSON.stringify({
    Effect: s.Effect,
    Action: list(s.Action),
    Resource: list(s.Resource),
    Condition: s.Condition ?? null,
  });
}

describe("edge: load balancer controller IAM policy against upstream", function () {
  const ours = loadBalancerControllerPolicy("aws").Statement;
  const it = itUnless(
    reference
      ? undefined
      : `no upstream policy at ${referencePath}; put the controller's docs/install/iam_policy.json there to run it`,
  );

  it("grants every statement of the upstream policy, action for action and condition for condition", () => {
    const mine = new Set(ours.map(normalize));
    for (const s of reference!.Statement)
      assert.ok(mine.has(normalize(s)), `missing upstream grant: ${normalize(s)}`);
    const actions = (ss: PolicyStatement[]) =>
      new Set(ss.flatMap((s) => ([] as string[]).concat(s.Action)));
    assert.equal(
      actions(reference!.Statement).size,
      80,
      "upstream grants 80 distinct actions (86 with repeats)",
    );
    assert.deepEqual([...actions(ours)].sort(), [...actions(reference!.Statement)].sort());
  });

  it("grants nothing broader: no statement beyond the upstream ones", () => {
    const upstream = new Set(reference!.Statement.map(normalize));
    for (const s of ours) assert.ok(upstream.has(normalize(s)), `not in upstream: ${normalize(s)}`);
    assert.equal(ours.length, reference!.Statement.length);
  });
});

describe("edge: load balancer controller IAM policy", () => {
  it("follows the partition", () => {
    const cn = JSON.stringify(loadBalancerControllerPolicy("aws-cn"));
    assert.ok(cn.includes("arn:aws-cn:elasticloadbalancing:*:*:targetgroup/*/*"));
    assert.ok(!cn.includes("arn:aws:"));
  });
});

describe("edge: ALB annotations", () => {
  let edge: PlatformConfig["edge"];
  // Parsed in a hook, so a broken stack file fails these tests instead of stopping mocha at load.
  before(() => (edge = parseConfig(cloneStackConfig("prod"), "prod").edge));

  it("renders the design's listener, TLS and health-check settings", () => {
    const a = albAnnotations({
      group: "llmplatform-prod",
      order: 10,
      listener: {
        https: {
          certificateArn:
            "arn:aws:acm:us-west-2:111122223333:certificate/00000000-0000-4000-8000-000000000001",
          redirectHttp: true,
        },
      },
      health: healthCheck("/health"),
      edge,
      accessLogBucket: "logs-bucket",
      tags: { Environment: "prod" },
    });
    assert.deepEqual(a, {
      "alb.ingress.kubernetes.io/group.name": "llmplatform-prod",
      "alb.ingress.kubernetes.io/group.order": "10",
      "alb.ingress.kubernetes.io/scheme": "internet-facing",
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
      "alb.ingress.kubernetes.io/ssl-redirect": "443",
      "alb.ingress.kubernetes.io/certificate-arn":
        "arn:aws:acm:us-west-2:111122223333:certificate/00000000-0000-4000-8000-000000000001",
      "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
      "alb.ingress.kubernetes.io/inbound-cidrs": "0.0.0.0/0",
      "alb.ingress.kubernetes.io/load-balancer-attributes":
        "routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=true,access_logs.s3.enabled=true,access_logs.s3.bucket=logs-bucket,access_logs.s3.prefix=alb",
      "alb.ingress.kubernetes.io/healthcheck-path": "/health",
      "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "15",
      "alb.ingress.kubernetes.io/healthcheck-timeout-seconds": "5",
      "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
      "alb.ingress.kubernetes.io/unhealthy-threshold-count": "3",
      "alb.ingress.kubernetes.io/success-codes": "200",
      "alb.ingress.kubernetes.io/tags": "Environment=prod",
    });
  });

  it("attaches the web ACL it is given, and admits the listener's own CIDRs when given", () => {
    const waf =
      "arn:aws:wafv2:us-west-2:111122223333:regional/webacl/edge/00000000-0000-4000-8000-000000000002";
    const a = albAnnotations({
      group: "g",
      order: 1,
      listener: { https: { certificateArn: "c", redirectHttp: false } },
      health: healthCheck("/"),
      edge,
      wafAclArn: waf,
      inboundCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
      tags: {},
    });
    assert.equal(a["alb.ingress.kubernetes.io/wafv2-acl-arn"], waf);
    assert.equal(a["alb.ingress.kubernetes.io/inbound-cidrs"], "198.51.100.0/24,203.0.113.0/24");
    assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], '[{"HTTPS":443}]');
    assert.equal(a["alb.ingress.kubernetes.io/ssl-redirect"], undefined);
  });

  it("serves plain HTTP on one port without any TLS setting when there is no certificate", () => {
    const a = albAnnotations({
      group: "g",
      order: 20,
      listener: { httpPort: 3000 },
      health: healthCheck("/api/health"),
      edge,
      tags: {},
    });
    assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], '[{"HTTP":3000}]');
    for (const tlsOnly of ["certificate-arn", "ssl-policy", "ssl-redirect"])
      assert.equal(a[`alb.ingress.kubernetes.io/${tlsOnly}`], undefined, tlsOnly);
    assert.equal(a["alb.ingress.kubernetes.io/healthcheck-path"], "/api/health");
  });

  it("writes plain-HTTP URLs on the ALB's name, with the port unless it is 80", () => {
    assert.equal(albUrl("alb.example", 80), "http://alb.example");
    assert.equal(albUrl("alb.example", 3000), "http://alb.example:3000");
  });
});

const ING = "kubernetes:networking.k8s.io/v1:Ingress";
const R = "kubernetes:helm.sh/v3:Release";
/** The ALB DNS name the mocked controller reports in a stack's region. */
const alb = (stack: "dev" | "prod") => mockAlbHostname(stackConfig(stack).region);
/** The operator's ACM certificate, in the stack's region (where the load balancer uses it). */
const certArn = (stack: "dev" | "prod") =>
  `arn:aws:acm:${stackConfig(stack).region}:111122223333:certificate/00000000-0000-4000-8000-00000000000a`;

/** A stack's config with its edge replaced by `edge` (everything else as committed). */
function withEdge(stack: "dev" | "prod", edge: Record<string, unknown>) {
  const raw = cloneStackConfig(stack) as Record<string, any>;
  const { inboundCidrs, deletionProtection, accessLogs } = raw["llm-platform:edge"];
  raw["llm-platform:edge"] = {
    inboundCidrs,
    deletionProtection,
    ...(accessLogs ? { accessLogs } : {}),
    ...edge,
  };
  return raw;
}
const hosts = { gatewayHost: "api.example.org", grafanaHost: "grafana.example.org" };
/** Identity provider settings of the edge tests (example.org: RFC 2606, reaches nothing). */
const issuer = "https://idp.example.org";
const jwtValidation = {
  issuer,
  jwksEndpoint: `${issuer}/.well-known/jwks.json`,
  claims: [{ name: "scope", format: "space-separated-values", values: ["llm:invoke"] }],
};
const oidc = {
  issuer,
  authorizationEndpoint: `${issuer}/authorize`,
  tokenEndpoint: `${issuer}/token`,
  userInfoEndpoint: `${issuer}/userinfo`,
  clientId: "grafana-client",
};
/** A Cognito user pool in the stack's region. */
const cognito = (stack: "dev" | "prod") => {
  const region = stackConfig(stack).region;
  return {
    userPoolArn: `arn:aws:cognito-idp:${region}:111122223333:userpool/${region}_EXAMPLE1`,
    userPoolClientId: "exampleclientid",
    userPoolDomain: "llmplatform-example",
  };
};
const RB = "kubernetes:rbac.authorization.k8s.io/v1";

for (const stack of stacks) {
  describe(`edge (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;

    it("installs the controller (2 replicas, CPU nodes) with cluster, region and VPC set and its IRSA role", async () => {
      const run = await runStack(stack);
      const r = run.get(R, "aws-load-balancer-controller").inputs;
      assert.deepEqual(
        [r.chart, r.version, r.repositoryOpts.repo, r.namespace],
        [
          "aws-load-balancer-controller",
          "3.5.0",
          "https://aws.github.io/eks-charts",
          "kube-system",
        ],
      );
      assert.equal(r.values.clusterName, prefix);
      assert.equal(r.values.region, stackConfig(stack).region);
      assert.equal(r.values.vpcId, "vpc-0mock0000000001");
      assert.equal(r.values.replicaCount, 2);
      assert.deepEqual(r.values.nodeSelector, { workload: "cpu" });
      assert.deepEqual(r.values.serviceAccount, {
        create: true,
        name: "aws-load-balancer-controller",
        annotations: {
          "eks.amazonaws.com/role-arn": `arn:aws:iam::${testAccountId}:role/${prefix}-aws-load-balancer-controller-irsa`,
        },
      });
      const policy = JSON.parse(
        run.get(
          "aws:iam/rolePolicy:RolePolicy",
          `${prefix}-alb-controller-load-balancer-controller`,
        ).inputs.policy,
      );
      assert.deepEqual(policy, loadBalancerControllerPolicy("aws"));
    });

    it("puts both Ingresses on one ALB with identical group-wide settings", async () => {
      const run = await runStack(stack);
      const gw = run.get(ING, "platform-ingress").inputs;
      const gf = run.get(ING, "grafana-ingress").inputs;
      assert.deepEqual(
        [gw.metadata.namespace, gf.metadata.namespace],
        ["platform", "observability"],
      );
      assert.deepEqual(gw.spec.rules[0].http.paths[0].backend, {
        service: { name: "gateway", port: { number: 80 } },
      });
      assert.deepEqual(gf.spec.rules[0].http.paths[0].backend, {
        service: { name: "grafana", port: { number: 3000 } },
      });
      for (const ing of [gw, gf]) {
        assert.equal(ing.spec.ingressClassName, "alb");
        assert.equal(ing.metadata.annotations["kubernetes.io/ingress.class"], undefined);
        assert.equal(ing.metadata.annotations["alb.ingress.kubernetes.io/group.name"], prefix);
      }
      for (const shared of [
        "group.name",
        "scheme",
        "ssl-policy",
        "inbound-cidrs",
        "load-balancer-attributes",
        "certificate-arn",
        "tags",
      ]) {
        assert.equal(
          gf.metadata.annotations[`alb.ingress.kubernetes.io/${shared}`],
          gw.metadata.annotations[`alb.ingress.kubernetes.io/${shared}`],
          shared,
        );
      }
      assert.equal(
        gw.metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"],
        "/health",
      );
      assert.equal(
        gf.metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"],
        "/api/health",
      );
    });

    it("protects the ALB as configured, and logs its access to an SSE-S3 bucket the ELB account may write exactly when edge.accessLogs is set", async () => {
      const run = await runStack(stack);
      const { edge } = stackConfig(stack);
      const attrs = run.get(ING, "platform-ingress").inputs.metadata.annotations[
        "alb.ingress.kubernetes.io/load-balancer-attributes"
      ];
      const base = `routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=${edge.deletionProtection}`;
      const bucket = `${prefix}-alb-logs`;
      if (!edge.accessLogs) {
        assert.equal(attrs, base);
        assert.equal(run.ofType("aws:s3/bucket:Bucket").filter((b) => b.name === bucket).length, 0);
        return;
      }
      assert.equal(
        attrs,
        `${base},access_logs.s3.enabled=true,access_logs.s3.bucket=${bucket}-20261123,access_logs.s3.prefix=alb`,
      );
      assert.deepEqual(
        run.get(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          bucket,
        ).inputs.rules,
        [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      );
      assert.equal(
        run.get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket).inputs
          .rules[0].expiration.days,
        edge.accessLogs.retentionDays,
      );
      const policy = JSON.parse(run.get("aws:s3/bucketPolicy:BucketPolicy", bucket).inputs.policy);
      assert.deepEqual(policy.Statement[0], {
        Sid: "AlbAccessLogDelivery",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::797873946194:root" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}-20261123/alb/AWSLogs/${testAccountId}/*`,
      });
    });

    it("orders every Ingress after the controller (so destroy removes the ALB before the controller)", async () => {
      const run = await runStack(stack);
      const controller = `${R}::aws-load-balancer-controller`;
      assert.deepEqual(run.get(ING, "platform-ingress").dependsOn, [controller]);
      assert.deepEqual(run.get(ING, "grafana-ingress").dependsOn, [controller]);
      // Grafana's Service comes from its release, which needs the edge's URL: no wait for it.
      assert.equal(
        run.get(ING, "grafana-ingress").inputs.metadata.annotations["pulumi.com/skipAwait"],
        "true",
      );
      assert.equal(
        run.get(ING, "platform-ingress").inputs.metadata.annotations["pulumi.com/skipAwait"],
        undefined,
        "the ALB's address is read from the gateway's Ingress, so Pulumi waits for it",
      );
      assert.ok(run.get("kubernetes:apps/v1:Deployment", "gateway").dependsOn.includes(controller));
      assert.ok(
        !run.get("kubernetes:apps/v1:Deployment", "quant-api").dependsOn.includes(controller),
      );
    });

    it("gives Grafana its public URL as root_url, with secure cookies exactly when it is HTTPS", async () => {
      const run = await runStack(stack);
      const ini = run.get(R, "grafana").inputs.values["grafana.ini"];
      assert.equal(ini.server.root_url, run.outputs.grafanaUrl);
      assert.equal(ini.security.cookie_secure, run.outputs.grafanaUrl.startsWith("https://"));
      assert.equal(run.outputs.albHostname, alb(stack));
    });
  });
}

describe("edge: with a Route 53 zone (HTTPS), JWTs verified for the gateway, OIDC for Grafana", () => {
  let run: Awaited<ReturnType<typeof runProgram>>;
  before(async () => {
    const raw = withEdge("dev", {
      ...hosts,
      hostedZone: "example.org",
      gateway: { jwtValidation },
      grafana: { auth: { oidc } },
    });
    raw["llm-platform:grafanaOidcClientSecret"] = fakeSecret(
      "llm-platform:grafanaOidcClientSecret",
    );
    run = await runProgram("dev", raw);
  });

  it("issues a DNS-validated certificate for both hosts, points both at the ALB, redirects HTTP", () => {
    assert.equal(run.error, undefined);
    const cert = run.get("aws:acm/certificate:Certificate", "llmplatform-dev-edge-cert").inputs;
    assert.deepEqual(
      [cert.domainName, cert.subjectAlternativeNames, cert.validationMethod],
      ["api.example.org", ["grafana.example.org"], "DNS"],
    );
    const records = run.ofType("aws:route53/record:Record");
    const aliases = records.filter((r) => r.inputs.type === "A");
    assert.deepEqual(aliases.map((r) => r.inputs.name).sort(), [
      "api.example.org",
      "grafana.example.org",
    ]);
    for (const r of aliases) {
      assert.equal(r.inputs.zoneId, "Z0MOCKZONE00000001");
      assert.deepEqual(r.inputs.aliases, [
        { name: alb("dev"), zoneId: "Z1H1FL5HABSF5", evaluateTargetHealth: true },
      ]);
    }
    assert.equal(
      records.filter((r) => r.inputs.type === "CNAME").length,
      2,
      "one validation record per host",
    );
    const gw = run.get(ING, "platform-ingress").inputs;
    assert.deepEqual(gw.spec.tls, [{ hosts: ["api.example.org"] }]);
    assert.equal(gw.spec.rules[0].host, "api.example.org");
    const a = gw.metadata.annotations;
    assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], '[{"HTTP":80},{"HTTPS":443}]');
    assert.equal(a["alb.ingress.kubernetes.io/ssl-redirect"], "443");
    assert.equal(
      a["alb.ingress.kubernetes.io/certificate-arn"],
      `arn:aws:acm:${stackConfig("dev").region}:${testAccountId}:certificate/00000000-0000-4000-8000-000000000001`,
    );
    const gf = run.get(ING, "grafana-ingress").inputs;
    assert.equal(gf.spec.rules[0].host, "grafana.example.org");
    assert.equal(
      gf.metadata.annotations["alb.ingress.kubernetes.io/listen-ports"],
      '[{"HTTPS":443}]',
    );
    assert.deepEqual(
      [run.outputs.gatewayUrl, run.outputs.grafanaUrl, run.outputs.dnsRecords],
      ["https://api.example.org", "https://grafana.example.org", []],
    );
  });

  it("has the ALB verify the gateway's JWTs: issuer, JWKS and required claims", () => {
    const a = run.get(ING, "platform-ingress").inputs.metadata.annotations;
    assert.deepEqual(JSON.parse(a["alb.ingress.kubernetes.io/jwt-validation"]), {
      jwksEndpoint: jwtValidation.jwksEndpoint,
      issuer,
      additionalClaims: jwtValidation.claims,
    });
    assert.equal(a["alb.ingress.kubernetes.io/auth-type"], undefined, "JWT and login exclude");
  });

  it("puts an OIDC login in front of Grafana, its client from Secrets Manager, readable by the controller alone", () => {
    const gf = run.get(ING, "grafana-ingress");
    const a = gf.inputs.metadata.annotations;
    assert.equal(a["alb.ingress.kubernetes.io/auth-type"], "oidc");
    assert.deepEqual(JSON.parse(a["alb.ingress.kubernetes.io/auth-idp-oidc"]), {
      issuer,
      authorizationEndpoint: oidc.authorizationEndpoint,
      tokenEndpoint: oidc.tokenEndpoint,
      userInfoEndpoint: oidc.userInfoEndpoint,
      secretName: "grafana-oidc",
    });
    assert.equal(a["alb.ingress.kubernetes.io/auth-on-unauthenticated-request"], "authenticate");
    assert.equal(a["alb.ingress.kubernetes.io/auth-scope"], "openid");
    // The client: a Secrets Manager secret (id from config, secret from secret config), synced.
    const version = run.get(
      "aws:secretsmanager/secretVersion:SecretVersion",
      "llmplatform-dev-edge-grafana-oidc",
    );
    assert.deepEqual(JSON.parse(version.inputs.secretString), {
      clientID: oidc.clientId,
      clientSecret: fakeSecret("llm-platform:grafanaOidcClientSecret"),
    });
    assert.deepEqual(version.secretPaths, ["secretString"]);
    const es = run.get(
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "llmplatform-dev-edge-grafana-oidc",
    ).inputs;
    assert.deepEqual(
      [es.metadata.namespace, es.spec.target.name],
      ["observability", "grafana-oidc"],
    );
    // The controller may read exactly that Secret, in Grafana's namespace.
    const role = run.get(`${RB}:Role`, "llmplatform-dev-edge-grafana-oidc-reader").inputs;
    assert.equal(role.metadata.namespace, "observability");
    assert.deepEqual(role.rules, [
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["grafana-oidc"],
        verbs: ["get", "list", "watch"],
      },
    ]);
    const binding = run.get(`${RB}:RoleBinding`, "llmplatform-dev-edge-grafana-oidc-reader").inputs;
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", namespace: "kube-system", name: "aws-load-balancer-controller" },
    ]);
    assert.ok(gf.dependsOn.some((d) => d.endsWith("::llmplatform-dev-edge-grafana-oidc")));
  });
});

describe("edge: with an ACM certificate and no zone (HTTPS), Cognito and an allow-list for Grafana", () => {
  let run: Awaited<ReturnType<typeof runProgram>>;
  const allowed = ["198.51.100.0/24"];
  before(async () => {
    run = await runProgram(
      "dev",
      withEdge("dev", {
        ...hosts,
        certificateArn: certArn("dev"),
        grafana: { auth: { cognito: cognito("dev") }, allowedCidrs: allowed },
        allowAnonymousFromAnywhere: ["gateway"],
      }),
    );
  });

  it("uses the configured certificate and lists the CNAMEs to create", () => {
    assert.equal(run.error, undefined);
    assert.deepEqual(run.ofType("aws:route53/record:Record"), []);
    assert.deepEqual(run.ofType("aws:acm/certificate:Certificate"), []);
    assert.equal(
      run.get(ING, "platform-ingress").inputs.metadata.annotations[
        "alb.ingress.kubernetes.io/certificate-arn"
      ],
      certArn("dev"),
    );
    assert.deepEqual(run.outputs.dnsRecords, [
      { name: "api.example.org", type: "CNAME", value: alb("dev") },
      { name: "grafana.example.org", type: "CNAME", value: alb("dev") },
    ]);
    assert.equal(run.outputs.gatewayUrl, "https://api.example.org");
  });

  it("puts a Cognito login in front of Grafana, and lets only its allowed networks reach it (WAF)", () => {
    const a = run.get(ING, "grafana-ingress").inputs.metadata.annotations;
    assert.equal(a["alb.ingress.kubernetes.io/auth-type"], "cognito");
    const pool = cognito("dev");
    assert.deepEqual(JSON.parse(a["alb.ingress.kubernetes.io/auth-idp-cognito"]), {
      userPoolARN: pool.userPoolArn,
      userPoolClientID: pool.userPoolClientId,
      userPoolDomain: pool.userPoolDomain,
    });
    // One HTTPS listener for both hosts: the allow-list cannot be the listener's, it is the WAF's.
    assert.equal(a["alb.ingress.kubernetes.io/inbound-cidrs"], "0.0.0.0/0");
    const ipSet = run.get("aws:wafv2/ipSet:IpSet", "llmplatform-dev-edge-grafana-allowed").inputs;
    assert.deepEqual([ipSet.scope, ipSet.addresses], ["REGIONAL", allowed]);
    const rules = run.get("aws:wafv2/webAcl:WebAcl", "llmplatform-dev-edge-web-acl").inputs.rules;
    assert.ok(rules.some((r: any) => r.name === "allowed-networks-or-gateway-only"));
    assert.equal(
      run.ofType("aws:secretsmanager/secret:Secret").filter((x) => x.name.includes("oidc")).length,
      0,
    );
  });
});

describe("edge: without a domain (plain HTTP on the ALB's DNS name)", () => {
  it("serves the gateway on :80 and Grafana on :3000 of one ALB, host-less, and outputs those URLs", async () => {
    const run = await runProgram(
      "prod",
      withEdge("prod", {
        allowHttpWithoutTls: true,
        grafana: { allowedCidrs: ["198.51.100.0/24"] },
        allowAnonymousFromAnywhere: ["gateway"],
      }),
    );
    assert.equal(run.error, undefined);
    // Without TLS Grafana has a listener of its own: its allow-list is that listener's CIDRs.
    assert.equal(
      run.get(ING, "grafana-ingress").inputs.metadata.annotations[
        "alb.ingress.kubernetes.io/inbound-cidrs"
      ],
      "198.51.100.0/24",
    );
    assert.equal(
      run.get(ING, "platform-ingress").inputs.metadata.annotations[
        "alb.ingress.kubernetes.io/inbound-cidrs"
      ],
      "0.0.0.0/0",
    );
    assert.deepEqual(run.ofType("aws:acm/certificate:Certificate"), []);
    assert.deepEqual(run.ofType("aws:acm/certificateValidation:CertificateValidation"), []);
    assert.deepEqual(run.ofType("aws:route53/record:Record"), []);
    const ports: Record<string, string> = {
      "platform-ingress": '[{"HTTP":80}]',
      "grafana-ingress": '[{"HTTP":3000}]',
    };
    for (const [name, listen] of Object.entries(ports)) {
      const ing = run.get(ING, name).inputs;
      assert.equal(ing.spec.tls, undefined, name);
      assert.equal(ing.spec.rules[0].host, undefined, name);
      assert.equal(ing.spec.rules[0].http.paths[0].path, "/");
      const a = ing.metadata.annotations;
      assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], listen);
      assert.equal(a["alb.ingress.kubernetes.io/group.name"], "llmplatform-prod");
      for (const tlsOnly of ["certificate-arn", "ssl-policy", "ssl-redirect"])
        assert.equal(a[`alb.ingress.kubernetes.io/${tlsOnly}`], undefined, `${name} ${tlsOnly}`);
    }
    assert.deepEqual(
      [run.outputs.gatewayUrl, run.outputs.grafanaUrl, run.outputs.dnsRecords],
      [`http://${alb("prod")}`, `http://${alb("prod")}:3000`, []],
    );
    const ini = run.get(R, "grafana").inputs.values["grafana.ini"];
    assert.deepEqual(
      [ini.server.root_url, ini.security.cookie_secure],
      [`http://${alb("prod")}:3000`, false],
    );
  });

  it("is how the committed dev stack runs: no zone, no certificate, HTTP URLs", async () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    const e = raw["llm-platform:edge"];
    assert.deepEqual(
      [e.hostedZone, e.certificateArn, e.allowHttpWithoutTls],
      [undefined, undefined, true],
    );
    const run = await runStack("dev");
    assert.match(run.outputs.gatewayUrl, /^http:\/\//);
    assert.match(run.outputs.grafanaUrl, /^http:\/\//);
  });
});

describe("edge: bad input", () => {
  function problems(edit: (e: Record<string, any>) => void): string[] {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    edit(raw["llm-platform:edge"]);
    try {
      parseConfig(raw, "prod");
    } catch (e) {
      return (e as ConfigError).problems;
    }
    return [];
  }

  it("rejects prod without TLS unless plain HTTP is explicitly allowed", () => {
    assert.deepEqual(
      problems((e) => delete e.hostedZone),
      [
        "llm-platform:edge.certificateArn: required unless hostedZone is set (the program then issues and validates the certificate itself); or set allowHttpWithoutTls: true to serve plain HTTP on the load balancer's DNS name, without a domain",
      ],
    );
  });

  it("rejects hosts without TLS, and plain HTTP with TLS", () => {
    assert.deepEqual(
      problems((e) => {
        delete e.hostedZone;
        e.allowHttpWithoutTls = true;
      }),
      [
        "llm-platform:edge.gatewayHost: expected no host without TLS: plain HTTP is served on the load balancer's DNS name",
        "llm-platform:edge.grafanaHost: expected no host without TLS: plain HTTP is served on the load balancer's DNS name",
      ],
    );
    assert.deepEqual(
      problems((e) => (e.allowHttpWithoutTls = true)),
      [
        "llm-platform:edge.allowHttpWithoutTls: expected false: TLS is configured (hostedZone or certificateArn)",
      ],
    );
  });

  it("requires both hosts with TLS", () => {
    assert.deepEqual(
      problems((e) => delete e.gatewayHost),
      [
        "llm-platform:edge.gatewayHost: required with TLS (hostedZone or certificateArn): the public host name",
      ],
    );
  });

  it("rejects a host that is not a DNS name", () => {
    assert.ok(
      problems((e) => (e.gatewayHost = "api_llmplatform")).includes(
        "llm-platform:edge.gatewayHost: expected a lower-case DNS name such as api.llmplatform.dev",
      ),
    );
  });

  it("rejects a host outside the hosted zone", () => {
    assert.deepEqual(
      problems((e) => (e.grafanaHost = "grafana.example.com")),
      ["llm-platform:edge.grafanaHost: expected a name inside the hosted zone llmplatform.dev"],
    );
  });

  it("rejects a malformed certificate ARN", () => {
    assert.deepEqual(
      problems((e) => (e.certificateArn = "arn:aws:acm:us-west-2:1234:cert/x")),
      ["llm-platform:edge.certificateArn: expected an ACM certificate ARN"],
    );
  });

  it("stops the program before any resource", async () => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    raw["llm-platform:edge"].gatewayHost = "not a host";
    const run = await runProgram("prod", raw);
    assert.ok(run.error instanceof ConfigError);
    assert.deepEqual(run.resources, []);
  });
});
