import * as assert from "node:assert/strict";
import { parseConfig } from "../../components/config/platformConfig";
import { scaledObjectSpec, vllmSignals } from "../../components/models/autoscaling";
import { kedaPolicies, kedaValues } from "../../components/addons/keda";
import { charts } from "../../components/platform/versions";
import { cloneStackConfig, runStack, stacks } from "../../verify/program";
import { prometheusEndpoints } from "../../components/observability/prometheus";

const SO = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const variants = ["baseline", "awq", "lora", "judge"] as const;

describe("model autoscaling: pure parts", () => {
  it("reads vLLM's own queue and KV-cache metrics of one variant", () => {
    assert.deepEqual(vllmSignals("awq"), {
      requestsWaiting: 'sum(vllm:num_requests_waiting{namespace="llm-baseline",app="vllm-awq"})',
      kvCacheUsage: 'sum(vllm:kv_cache_usage_perc{namespace="llm-baseline",app="vllm-awq"})',
    });
  });

  it("turns a variant's autoscaling config into KEDA triggers on in-cluster Prometheus", () => {
    const spec = scaledObjectSpec(
      "baseline",
      {
        minReplicas: 0,
        maxReplicas: 3,
        requestsWaitingPerReplica: 5,
        kvCacheUsage: 0.75,
        idleMinutes: 20,
        workingHours: { timezone: "Europe/Berlin", start: "0 8 * * 1-5", end: "0 18 * * 1-5" },
      },
      prometheusEndpoints().url,
    );
    assert.deepEqual(spec.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "vllm-baseline",
    });
    assert.equal(spec.minReplicaCount, 0);
    assert.equal(spec.maxReplicaCount, 3);
    assert.equal(spec.cooldownPeriod, 1200, "idle minutes before scaling to zero");
    assert.deepEqual(
      spec.triggers.map((t) => [t.type, t.name, t.metadata]),
      [
        [
          "prometheus",
          "requests-waiting",
          {
            serverAddress: "http://kps-prometheus.observability.svc.cluster.local:9090",
            query: vllmSignals("baseline").requestsWaiting,
            threshold: "5",
            activationThreshold: "0",
          },
        ],
        [
          "prometheus",
          "kv-cache-usage",
          {
            serverAddress: "http://kps-prometheus.observability.svc.cluster.local:9090",
            query: vllmSignals("baseline").kvCacheUsage,
            threshold: "0.75",
            activationThreshold: "0",
          },
        ],
        [
          "cron",
          "working-hours",
          {
            timezone: "Europe/Berlin",
            start: "0 8 * * 1-5",
            end: "0 18 * * 1-5",
            desiredReplicas: "1",
          },
        ],
      ],
    );
    // A GPU replica is a new node and a cold start: add fast, give back slowly.
    const behavior = spec.advanced.horizontalPodAutoscalerConfig.behavior;
    assert.ok(
      behavior.scaleDown.stabilizationWindowSeconds > behavior.scaleUp.stabilizationWindowSeconds,
    );
  });

  it("runs KEDA on CPU nodes, watching only llm-baseline, restricted, with no Secret access", () => {
    const v = kedaValues();
    assert.equal(v.watchNamespace, "llm-baseline");
    assert.deepEqual(v.nodeSelector, { workload: "cpu" });
    for (const c of ["operator", "metricServer", "webhooks"] as const) {
      assert.ok(v.resources[c].requests && v.resources[c].limits);
      assert.equal(v.securityContext[c].readOnlyRootFilesystem, true);
      assert.deepEqual(v.securityContext[c].capabilities, { drop: ["ALL"] });
    }
    // Secrets of its own namespace only, and no `get` on every resource for custom scale targets.
    assert.equal(v.permissions.operator.restrict.secret, true);
    assert.equal(v.rbac.enabledCustomScaledRefKinds, false);
    assert.equal(charts.keda.version, "2.20.2");
  });

  it("opens only KEDA's own flows (its namespace denies everything else)", () => {
    const byName = Object.fromEntries(
      kedaPolicies("10.0.0.0/16", "172.20.0.0/16", prometheusEndpoints().port).map((p) => [
        p.name,
        p.spec,
      ]),
    );
    const ports = (spec: any, dir: "ingress" | "egress") =>
      spec[dir][0].ports.map((p: any) => p.port);
    assert.deepEqual(ports(byName["allow-control-plane-to-metrics-api"], "ingress"), [6443]);
    assert.deepEqual(ports(byName["allow-control-plane-to-webhooks"], "ingress"), [9443]);
    assert.deepEqual(ports(byName["allow-metrics-api-to-operator"], "ingress"), [9666]);
    assert.deepEqual(ports(byName["allow-operator-to-prometheus"], "egress"), [9090]);
    assert.deepEqual((byName["allow-operator-to-prometheus"] as any).egress[0].to, [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
      },
    ]);
  });
});

for (const stack of stacks) {
  describe(`model autoscaling (${stack})`, () => {
    it("installs the pinned KEDA chart in its own namespace once the CPU nodes exist", async () => {
      const run = await runStack(stack);
      const release = run.get("kubernetes:helm.sh/v3:Release", "keda");
      assert.equal(release.inputs.chart, "keda");
      assert.equal(release.inputs.version, charts.keda.version);
      assert.equal(release.inputs.repositoryOpts.repo, "https://kedacore.github.io/charts");
      assert.equal(release.inputs.namespace, "keda");
      assert.equal(release.dependsOn.length, 1);
      assert.match(release.dependsOn[0]!, /NodeGroup::.*cpu/);
      assert.equal(
        run.get("kubernetes:core/v1:Namespace", "keda-namespace").inputs.metadata.labels[
          "pod-security.kubernetes.io/enforce"
        ],
        "restricted",
      );
    });

    it("gives each variant a ScaledObject that waits for KEDA and its Deployment, and no HPA of its own", async () => {
      const run = await runStack(stack);
      const models = parseConfig(cloneStackConfig(stack), stack).models.variants;
      for (const v of variants) {
        const so = run.get(SO, `vllm-${v}-scaler`);
        assert.equal(so.inputs.metadata.namespace, "llm-baseline");
        assert.deepEqual(
          so.inputs.spec,
          scaledObjectSpec(v, models[v]!.autoscaling!, prometheusEndpoints().url),
        );
        assert.deepEqual(so.dependsOn, [
          "kubernetes:helm.sh/v3:Release::keda",
          `kubernetes:apps/v1:Deployment::vllm-${v}`,
        ]);
      }
      assert.deepEqual(
        run
          .ofType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
          .filter((h) => h.inputs.metadata.namespace === "llm-baseline"),
        [],
      );
    });

    it("scales on queue depth and KV-cache pressure; variants with min 0 can hold no GPU", async () => {
      const run = await runStack(stack);
      const models = parseConfig(cloneStackConfig(stack), stack).models.variants;
      for (const v of variants) {
        const spec = run.get(SO, `vllm-${v}-scaler`).inputs.spec;
        const a = models[v]!.autoscaling!;
        assert.deepEqual(
          spec.triggers.slice(0, 2).map((t: any) => [t.name, t.metadata.threshold]),
          [
            ["requests-waiting", String(a.requestsWaitingPerReplica)],
            ["kv-cache-usage", String(a.kvCacheUsage)],
          ],
        );
        if (a.minReplicas === 0) {
          assert.equal(spec.minReplicaCount, 0);
          assert.equal(spec.cooldownPeriod, a.idleMinutes * 60);
        }
        assert.equal(
          spec.triggers.some((t: any) => t.type === "cron"),
          a.workingHours !== undefined,
        );
      }
    });

    it("lets Prometheus answer the KEDA operator's queries", async () => {
      const run = await runStack(stack);
      const np = run.get(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "observability-allow-keda-operator-to-prometheus-9090",
      ).inputs;
      assert.equal(np.metadata.namespace, "observability");
      assert.deepEqual(np.spec.ingress[0].from, [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } },
          podSelector: { matchLabels: { app: "keda-operator" } },
        },
      ]);
    });
  });
}

describe("model autoscaling: the dev stack idles without a GPU", () => {
  it("lets every dev variant scale to zero", () => {
    const dev = parseConfig(cloneStackConfig("dev"), "dev").models.variants;
    for (const v of variants) assert.equal(dev[v]?.autoscaling?.minReplicas, 0, v);
  });
});
