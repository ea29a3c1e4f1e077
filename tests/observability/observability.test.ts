import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { modelNamespace, registry } from "../../components/platform/registry";
import { type Registry } from "../../components/platform/designs";
import type { PlatformConfig } from "../../components/config/platformConfig";
import { alertRulesFor, type AlertRule } from "../../components/observability/alerts";
import { dashboards } from "../../components/observability/observability";
import { lokiEndpoints } from "../../components/observability/loki";
import { mimirEndpoints } from "../../components/observability/mimir";
import { mimirHaLabels, prometheusEndpoints } from "../../components/observability/prometheus";
import { chartEndpoints, chartPrometheus, httpUrl } from "../../components/platform/chartContracts";
import { tempoEndpoints } from "../../components/observability/tempo";
import {
  grafanaDatasources,
  type DatasourceEndpoints,
} from "../../components/observability/grafana";
import { tempoMetricsProcessors } from "../../components/observability/tempo";
import { mimirComponentSizes, mimirValues } from "../../components/observability/mimir";
import { helmMaxHistory } from "../../components/lib/k8s/helm";
import {
  cloneStackConfig,
  fakeSecret,
  mockSubnetLayout,
  repoRoot,
  runProgram,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
} from "../../verify/program";

const R = "kubernetes:helm.sh/v3:Release";

/** The platform's alerts, as the alert module defines them for the registry. */
const alertRules = (reg: Registry = registry): AlertRule[] => alertRulesFor(reg);

/** What Prometheus and Alertmanager need of a rule: an expression, a duration, a severity, text. */
function assertWellFormed(r: AlertRule): void {
  assert.ok(typeof r.alert === "string" && r.alert.length > 0, JSON.stringify(r));
  assert.ok(r.expr.length > 10, r.alert);
  assert.match(r.for, /^\d+m$/, r.alert);
  assert.ok(["critical", "warning"].includes(r.labels.severity), r.alert);
  assert.ok(r.annotations.summary && r.annotations.description, r.alert);
}

/** The one rule of this name. */
function rule(name: string, reg: Registry = registry): AlertRule {
  const r = alertRules(reg).find((a) => a.alert === name);
  assert.ok(r, `no alert ${name}`);
  return r;
}

/** The values of a `label=~"a|b|c"` matcher in a PromQL expression (every occurrence agrees). */
function regexMatcher(expr: string, label: string): string[] {
  const found = [...expr.matchAll(new RegExp(`${label}=~"([^"]*)"`, "g"))].map((m) => m[1]!);
  assert.ok(found.length > 0, `no ${label}=~ matcher in ${expr}`);
  assert.equal(new Set(found).size, 1, `${label} matchers disagree in ${expr}`);
  return found[0]!.split("|");
}

/** The registry plus one team API in a namespace of its own: what adding a team looks like. */
const withNewTeam: Registry = {
  ...registry,
  namespaces: {
    ...registry.namespaces,
    "new-team": { tier: "team", team: "new-team", podSecurity: "restricted" },
  },
  services: {
    ...registry.services,
    "new-team-api": {
      namespace: "new-team",
      team: "new-team",
      component: "api",
      serviceAccount: "new-team-sa",
      configMap: "new-team-config",
      route: { key: "new-team", timeoutMs: 10_000 },
    },
  },
};

/** The namespaces the registered services run in, each once. */
const serviceNamespaces = (reg: Registry = registry) => [
  ...new Set(Object.values(reg.services).map((d) => d.namespace)),
];

describe("observability: dashboards as code", () => {
  const files = fs.readdirSync(path.join(repoRoot, "components", "observability", "dashboards"));
  const titles = (name: string) =>
    (JSON.parse(dashboards[name]!) as { panels: { title: string; targets: { expr: string }[] }[] })
      .panels;

  it("provisions every dashboard file, each valid JSON with a unique uid and a query per panel", () => {
    assert.deepEqual(
      files.map((f) => f.replace(/\.json$/, "")).sort(),
      Object.keys(dashboards).sort(),
      "every file in dashboards/ is provisioned, and only those",
    );
    const uids = files.map(
      (f) =>
        JSON.parse(
          fs.readFileSync(
            path.join(repoRoot, "components", "observability", "dashboards", f),
            "utf8",
          ),
        ).uid,
    );
    assert.ok(uids.every((u) => typeof u === "string" && u.length > 0));
    assert.equal(new Set(uids).size, files.length);
    for (const name of Object.keys(dashboards))
      for (const p of titles(name))
        assert.ok(
          p.targets.every((t) => t.expr.length > 0),
          `${name}: ${p.title}`,
        );
  });

  it("shows RED per service: rate, errors, p50/p95/p99 latency", () => {
    assert.deepEqual(
      titles("platform-red").map((p) => p.title),
      ["Request rate", "Error rate (5xx ratio)", "Latency p50 / p95 / p99"],
    );
    const latency = titles("platform-red")[2]!.targets.map((t) => t.expr);
    assert.deepEqual(
      latency.map((e) => /histogram_quantile\((0\.\d+)/.exec(e)![1]),
      ["0.50", "0.95", "0.99"],
    );
  });

  it("shows vLLM running/waiting requests, time to first token, tokens per second, KV cache and start time", () => {
    const panels = titles("vllm");
    assert.deepEqual(
      panels.map((p) => p.title),
      [
        "Requests running",
        "Requests waiting",
        "Time to first token (p50 / p95)",
        "Tokens per second (generated / prompt)",
        "KV-cache usage",
        "Start time: scheduled → Ready, per pod, against its variant's budget",
      ],
    );
    const exprs = panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const metric of [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:time_to_first_token_seconds_bucket",
      "vllm:generation_tokens_total",
      "vllm:kv_cache_usage_perc",
      "llmplatform:model_pod_start_seconds",
    ]) {
      assert.ok(exprs.includes(metric), metric);
    }
  });

  it("shows GPU utilisation, memory, temperature per node and the spot node count", () => {
    const panels = titles("gpu");
    assert.deepEqual(
      panels.map((p) => p.title),
      ["GPU utilisation", "GPU memory used", "GPU temperature per node", "Spot GPU nodes"],
    );
    const exprs = panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const metric of [
      "DCGM_FI_DEV_GPU_UTIL",
      "DCGM_FI_DEV_FB_USED",
      "DCGM_FI_DEV_GPU_TEMP",
      'label_eks_amazonaws_com_capacity_type="SPOT"',
    ])
      assert.ok(exprs.includes(metric), metric);
  });
});

describe("observability: alert rules", () => {
  it("gives every rule an expression, a duration and a severity, and defines each once", () => {
    const rules = alertRules();
    for (const r of rules) assertWellFormed(r);
    const keys = rules.map((r) => `${r.alert} ${r.expr}`);
    assert.equal(new Set(keys).size, keys.length, "no rule is defined twice");
    const names = rules.map((r) => r.alert);
    // The operations guide's alerts; more may be added.
    for (const required of [
      "ServiceHighErrorRate",
      "ServiceHighLatency",
      "ModelServerDown",
      "GpuNodeNotReady",
      "PodCrashLooping",
      "NamespaceNearQuota",
    ])
      assert.ok(names.includes(required), `${required} is defined`);
  });

  it("alerts on a 5xx ratio above 5 % and a p95 above 1 s, for 5 minutes, per service", () => {
    const errors = rule("ServiceHighErrorRate");
    const latency = rule("ServiceHighLatency");
    assert.match(
      errors.expr,
      /status=~"5\.\."\}\[5m\]\)\) \/ sum by \(namespace, app\) .* > 0\.05$/,
    );
    assert.equal(errors.for, "5m");
    assert.match(latency.expr, /^histogram_quantile\(0\.95, .*\) > 1$/);
    assert.equal(latency.for, "5m");
  });

  it("watches every registered service and namespace, including ones added to the registry", () => {
    for (const reg of [registry, withNewTeam]) {
      for (const name of ["ServiceHighErrorRate", "ServiceHighLatency"])
        assert.deepEqual(
          regexMatcher(rule(name, reg).expr, "app").sort(),
          Object.keys(reg.services).sort(),
          name,
        );
      for (const name of ["PodCrashLooping", "NamespaceNearQuota"])
        assert.deepEqual(
          regexMatcher(rule(name, reg).expr, "namespace").sort(),
          Object.keys(reg.namespaces).sort(),
          name,
        );
    }
    // Model servers are watched where they run.
    assert.ok(rule("ModelServerDown").expr.includes(`namespace="${modelNamespace}"`));
  });
});

/** Grafana's datasources as Observability wires them, with Prometheus or Mimir as the metrics store. */
function datasourcesWith(mimir: boolean): DatasourceEndpoints {
  return {
    metrics: (mimir ? mimirEndpoints() : prometheusEndpoints()).datasource,
    logs: lokiEndpoints().datasource,
    traces: tempoEndpoints().datasource,
  };
}

describe("observability: datasources", () => {
  it("links traces to logs and to metrics, and points metrics at Mimir only when it runs", () => {
    const dev = grafanaDatasources(datasourcesWith(false)).datasources;
    assert.deepEqual(
      dev.map((d) => [d.name, d.type, d.url]),
      [
        ["Prometheus", "prometheus", "http://kps-prometheus.observability.svc.cluster.local:9090"],
        ["Loki", "loki", "http://loki.observability.svc.cluster.local:3100"],
        ["Tempo", "tempo", "http://tempo.observability.svc.cluster.local:3200"],
      ],
    );
    assert.equal(
      grafanaDatasources(datasourcesWith(true)).datasources[0]!.url,
      "http://mimir-query-frontend.observability.svc.cluster.local:8080/prometheus",
    );
    const tempo = dev[2]!.jsonData as Record<string, any>;
    assert.equal(tempo.tracesToLogsV2.datasourceUid, "logs");
    assert.equal(tempo.tracesToMetrics.datasourceUid, "metrics");
  });
});

for (const stack of stacks) {
  describe(`observability (${stack})`, () => {
    // Read when the tests run, not when mocha loads the file: a broken stack file fails these tests.
    let o!: PlatformConfig["observability"];
    let mimir = false;
    let lokiInS3 = false;
    let tempoInS3 = false;
    before(() => {
      o = stackConfig(stack).observability;
      mimir = o.mimir.enabled;
      lokiInS3 = o.loki.storage === "s3";
      tempoInS3 = o.tempo.storage === "s3";
    });
    const prefix = `llmplatform-${stack}`;
    const values = async (release: string) => (await runStack(stack)).get(R, release).inputs.values;

    it("installs each release pinned, in observability", async () => {
      const run = await runStack(stack);
      const expected: Record<string, [string, string]> = {
        "kube-prometheus-stack": ["kube-prometheus-stack", "88.5.3"],
        ...(o.loki.storage !== "external" ? { loki: ["loki", "18.11.0"] as [string, string] } : {}),
        tempo: ["tempo", "2.2.4"],
        grafana: ["grafana", "12.11.1"],
        "otel-collector": ["opentelemetry-collector", "0.170.0"],
        "otel-agent": ["opentelemetry-collector", "0.170.0"],
        ...(mimir ? { mimir: ["mimir-distributed", "6.2.0"] as [string, string] } : {}),
      };
      for (const [name, [chart, version]] of Object.entries(expected)) {
        const r = run.get(R, name).inputs;
        assert.deepEqual(
          [r.chart, r.version, r.namespace],
          [chart, version, "observability"],
          name,
        );
        assert.ok(
          run
            .get(R, name)
            .dependsOn.includes("kubernetes:helm.sh/v3:Release::aws-load-balancer-controller"),
          name,
        );
      }
      assert.equal(
        run.ofType(R).some((r) => r.name === "mimir"),
        mimir,
      );
      assert.equal(
        run.ofType(R).some((r) => r.name === "loki"),
        o.loki.storage !== "external",
      );
    });

    it("runs Prometheus with the configured retention, storage and replicas, remote-writing to Mimir when enabled", async () => {
      const v = await values("kube-prometheus-stack");
      const spec = v.prometheus.prometheusSpec;
      assert.equal(spec.replicas, o.prometheus.replicas);
      assert.equal(spec.retention, o.prometheus.retention);
      assert.equal(
        spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage,
        `${o.prometheus.storageGi}Gi`,
      );
      assert.equal(spec.storageSpec.volumeClaimTemplate.spec.storageClassName, "gp3");
      assert.equal(spec.enableOTLPReceiver, true);
      assert.equal(spec.serviceMonitorSelectorNilUsesHelmValues, false);
      assert.equal(spec.podMonitorSelectorNilUsesHelmValues, false);
      assert.deepEqual(
        spec.remoteWrite,
        mimir
          ? [{ url: "http://mimir-distributor.observability.svc.cluster.local:8080/api/v1/push" }]
          : [],
      );
      assert.deepEqual(spec.externalLabels, { cluster: prefix, environment: stack });
      assert.deepEqual(
        [
          v.grafana.enabled,
          v.kubeControllerManager.enabled,
          v.kubeScheduler.enabled,
          v.kubeEtcd.enabled,
        ],
        [false, false, false, false],
      );
      assert.equal(v.alertmanager.alertmanagerSpec.replicas, o.alertmanager.replicas);
      assert.deepEqual(
        v.alertmanager.config.receivers,
        [{ name: "null" }],
        "no webhook configured: alerts stay in Grafana",
      );
      assert.ok(
        v["kube-state-metrics"].metricLabelsAllowlist.includes(
          "nodes=[workload,eks.amazonaws.com/capacityType,llmplatform.io/node-group,node.kubernetes.io/instance-type]",
        ),
      );
      assert.deepEqual(v["prometheus-node-exporter"].tolerations, [{ operator: "Exists" }]);
    });

    it("keeps Loki where configured (S3 through IRSA, or a volume), with the configured replicas and retention", async function () {
      const loki = o.loki;
      // An external store runs no Loki here (tests/observability/logStore.test.ts covers it).
      if (loki.storage === "external") {
        assert.equal((await runStack(stack)).ofType(R).filter((r) => r.name === "loki").length, 0);
        return;
      }
      const v = await values("loki");
      assert.equal(v.fullnameOverride, "loki");
      assert.equal(v.deploymentMode, "Monolithic");
      assert.equal(v.singleBinary.replicas, loki.replicas);
      assert.deepEqual([v.read.replicas, v.write.replicas, v.backend.replicas], [0, 0, 0]);
      assert.equal(v.loki.schemaConfig.configs[0].schema, "v13");
      assert.equal(v.loki.limits_config.retention_period, `${loki.retentionDays * 24}h`);
      if (lokiInS3) {
        assert.deepEqual(v.loki.storage, {
          type: "s3",
          bucketNames: {
            chunks: `${prefix}-loki-20261123`,
            ruler: `${prefix}-loki-20261123`,
          },
          s3: { region: stackConfig(stack).region },
        });
        assert.deepEqual(v.serviceAccount.annotations, {
          "eks.amazonaws.com/role-arn": `arn:aws:iam::${testAccountId}:role/${prefix}-loki-irsa`,
        });
      } else {
        assert.deepEqual(v.loki.storage, { type: "filesystem" });
        assert.equal(v.serviceAccount.annotations, undefined);
        assert.equal(v.singleBinary.persistence.size, `${loki.storageGi}Gi`);
      }
    });

    it("keeps Tempo traces where configured (S3 through IRSA, or a local volume), for the configured hours", async () => {
      const v = await values("tempo");
      assert.equal(v.fullnameOverride, "tempo");
      assert.equal(v.tempo.retention, `${o.tempo.retentionHours}h`);
      assert.deepEqual(v.tempo.receivers.otlp.protocols, {
        grpc: { endpoint: "0.0.0.0:4317" },
        http: { endpoint: "0.0.0.0:4318" },
      });
      assert.equal(v.tempo.storage.trace.backend, o.tempo.storage);
      if (tempoInS3) assert.equal(v.tempo.storage.trace.s3.bucket, `${prefix}-tempo-20261123`);
    });

    it("runs Mimir exactly when enabled: without Kafka (classic architecture), in S3 through IRSA", async () => {
      const run = await runStack(stack);
      if (!mimir) {
        assert.deepEqual(
          run.resources.filter((r) => /mimir/.test(r.name)).map((r) => `${r.type}::${r.name}`),
          [],
          "no Mimir release, role or bucket",
        );
        return;
      }
      const v = await values("mimir");
      assert.deepEqual([v.kafka.enabled, v.minio.enabled], [false, false]);
      const c = v.mimir.structuredConfig;
      assert.equal(c.ingest_storage.enabled, false);
      assert.equal(c.multitenancy_enabled, false);
      assert.equal(c.common.storage.backend, "s3");
      assert.equal(c.blocks_storage.s3.bucket_name, `${prefix}-mimir-blocks-20261123`);
      assert.equal(c.ruler_storage.s3.bucket_name, `${prefix}-mimir-ruler-20261123`);
      assert.equal(c.limits.compactor_blocks_retention_period, `${o.mimir.retentionDays}d`);
      assert.deepEqual(v.serviceAccount.annotations, {
        "eks.amazonaws.com/role-arn": `arn:aws:iam::${testAccountId}:role/${prefix}-mimir-irsa`,
      });
      const policy = JSON.parse(
        run.get("aws:iam/rolePolicy:RolePolicy", `${prefix}-observability-mimir-mimir-buckets`)
          .inputs.policy,
      );
      assert.deepEqual(policy.Statement[0].Resource, [
        `arn:aws:s3:::${prefix}-mimir-blocks-20261123`,
        `arn:aws:s3:::${prefix}-mimir-ruler-20261123`,
      ]);
    });

    it("serves OTLP at otel-collector:4317/4318 and routes traces, metrics and logs to their stores", async () => {
      const v = await values("otel-collector");
      assert.deepEqual(
        [v.fullnameOverride, v.mode, v.command.name, v.replicaCount],
        ["otel-collector", "deployment", "otelcol-k8s", o.otelCollector.replicas],
      );
      assert.equal(
        v.image.repository,
        "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s",
      );
      const p = v.config.service.pipelines;
      assert.deepEqual(
        [p.traces.exporters, p.metrics.exporters, p.logs.exporters],
        [
          ["otlp/tempo"],
          [o.mimir.enabled ? "otlphttp/mimir" : "otlphttp/prometheus"],
          ["otlphttp/loki"],
        ],
      );
      for (const pipeline of [p.traces, p.metrics, p.logs])
        assert.ok(pipeline.processors.includes("k8sattributes"));
      assert.equal(v.presets.kubernetesAttributes.enabled, true);
    });

    it("tails every node's pod logs into Loki with a DaemonSet agent on all nodes", async () => {
      const v = await values("otel-agent");
      assert.deepEqual([v.mode, v.presets.logsCollection.enabled], ["daemonset", true]);
      assert.deepEqual(v.tolerations, [{ operator: "Exists" }]);
      assert.deepEqual(v.config.service.pipelines.logs.exporters, ["otlphttp/loki"]);
      const { metrics, traces } = v.config.service.pipelines;
      assert.deepEqual(
        [metrics, traces],
        [null, null],
        "logs only: the chart's default pipelines are dropped",
      );
      assert.equal(v.ports.otlp.enabled, false, "no receiver hostPorts on the nodes");
    });

    it("serves Grafana as grafana:3000 with its generated admin login in Secrets Manager, never in values", async () => {
      const run = await runStack(stack);
      const v = run.get(R, "grafana").inputs.values;
      assert.deepEqual([v.fullnameOverride, v.service.port], ["grafana", 3000]);
      assert.deepEqual(
        v.deploymentStrategy,
        { type: "Recreate" },
        "its RWO volume cannot attach to two pods",
      );
      assert.deepEqual(v.admin, {
        existingSecret: "grafana-admin",
        userKey: "admin-user",
        passwordKey: "admin-password",
      });
      assert.equal(v["grafana.ini"].server.root_url, run.outputs.grafanaUrl);
      assert.deepEqual(Object.keys(v.dashboards.platform).sort(), Object.keys(dashboards).sort());
      assert.equal(
        v.datasources["datasources.yaml"].datasources[0].name,
        mimir ? "Mimir" : "Prometheus",
      );
      // Generated once into Secrets Manager, then owned there (rotations are not overwritten).
      const secret = run.get(
        "aws:secretsmanager/secretVersion:SecretVersion",
        `${prefix}-observability-grafana-admin`,
      );
      assert.deepEqual(secret.secretPaths, ["secretString"]);
      assert.deepEqual(secret.ignoreChanges, ["secretString"]);
      assert.deepEqual(Object.keys(JSON.parse(secret.inputs.secretString)).sort(), [
        "admin-password",
        "admin-user",
      ]);
      const es = run.get(
        "kubernetes:external-secrets.io/v1:ExternalSecret",
        `${prefix}-observability-grafana-admin`,
      );
      assert.deepEqual(
        [es.inputs.metadata.namespace, es.inputs.spec.target.name],
        ["observability", "grafana-admin"],
      );
      assert.ok(run.get(R, "grafana").dependsOn.includes(`${es.type}::${es.name}`));
      assert.equal(run.outputs.grafanaAdminSecret, `${prefix}/observability/grafana-admin`);
      assert.ok(
        !JSON.stringify(run.ofType(R).map((r) => r.inputs)).includes("mock-generated-password"),
      );
      // No sidecars: Grafana never calls the Kubernetes API, so it gets no token and no role.
      assert.deepEqual([v.automountServiceAccountToken, v.rbac], [false, { create: false }]);
    });

    it("scrapes the services, the model servers, DCGM and Argo's controller through PodMonitors, and loads the alert rules", async () => {
      const run = await runStack(stack);
      const pm = (n: string) =>
        run.get("kubernetes:monitoring.coreos.com/v1:PodMonitor", `${prefix}-observability-${n}`)
          .inputs;
      // Every registered service is selected, in every namespace a service runs in, and nothing else.
      const services = pm("platform-services").spec;
      assert.deepEqual(
        [...services.namespaceSelector.matchNames].sort(),
        serviceNamespaces().sort(),
      );
      assert.deepEqual(services.selector.matchExpressions.length, 1);
      const [app] = services.selector.matchExpressions;
      assert.deepEqual([app.key, app.operator], ["app", "In"]);
      assert.deepEqual([...app.values].sort(), Object.keys(registry.services).sort());
      assert.deepEqual(pm("platform-services").spec.podMetricsEndpoints, [
        { port: "http", path: "/metrics", interval: "30s" },
      ]);
      assert.deepEqual(pm("model-servers").spec.selector, {
        matchLabels: { "llmplatform.io/model-server": "true" },
      });
      assert.deepEqual(pm("model-servers").spec.namespaceSelector, {
        matchNames: [modelNamespace],
      });
      assert.deepEqual(pm("dcgm-exporter").spec.podMetricsEndpoints, [
        { port: "metrics", path: "/metrics", interval: "15s" },
      ]);
      // Argo's controller serves the workflows' metrics (the benchmark gauges among them) on `metrics`.
      assert.deepEqual(pm("argo-workflows-controller").spec, {
        namespaceSelector: { matchNames: ["argo"] },
        selector: {
          matchLabels: {
            "app.kubernetes.io/name": "argo-workflows-workflow-controller",
            "app.kubernetes.io/instance": "argo-workflows",
          },
        },
        podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
      });
      for (const n of [
        "platform-services",
        "model-servers",
        "dcgm-exporter",
        "argo-workflows-controller",
      ]) {
        assert.deepEqual(
          run.get("kubernetes:monitoring.coreos.com/v1:PodMonitor", `${prefix}-observability-${n}`)
            .dependsOn,
          ["kubernetes:helm.sh/v3:Release::kube-prometheus-stack"],
        );
      }
      const rules = run.get(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        `${prefix}-observability-rules`,
      ).inputs.spec;
      // Every alert the module defines for the registry is deployed exactly as defined; anything else
      // deployed (e.g. alerts that follow the stack's config) is a well-formed rule too.
      const deployed: AlertRule[] = rules.groups.flatMap((g: { rules: AlertRule[] }) => g.rules);
      for (const r of alertRules())
        assert.ok(
          deployed.some((d) => isDeepStrictEqual(d, r)),
          `${r.alert} is deployed as defined`,
        );
      for (const d of deployed) assertWellFormed(d);
    });

    it("opens the observability namespace only as far as its stack needs", async () => {
      const run = await runStack(stack);
      const names = run
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .filter((p) => p.inputs.metadata.namespace === "observability")
        .map((p) => p.inputs.metadata.name)
        .sort();
      assert.deepEqual(names, [
        "allow-alb-to-grafana-3000",
        // The benchmark's record step queries Prometheus for GPU use over each scenario.
        "allow-benchmark-record-to-prometheus-9090",
        // The admission webhooks, each only on its pods and port; Mimir's where it runs.
        ...(mimir ? ["allow-control-plane-to-mimir-rollout-operator-webhook-8443"] : []),
        "allow-control-plane-to-prometheus-operator-webhook-10250",
        "allow-dns-to-kube-dns",
        "allow-https-to-aws-and-webhooks",
        // The model autoscaler (KEDA, its own namespace) queries Prometheus.
        "allow-keda-operator-to-prometheus-9090",
        "allow-kube-apiserver",
        "allow-otlp-from-all-namespaces",
        "allow-otlp-to-otel-collector",
        "allow-prometheus-scrape-anywhere",
        "allow-prometheus-scrape-dcgm-9400",
        "allow-within-observability",
        "default-deny-all",
      ]);
    });

    it("admits Grafana's load balancer traffic from the public subnets only, and webhook calls only on the webhook pods and ports", async () => {
      const run = await runStack(stack);
      const np = (n: string) =>
        run.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", `observability-${n}`).inputs.spec;
      const publicSubnets = mockSubnetLayout(run.ofType("awsx:ec2:Vpc")[0]!.inputs as any).public;
      assert.deepEqual(np("allow-alb-to-grafana-3000").ingress, [
        {
          from: publicSubnets.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ protocol: "TCP", port: 3000 }],
        },
      ]);
      const webhook = np("allow-control-plane-to-prometheus-operator-webhook-10250");
      assert.deepEqual(webhook.podSelector, {
        matchLabels: { app: "kube-prometheus-stack-operator", release: "kube-prometheus-stack" },
      });
      assert.deepEqual(webhook.ingress[0].ports, [{ protocol: "TCP", port: 10250 }]);
      if (mimir) {
        const rollout = np("allow-control-plane-to-mimir-rollout-operator-webhook-8443");
        assert.deepEqual(rollout.podSelector, {
          matchLabels: {
            "app.kubernetes.io/name": "rollout-operator",
            "app.kubernetes.io/instance": "mimir",
          },
        });
        assert.deepEqual(rollout.ingress[0].ports, [{ protocol: "TCP", port: 8443 }]);
      }
    });
  });
}

describe("observability: alert webhook", () => {
  it("sends alerts to the webhook read from a mounted Secret, the URL never in plain values", async () => {
    const raw = cloneStackConfig("prod");
    raw["llm-platform:alertWebhookUrl"] = fakeSecret("llm-platform:alertWebhookUrl");
    const run = await runProgram("prod", raw);
    assert.equal(run.error, undefined);
    const secret = run.get(
      "aws:secretsmanager/secretVersion:SecretVersion",
      "llmplatform-prod-observability-alert-webhook",
    );
    assert.deepEqual(secret.secretPaths, ["secretString"]);
    // Written from config (a rotation is `pulumi config set --secret` + up, or a put in Secrets
    // Manager); ESO makes the Secret Alertmanager mounts.
    assert.deepEqual(secret.ignoreChanges, []);
    assert.deepEqual(
      run.get(
        "kubernetes:external-secrets.io/v1:ExternalSecret",
        "llmplatform-prod-observability-alert-webhook",
      ).inputs.spec.data,
      [{ secretKey: "url", remoteRef: { key: "alertmanager-webhook" } }],
    );
    const v = run.get(R, "kube-prometheus-stack").inputs.values;
    assert.deepEqual(v.alertmanager.alertmanagerSpec.secrets, ["alertmanager-webhook"]);
    assert.deepEqual(v.alertmanager.config.receivers[1], {
      name: "webhook",
      webhook_configs: [
        { url_file: "/etc/alertmanager/secrets/alertmanager-webhook/url", send_resolved: true },
      ],
    });
    assert.equal(v.alertmanager.config.route.receiver, "webhook");
    const leaks = run.resources.filter(
      (r) =>
        r !== secret &&
        JSON.stringify(r.inputs).includes(fakeSecret("llm-platform:alertWebhookUrl")),
    );
    assert.deepEqual(
      leaks.map((r) => r.name),
      [],
    );
  });
});

for (const stack of stacks) {
  describe(`observability findings of the chart render (${stack})`, () => {
    const release = async (name: string) => (await runStack(stack)).get(R, name).inputs;

    it("caps Helm history on every release, so upgrades cannot exhaust the secrets quota", async () => {
      const releases = (await runStack(stack)).ofType(R);
      assert.ok(releases.length > 0);
      for (const r of releases) assert.equal(r.inputs.maxHistory, helmMaxHistory, r.name);
    });

    it("generates span metrics and the service graph in Tempo, written to Mimir where it runs, else Prometheus", async () => {
      const tempo = (await release("tempo")).values.tempo;
      const mimir = (await runStack(stack)).ofType(R).some((r) => r.name === "mimir");
      assert.equal(tempo.metricsGenerator.enabled, true);
      assert.equal(
        tempo.metricsGenerator.remoteWriteUrl,
        mimir ? mimirEndpoints().pushUrl : prometheusEndpoints().remoteWriteUrl,
      );
      assert.deepEqual(
        tempo.overrides.defaults.metrics_generator.processors,
        tempoMetricsProcessors,
      );
      assert.equal(
        tempo.receivers.jaeger,
        undefined,
        "the chart's Service template needs its defaults",
      );
      const spec = (await release("kube-prometheus-stack")).values.prometheus.prometheusSpec;
      assert.equal(spec.enableRemoteWriteReceiver, true);
      // What Grafana's trace-to-metrics query reads is what the span-metrics processor writes.
      const ds = grafanaDatasources(datasourcesWith(false)).datasources.find(
        (d) => d.type === "tempo",
      )!;
      assert.match(JSON.stringify(ds.jsonData), /traces_spanmetrics_calls_total/);
    });

    it("writes each series to Mimir once, without rejections: the HA tracker dedupes the replicas by the labels Prometheus sends", async () => {
      const run = await runStack(stack);
      const spec = (await release("kube-prometheus-stack")).values.prometheus.prometheusSpec;
      const mimir = run.ofType(R).find((r) => r.name === "mimir");
      assert.equal(spec.remoteWrite.length > 0, !!mimir);
      // Every replica keeps the operator's per-replica external label (not cleared, not renamed)...
      assert.equal(spec.replicaExternalLabelNameClear, undefined);
      assert.equal(spec.replicaExternalLabelName, undefined);
      // ...and carries the same cluster label.
      assert.equal(spec.externalLabels[mimirHaLabels.cluster], stackConfig(stack).namePrefix);
      if (!mimir) return;
      const cfg = mimir.inputs.values.mimir.structuredConfig;
      // Mimir elects one replica per cluster on exactly those labels, over memberlist (no Consul/etcd)...
      assert.deepEqual(cfg.distributor.ha_tracker, {
        enable_ha_tracker: true,
        kvstore: { store: "memberlist" },
      });
      assert.equal(cfg.limits.accept_ha_samples, true);
      assert.equal(cfg.limits.ha_cluster_label, mimirHaLabels.cluster);
      assert.equal(cfg.limits.ha_replica_label, chartPrometheus.replicaLabel);
      // ...and answers the other replica 202 (counted as sent, not failed), so kube-prometheus-stack's
      // PrometheusRemoteStorageFailures (failed / (failed + succeeded) > 1 % for 15m) cannot fire
      // from duplicates. What reaches Mimir without the replica label is accepted as is: only
      // Prometheus remote-writes with it; pushers (collector, Tempo) write to Mimir directly.
      const pushers = [
        (await release("tempo")).values.tempo.metricsGenerator.remoteWriteUrl,
        (await release("otel-collector")).values.config.exporters["otlphttp/mimir"].endpoint,
      ];
      assert.ok(
        pushers.every((u: string) => u.startsWith(httpUrl(chartEndpoints.mimirDistributor))),
      );
    });

    it("runs the log agent as root without capabilities (the documented exception), all else non-root", async () => {
      const agent = (await release("otel-agent")).values.securityContext;
      assert.deepEqual(
        [
          agent.runAsUser,
          agent.runAsNonRoot,
          agent.readOnlyRootFilesystem,
          agent.allowPrivilegeEscalation,
          agent.capabilities,
        ],
        [0, false, true, false, { drop: ["ALL"] }],
      );
      const tempo = (await release("tempo")).values.tempo.securityContext;
      assert.equal(tempo.runAsNonRoot, true);
    });
  });
}

describe("observability: Mimir sizing", () => {
  it("gives every Mimir component explicit requests and a memory limit, and runs no gateway", () => {
    const v = mimirValues({
      region: "us-west-2",
      roleArn: "arn:aws:iam::111122223333:role/r",
      blocksBucket: "b",
      rulerBucket: "r",
      retentionDays: 30,
    }) as Record<string, any>;
    assert.equal(v.gateway.enabled, false);
    for (const component of [...Object.keys(mimirComponentSizes), "rollout_operator"]) {
      const r = v[component].resources;
      assert.ok(r.requests.cpu && r.requests.memory && r.limits.memory, component);
    }
  });
});
