/**
 * Secrets come from AWS Secrets Manager through the External Secrets Operator: the program writes no
 * secret value into Kubernetes, every ExternalSecret reads a key the program's store holds, the
 * operator's AWS role reads only the stack's secrets, and (on the rendered charts, where cached) no
 * add-on can read Secrets beyond its own.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  clusterSecretStoreSpec,
  externalSecretsPolicy,
  externalSecretsValues,
  secretConsumers,
} from "../../components/addons/externalSecrets";
import { ConfigError, parseConfig } from "../../components/config/platformConfig";
import { registry } from "../../components/platform/registry";
import { charts } from "../../components/platform/versions";
import { chartPackagePath } from "../../verify/charts";
import {
  cloneStackConfig,
  fakeSecret,
  mockResourceArn,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
  type StackName,
} from "../../verify/program";
import { boundRules, secretReads } from "../../verify/rbac";
import { renderedObjects } from "../../verify/stack";

const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const CSS = "kubernetes:external-secrets.io/v1:ClusterSecretStore";
const SM = "aws:secretsmanager/secret:Secret";
const SMV = "aws:secretsmanager/secretVersion:SecretVersion";

describe("external secrets: pure parts", () => {
  it("lets the controller read only the stack's secrets, and decrypt them only with the stack's key through Secrets Manager", () => {
    const secrets = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:llm-x/*";
    assert.deepEqual(
      externalSecretsPolicy("aws", "eu-west-1", "111122223333", "llm-x", "arn:aws:kms:k"),
      {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ReadThisStacksSecrets",
            Effect: "Allow",
            Action: "secretsmanager:GetSecretValue",
            Resource: secrets,
          },
          {
            Sid: "DecryptThemWithTheStackKey",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: "arn:aws:kms:k",
            Condition: {
              StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" },
              StringLike: { "kms:EncryptionContext:SecretARN": secrets },
            },
          },
        ],
      },
    );
  });

  it("serves a namespace from a store that prefixes every key with its folder and admits that namespace only", () => {
    assert.deepEqual(clusterSecretStoreSpec("eu-west-1", "llm-x", "platform"), {
      provider: {
        aws: { service: "SecretsManager", region: "eu-west-1", prefix: "llm-x/platform/" },
      },
      conditions: [{ namespaces: ["platform"] }],
    });
    // Every workload namespace has one; the add-ons' own namespaces hold no synced secrets.
    for (const ns of secretConsumers()) assert.notEqual(registry.namespaces[ns]!.tier, "addons");
  });

  it("runs the controller alone: no webhook or cert-controller, no token creation, no namespaced stores or push", () => {
    const v = externalSecretsValues("arn:aws:iam::111122223333:role/r");
    assert.deepEqual([v.webhook.create, v.certController.create], [false, false]);
    assert.equal(v.rbac.serviceAccountTokenCreate, false);
    assert.deepEqual(
      [v.rbac.aggregateToView, v.rbac.aggregateToEdit, v.rbac.aggregateToAdmin],
      [false, false, false],
    );
    // A namespaced store would lend the controller's role: no CRD, no reconciler, flood gate on.
    assert.deepEqual(
      [v.crds.createSecretStore, v.processSecretStore, v.extraArgs["enable-flood-gate"]],
      [false, false, true],
    );
    assert.deepEqual(
      [v.processPushSecret, v.processClusterPushSecret, v.processClusterExternalSecret],
      [false, false, false],
    );
    assert.deepEqual(v.serviceAccount, {
      create: true,
      name: "external-secrets",
      annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/r" },
    });
    assert.equal(v.securityContext.allowPrivilegeEscalation, false);
    assert.equal(v.securityContext.runAsNonRoot, true);
  });
});

describe("secrets config", () => {
  const problems = (edit: (raw: Record<string, any>) => void) => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    edit(raw);
    try {
      parseConfig(raw, "prod");
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };

  it("takes a refresh interval above zero and a recovery window of 0 or 7-30 days", () => {
    assert.deepEqual(stackConfig("prod").secrets, {
      refreshInterval: "1h",
      recoveryWindowDays: 30,
    });
    assert.deepEqual(
      problems((r) => (r["llm-platform:secrets"] = { refreshInterval: "0s" })),
      [
        "llm-platform:secrets.refreshInterval: expected a duration above zero such as 15m, 1h or 1h30m",
      ],
    );
    assert.deepEqual(
      problems((r) => (r["llm-platform:secrets"] = { recoveryWindowDays: 3 })),
      ["llm-platform:secrets.recoveryWindowDays: expected 0 (delete at once) or 7 to 30 days"],
    );
    assert.deepEqual(
      problems(
        (r) => (r["llm-platform:secrets"] = { refreshInterval: "15m", recoveryWindowDays: 0 }),
      ),
      [],
    );
  });

  it("wants Grafana's OIDC client secret exactly when Grafana's login is OIDC", () => {
    assert.deepEqual(
      problems((r) => (r["llm-platform:grafanaOidcClientSecret"] = "s3cret")),
      [
        "llm-platform:grafanaOidcClientSecret: expected only with edge.grafana.auth.oidc (nothing reads it otherwise)",
      ],
    );
    const oidc = {
      issuer: "https://idp.example.org",
      authorizationEndpoint: "https://idp.example.org/authorize",
      tokenEndpoint: "https://idp.example.org/token",
      userInfoEndpoint: "https://idp.example.org/userinfo",
      clientId: "grafana",
    };
    assert.deepEqual(
      problems((r) => (r["llm-platform:edge"].grafana = { auth: { oidc } })),
      [
        "llm-platform:grafanaOidcClientSecret: required with edge.grafana.auth.oidc: pulumi config set --secret llm-platform:grafanaOidcClientSecret <the app client's secret>",
      ],
    );
  });
});

/** The secret values the harness feeds a run (fakes of secret config, mock-generated passwords). */
const secretValues = [
  fakeSecret("llm-platform:hfToken"),
  fakeSecret("llm-platform:alertWebhookUrl"),
  "mock-generated-password",
];

for (const stack of stacks) {
  describe(`external secrets (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;

    it("installs ESO in its own restricted namespace, with the controller's IRSA role, after the CPU nodes", async () => {
      const run = await runStack(stack);
      const r = run.get("kubernetes:helm.sh/v3:Release", "external-secrets");
      assert.deepEqual(
        [r.inputs.chart, r.inputs.version, r.inputs.repositoryOpts.repo, r.inputs.namespace],
        [charts.externalSecrets.chart, "2.9.0", charts.externalSecrets.repo, "external-secrets"],
      );
      assert.equal(
        r.inputs.values.serviceAccount.annotations["eks.amazonaws.com/role-arn"],
        `arn:aws:iam::${testAccountId}:role/${prefix}-external-secrets-irsa`,
      );
      assert.ok(r.dependsOn.some((d) => /NodeGroup::.*cpu/.test(d)));
      assert.equal(
        run.get("kubernetes:core/v1:Namespace", "external-secrets-namespace").inputs.metadata
          .labels["pod-security.kubernetes.io/enforce"],
        "restricted",
      );
      const policy = JSON.parse(
        run.get(
          "aws:iam/rolePolicy:RolePolicy",
          `${prefix}-external-secrets-controller-read-stack-secrets`,
        ).inputs.policy,
      );
      const key = run.get("aws:kms/key:Key", `${prefix}-external-secrets-key`);
      assert.deepEqual(
        policy,
        externalSecretsPolicy(
          "aws",
          stackConfig(stack).region,
          testAccountId,
          prefix,
          mockArn(stack, key),
        ),
      );
    });

    it("creates no Kubernetes Secret, and writes no secret value into any Kubernetes object or chart value", async () => {
      const run = await runStack(stack);
      assert.deepEqual(run.ofType("kubernetes:core/v1:Secret"), []);
      for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
        assert.deepEqual(r.secretPaths, [], `${r.type} ${r.name} carries a secret`);
        const text = JSON.stringify(r.inputs);
        for (const v of secretValues) assert.ok(!text.includes(v), `${r.type} ${r.name}`);
      }
    });

    it("gives every ExternalSecret a key the program's store holds: its store admits it and prefixes the key to a secret the program writes", async () => {
      const run = await runStack(stack);
      const config = stackConfig(stack);
      const externalSecrets = run.ofType(ES);
      assert.ok(externalSecrets.length > 0);
      const keyArn = mockArn(stack, run.get("aws:kms/key:Key", `${prefix}-external-secrets-key`));
      for (const es of externalSecrets) {
        const ns = es.inputs.metadata.namespace;
        const store = run
          .ofType(CSS)
          .find((s) => s.inputs.metadata.name === es.inputs.spec.secretStoreRef.name);
        assert.ok(store, `${es.name}: its ClusterSecretStore exists`);
        assert.equal(es.inputs.spec.secretStoreRef.kind, "ClusterSecretStore");
        assert.deepEqual(store.inputs.spec.conditions, [{ namespaces: [ns] }], es.name);
        const prefixOf = store.inputs.spec.provider.aws.prefix as string;
        assert.ok(prefixOf.startsWith(`${prefix}/`), "inside the folder the role may read");
        const refs: { key: string; json: boolean }[] = [
          ...(es.inputs.spec.data ?? []).map((d: any) => ({
            key: d.remoteRef.key,
            json: d.remoteRef.property !== undefined,
          })),
          ...(es.inputs.spec.dataFrom ?? []).map((d: any) => ({ key: d.extract.key, json: true })),
        ];
        assert.ok(refs.length > 0, es.name);
        for (const ref of refs) {
          const secret = run.ofType(SM).find((s) => s.inputs.name === prefixOf + ref.key);
          assert.ok(secret, `${es.name}: ${prefixOf}${ref.key} is a secret of the program`);
          assert.equal(secret.inputs.kmsKeyId, keyArn, "encrypted with the stack's key");
          assert.equal(secret.inputs.recoveryWindowInDays, config.secrets.recoveryWindowDays);
          const value = run.ofType(SMV).find((v) => v.name === secret.name)!.inputs.secretString;
          if (ref.json) assert.equal(typeof JSON.parse(value), "object", `${es.name} is JSON`);
        }
        assert.equal(es.inputs.spec.refreshInterval, config.secrets.refreshInterval);
        // The value exists before the operator first reads it, and the operator before that.
        assert.ok(es.dependsOn.includes(`kubernetes:helm.sh/v3:Release::external-secrets`));
        assert.ok(es.dependsOn.includes(`${SMV}::${es.name}`));
      }
    });

    it("syncs each consumer's secrets into the Secret names it mounts", async () => {
      const run = await runStack(stack);
      const synced = run
        .ofType(ES)
        .map((es) => `${es.inputs.metadata.namespace}/${es.inputs.spec.target.name}`)
        .sort();
      assert.deepEqual(synced, [
        "llm-baseline/hf-token",
        "observability/grafana-admin",
        "platform/api-key",
        "platform/jwt-secret",
      ]);
    });

    it("keeps two rotating KMS keys: the cluster's envelope key and the Secrets Manager key", async () => {
      const run = await runStack(stack);
      const keys = run.ofType("aws:kms/key:Key");
      assert.deepEqual(keys.map((k) => k.name).sort(), [
        `${prefix}-external-secrets-key`,
        `${prefix}-secrets`,
      ]);
      for (const k of keys) assert.equal(k.inputs.enableKeyRotation, true, k.name);
    });
  });
}

/** The ARN the mocks give a stack's KMS key, in the stack's region (verify/program.ts `mockState`). */
function mockArn(stack: StackName, key: { type: string; name: string }): string {
  return mockResourceArn(stackConfig(stack).region, key.type, key.name);
}

const cached = (pin: { chart: string; version: string }) =>
  fs.existsSync(chartPackagePath(pin.chart, pin.version));

for (const stack of stacks) {
  describe(`who may read Secrets, on the rendered charts (${stack})`, function () {
    this.timeout(120_000);

    it("KEDA reads Secrets in its own namespace only, and nothing through a `*` rule", async function () {
      if (!cached(charts.keda)) this.skip();
      const objects = await renderedObjects(await runStack(stack), ["keda"]);
      const reads = secretReads(objects).filter((r) => r.subjectNamespace === "keda");
      assert.ok(reads.length > 0, "the operator keeps its own certificates");
      for (const r of reads) assert.equal(r.scope, "keda", `${r.subject} via ${r.via}`);
      for (const { subject, rule } of boundRules(objects, "keda"))
        assert.ok(!(rule.resources ?? []).includes("*"), `${subject}: ${JSON.stringify(rule)}`);
    });

    it("ESO: only the controller reads Secrets (it writes the synced ones), and no ESO account creates tokens", async function () {
      if (!cached(charts.externalSecrets)) this.skip();
      const objects = await renderedObjects(await runStack(stack), ["external-secrets"]);
      const readers = new Set(
        secretReads(objects)
          .filter((r) => r.subjectNamespace === "external-secrets")
          .map((r) => r.subject),
      );
      assert.deepEqual([...readers], ["ServiceAccount external-secrets/external-secrets"]);
      for (const { subject, rule } of boundRules(objects, "external-secrets"))
        assert.ok(
          !(rule.resources ?? []).some((r: string) => r === "serviceaccounts/token" || r === "*"),
          `${subject}: ${JSON.stringify(rule)}`,
        );
      // Only the controller runs: no webhook, no cert-controller (whose role reads every Secret).
      const deployments = objects.filter((o) => o.kind === "Deployment");
      assert.deepEqual(
        deployments.map((o) => o.metadata.name),
        ["external-secrets"],
      );
      // A namespaced SecretStore is never used: nothing marks one Ready, and the flood gate refuses
      // stores that are not. (Its CRD is still installed: chart 2.9.0 ignores crds.createSecretStore.)
      const args: string[] = deployments[0]!.spec.template.spec.containers[0].args;
      assert.ok(args.includes("--enable-flood-gate=true"), args.join(" "));
      assert.ok(args.includes("--enable-secret-store-reconciler=false"), args.join(" "));
    });

    it("kube-state-metrics and Grafana read no Secrets", async function () {
      if (!cached(charts.kubePrometheusStack) || !cached(charts.grafana)) this.skip();
      const objects = await renderedObjects(await runStack(stack), [
        "kube-prometheus-stack",
        "grafana",
      ]);
      const readers = secretReads(objects).map((r) => r.subject);
      assert.ok(!readers.some((s) => s.includes("kube-state-metrics")), readers.join(", "));
      assert.ok(!readers.some((s) => s.includes("grafana")), readers.join(", "));
    });
  });
}
