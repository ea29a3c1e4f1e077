import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PolicyStatement } from "../components/aws/iam";
import { loadBalancerControllerPolicy } from "../components/aws/loadBalancerControllerPolicy";
import { ConfigError, parseConfig } from "../components/config";
import { albAnnotations, healthCheck } from "../components/edge";
import { cloneStackConfig, repoRoot, runProgram, runStack, stacks, testAccountId } from "./harness";

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
  before(function () {
    if (!reference) {
      console.log(
        `    upstream policy not found at ${referencePath}: comparison skipped (put the controller's docs/install/iam_policy.json there to run it)`,
      );
      this.skip();
    }
  });

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
  const edge = parseConfig(cloneStackConfig("prod"), "prod").edge;

  it("renders the design's listener, TLS and health-check settings", () => {
    const a = albAnnotations({
      group: "llmplatform-prod",
      order: 10,
      certificateArn:
        "arn:aws:acm:us-west-2:111122223333:certificate/00000000-0000-4000-8000-000000000001",
      httpRedirect: true,
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
      "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
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

  it("adds the WAF ACL when configured", () => {
    const waf =
      "arn:aws:wafv2:us-west-2:111122223333:regional/webacl/edge/00000000-0000-4000-8000-000000000002";
    const a = albAnnotations({
      group: "g",
      order: 1,
      certificateArn: "c",
      httpRedirect: false,
      health: healthCheck("/"),
      edge: { ...edge, wafAclArn: waf },
      tags: {},
    });
    assert.equal(a["alb.ingress.kubernetes.io/wafv2-acl-arn"], waf);
    assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], '[{"HTTPS":443}]');
    assert.equal(a["alb.ingress.kubernetes.io/ssl-redirect"], undefined);
  });
});

for (const stack of stacks) {
  describe(`edge (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;
    const sub = stack === "dev" ? "dev." : "";
    const ING = "kubernetes:networking.k8s.io/v1:Ingress";

    it("installs the controller (2 replicas, CPU nodes) with cluster, region and VPC set and its IRSA role", async () => {
      const run = await runStack(stack);
      const r = run.get("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller").inputs;
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
      assert.equal(r.values.region, "us-west-2");
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

    it("routes the gateway host to gateway:80 with HTTP redirected to HTTPS", async () => {
      const run = await runStack(stack);
      const ing = run.get(ING, "platform-ingress").inputs;
      assert.equal(ing.metadata.namespace, "platform");
      assert.equal(ing.spec.ingressClassName, "alb");
      assert.equal(
        ing.metadata.annotations["kubernetes.io/ingress.class"],
        undefined,
        "no deprecated class annotation",
      );
      assert.deepEqual(ing.spec.tls, [{ hosts: [`api.${sub}llmplatform.dev`] }]);
      assert.deepEqual(ing.spec.rules, [
        {
          host: `api.${sub}llmplatform.dev`,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "gateway", port: { number: 80 } } },
              },
            ],
          },
        },
      ]);
      const a = ing.metadata.annotations;
      assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], '[{"HTTP":80},{"HTTPS":443}]');
      assert.equal(a["alb.ingress.kubernetes.io/ssl-redirect"], "443");
      assert.equal(a["alb.ingress.kubernetes.io/healthcheck-path"], "/health");
      assert.equal(
        a["alb.ingress.kubernetes.io/certificate-arn"],
        `arn:aws:acm:us-west-2:${testAccountId}:certificate/00000000-0000-4000-8000-000000000001`,
      );
    });

    it("routes the Grafana host to grafana:3000, HTTPS only, on the same ALB", async () => {
      const run = await runStack(stack);
      const ing = run.get(ING, "grafana-ingress").inputs;
      const gw = run.get(ING, "platform-ingress").inputs;
      assert.equal(ing.metadata.namespace, "observability");
      assert.deepEqual(ing.spec.rules[0].http.paths[0].backend, {
        service: { name: "grafana", port: { number: 3000 } },
      });
      assert.equal(ing.spec.rules[0].host, `grafana.${sub}llmplatform.dev`);
      const a = ing.metadata.annotations;
      assert.equal(a["alb.ingress.kubernetes.io/listen-ports"], '[{"HTTPS":443}]');
      assert.equal(a["alb.ingress.kubernetes.io/healthcheck-path"], "/api/health");
      assert.equal(a["alb.ingress.kubernetes.io/group.name"], prefix);
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
          a[`alb.ingress.kubernetes.io/${shared}`],
          gw.metadata.annotations[`alb.ingress.kubernetes.io/${shared}`],
          shared,
        );
      }
    });

    it(
      stack === "prod"
        ? "logs ALB access to an SSE-S3 bucket the ELB account may write, and protects the ALB"
        : "has no access logs in dev",
      async () => {
        const run = await runStack(stack);
        const attrs = run.get(ING, "platform-ingress").inputs.metadata.annotations[
          "alb.ingress.kubernetes.io/load-balancer-attributes"
        ];
        if (stack === "dev") {
          assert.equal(
            attrs,
            "routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=false",
          );
          return;
        }
        const bucket = `${prefix}-alb-logs`;
        assert.equal(
          attrs,
          `routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=true,access_logs.s3.enabled=true,access_logs.s3.bucket=${bucket}-20261123,access_logs.s3.prefix=alb`,
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
          90,
        );
        const policy = JSON.parse(
          run.get("aws:s3/bucketPolicy:BucketPolicy", bucket).inputs.policy,
        );
        assert.deepEqual(policy.Statement[0], {
          Sid: "AlbAccessLogDelivery",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::797873946194:root" },
          Action: "s3:PutObject",
          Resource: `arn:aws:s3:::${bucket}-20261123/alb/AWSLogs/${testAccountId}/*`,
        });
      },
    );

    it("issues a DNS-validated certificate for both hosts and points both at the ALB", async () => {
      const run = await runStack(stack);
      const cert = run.get("aws:acm/certificate:Certificate", `${prefix}-edge-cert`).inputs;
      assert.deepEqual(
        [cert.domainName, cert.subjectAlternativeNames, cert.validationMethod],
        [`api.${sub}llmplatform.dev`, [`grafana.${sub}llmplatform.dev`], "DNS"],
      );
      const records = run.ofType("aws:route53/record:Record");
      const aliases = records.filter((r) => r.inputs.type === "A");
      assert.deepEqual(aliases.map((r) => r.inputs.name).sort(), [
        `api.${sub}llmplatform.dev`,
        `grafana.${sub}llmplatform.dev`,
      ]);
      for (const r of aliases) {
        assert.equal(r.inputs.zoneId, "Z0MOCKZONE00000001");
        assert.deepEqual(r.inputs.aliases, [
          {
            name: "k8s-llmplatform-0123456789.us-west-2.elb.amazonaws.com",
            zoneId: "Z1H1FL5HABSF5",
            evaluateTargetHealth: true,
          },
        ]);
      }
      assert.equal(
        records.filter((r) => r.inputs.type === "CNAME").length,
        2,
        "one validation record per host",
      );
      assert.deepEqual(run.outputs.dnsRecords, []);
    });

    it("orders every Ingress after the controller (so destroy removes the ALB before the controller)", async () => {
      const run = await runStack(stack);
      const controller = "kubernetes:helm.sh/v3:Release::aws-load-balancer-controller";
      assert.deepEqual(run.get(ING, "platform-ingress").dependsOn, [controller]);
      // Grafana's Service comes from its chart: the Ingress also waits for that release.
      assert.deepEqual(run.get(ING, "grafana-ingress").dependsOn, [
        controller,
        "kubernetes:helm.sh/v3:Release::grafana",
      ]);
      assert.ok(
        run
          .get("kubernetes:apps/v1:Deployment", "gateway")
          .dependsOn.includes("kubernetes:helm.sh/v3:Release::aws-load-balancer-controller"),
      );
      assert.ok(
        !run
          .get("kubernetes:apps/v1:Deployment", "quant-api")
          .dependsOn.includes("kubernetes:helm.sh/v3:Release::aws-load-balancer-controller"),
      );
    });

    it("exports the ALB hostname and the public URLs", async () => {
      const run = await runStack(stack);
      assert.equal(
        run.outputs.albHostname,
        "k8s-llmplatform-0123456789.us-west-2.elb.amazonaws.com",
      );
      assert.equal(run.outputs.gatewayUrl, `https://api.${sub}llmplatform.dev`);
      assert.equal(run.outputs.grafanaUrl, `https://grafana.${sub}llmplatform.dev`);
    });
  });
}

describe("edge: without a Route 53 zone", () => {
  it("uses the configured certificate and lists the CNAMEs to create", async () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    delete raw["llm-platform:edge"].hostedZone;
    raw["llm-platform:edge"].certificateArn =
      "arn:aws:acm:us-west-2:111122223333:certificate/00000000-0000-4000-8000-00000000000a";
    const run = await runProgram("dev", raw);
    assert.equal(run.error, undefined);
    assert.deepEqual(run.ofType("aws:route53/record:Record"), []);
    assert.deepEqual(run.ofType("aws:acm/certificate:Certificate"), []);
    assert.equal(
      run.get("kubernetes:networking.k8s.io/v1:Ingress", "platform-ingress").inputs.metadata
        .annotations["alb.ingress.kubernetes.io/certificate-arn"],
      "arn:aws:acm:us-west-2:111122223333:certificate/00000000-0000-4000-8000-00000000000a",
    );
    assert.deepEqual(run.outputs.dnsRecords, [
      {
        name: "api.dev.llmplatform.dev",
        type: "CNAME",
        value: "k8s-llmplatform-0123456789.us-west-2.elb.amazonaws.com",
      },
      {
        name: "grafana.dev.llmplatform.dev",
        type: "CNAME",
        value: "k8s-llmplatform-0123456789.us-west-2.elb.amazonaws.com",
      },
    ]);
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

  it("rejects a stack with neither a certificate ARN nor a zone to issue one in", () => {
    assert.deepEqual(
      problems((e) => delete e.hostedZone),
      [
        "llm-platform:edge.certificateArn: required unless hostedZone is set (the program then issues and validates the certificate itself)",
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
