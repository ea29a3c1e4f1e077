/**
 * Helm values of the observability stack as pure functions of typed inputs: every key the platform
 * depends on is visible here and asserted by tests/observability.test.ts. Chart keys follow
 * shared/reference/chart-facts.md (snapshots of 2026-08-22).
 */
import { defaultStorageClassName } from "../k8s/storage";
import type { ObservabilityConfig } from "../schema/observability";
import { images } from "../versions";

/** In-cluster service names the stack is wired with (fixed with fullnameOverride). */
export const obsServices = {
  prometheus: "http://kps-prometheus.observability.svc.cluster.local:9090",
  alertmanager: "http://kps-alertmanager.observability.svc.cluster.local:9093",
  mimirPush: "http://mimir-distributor.observability.svc.cluster.local:8080/api/v1/push",
  mimirQuery: "http://mimir-query-frontend.observability.svc.cluster.local:8080/prometheus",
  loki: "http://loki.observability.svc.cluster.local:3100",
  tempoOtlpGrpc: "tempo.observability.svc.cluster.local:4317",
  tempoQuery: "http://tempo.observability.svc.cluster.local:3200",
};

const onCpuNodes = { nodeSelector: { workload: "cpu" } };
/** Node agents must run on every node, GPU nodes (tainted) included. */
const everywhere = { tolerations: [{ operator: "Exists" }] };
const irsa = (roleArn: string | undefined) =>
  roleArn ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {};

export interface KubePrometheusStackParams {
  readonly stack: string;
  readonly clusterName: string;
  readonly o: ObservabilityConfig;
  /** Name of the Secret holding `url` of the Alertmanager webhook, when one is configured. */
  readonly webhookSecret?: string;
}

/**
 * kube-prometheus-stack: Prometheus Operator, Prometheus (OTLP receiver on, remote-write to Mimir when
 * enabled), Alertmanager, node-exporter, kube-state-metrics. The chart's Grafana is off (Grafana is its
 * own release); EKS hides the control plane, so its scrape jobs are off.
 */
export function kubePrometheusStackValues(p: KubePrometheusStackParams) {
  const receivers = p.webhookSecret
    ? [
        { name: "null" },
        {
          name: "webhook",
          // The URL is read from the mounted Secret, never written into the config.
          webhook_configs: [
            { url_file: `/etc/alertmanager/secrets/${p.webhookSecret}/url`, send_resolved: true },
          ],
        },
      ]
    : [{ name: "null" }];
  return {
    fullnameOverride: "kps",
    crds: { enabled: true },
    grafana: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    defaultRules: {
      create: true,
      rules: {
        etcd: false,
        kubeControllerManager: false,
        kubeSchedulerAlerting: false,
        kubeSchedulerRecording: false,
        kubeProxy: false,
      },
    },
    prometheusOperator: { ...onCpuNodes },
    "kube-state-metrics": { ...onCpuNodes },
    "prometheus-node-exporter": { ...everywhere },
    prometheus: {
      prometheusSpec: {
        ...onCpuNodes,
        replicas: p.o.prometheus.replicas,
        retention: p.o.prometheus.retention,
        // Keep 10 % headroom on the volume so the TSDB never fills it.
        retentionSize: `${Math.floor(p.o.prometheus.storageGi * 0.9)}GB`,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: defaultStorageClassName,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${p.o.prometheus.storageGi}Gi` } },
            },
          },
        },
        externalLabels: { cluster: p.clusterName, environment: p.stack },
        // Pick up every ServiceMonitor/PodMonitor/PrometheusRule, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        // The OpenTelemetry Collector pushes application metrics here.
        enableOTLPReceiver: true,
        remoteWrite: p.o.mimir.enabled ? [{ url: obsServices.mimirPush }] : [],
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        ...onCpuNodes,
        replicas: p.o.alertmanager.replicas,
        ...(p.webhookSecret ? { secrets: [p.webhookSecret] } : {}),
      },
      config: {
        route: {
          receiver: p.webhookSecret ? "webhook" : "null",
          group_by: ["alertname", "namespace", "service"],
          group_wait: "30s",
          group_interval: "5m",
          repeat_interval: "4h",
          routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
        },
        receivers,
      },
    },
  };
}

/**
 * Mimir in the classic architecture (distributors push to ingesters; no Kafka). Why not the chart's
 * default ingest-storage architecture: it needs a production-grade Kafka (the bundled one is for
 * demos), which this platform would have to run (MSK) just for metrics; classic is supported in
 * Mimir 3.x and is the chart's documented preset (classic-architecture.yaml). Single tenant; blocks,
 * ruler and alertmanager state in encrypted S3 through IRSA.
 */
export function mimirValues(p: {
  region: string;
  roleArn: string;
  blocksBucket: string;
  rulerBucket: string;
  retentionDays: number;
}) {
  return {
    fullnameOverride: "mimir",
    kafka: { enabled: false },
    minio: { enabled: false },
    alertmanager: { enabled: false },
    serviceAccount: { create: true, name: "mimir", ...irsa(p.roleArn) },
    mimir: {
      structuredConfig: {
        multitenancy_enabled: false,
        ingest_storage: {
          enabled: false,
          kafka: { address: null, topic: null, auto_create_topic_default_partitions: null },
        },
        distributor: { remote_timeout: null },
        ingester: { push_grpc_method_enabled: null },
        common: {
          storage: {
            backend: "s3",
            s3: { endpoint: `s3.${p.region}.amazonaws.com`, region: p.region },
          },
        },
        blocks_storage: { s3: { bucket_name: p.blocksBucket } },
        ruler_storage: { s3: { bucket_name: p.rulerBucket }, storage_prefix: "ruler" },
        alertmanager_storage: {
          s3: { bucket_name: p.rulerBucket },
          storage_prefix: "alertmanager",
        },
        limits: { compactor_blocks_retention_period: `${p.retentionDays}d` },
      },
    },
  };
}

/** Loki in monolithic mode: filesystem on a volume (dev) or S3 through IRSA (prod), OTLP ingestion on. */
export function lokiValues(p: {
  o: ObservabilityConfig;
  region: string;
  roleArn?: string;
  bucket?: string;
}) {
  const s3 = p.o.loki.storage === "s3";
  return {
    fullnameOverride: "loki",
    deploymentMode: "Monolithic",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: Math.min(p.o.loki.replicas, 3) },
      schemaConfig: {
        configs: [
          {
            from: "2026-01-01",
            store: "tsdb",
            object_store: s3 ? "s3" : "filesystem",
            schema: "v13",
            index: { prefix: "loki_index_", period: "24h" },
          },
        ],
      },
      storage: s3
        ? {
            type: "s3",
            bucketNames: { chunks: p.bucket, ruler: p.bucket, admin: p.bucket },
            s3: { region: p.region },
          }
        : { type: "filesystem" },
      limits_config: {
        retention_period: `${p.o.loki.retentionDays * 24}h`,
        allow_structured_metadata: true,
        volume_enabled: true,
      },
      compactor: { retention_enabled: true, delete_request_store: s3 ? "s3" : "filesystem" },
    },
    singleBinary: {
      ...onCpuNodes,
      replicas: p.o.loki.replicas,
      persistence: {
        enabled: true,
        size: `${p.o.loki.storageGi}Gi`,
        storageClass: defaultStorageClassName,
      },
    },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    // The memcached caches default to 8 GiB each: far more than this log volume needs.
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    gateway: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    serviceAccount: { create: true, name: "loki", ...irsa(p.roleArn) },
  };
}

/** Tempo (single binary) with its OTLP receivers; local volume (dev) or S3 through IRSA (prod). */
export function tempoValues(p: {
  o: ObservabilityConfig;
  region: string;
  roleArn?: string;
  bucket?: string;
}) {
  const s3 = p.o.tempo.storage === "s3";
  return {
    fullnameOverride: "tempo",
    ...onCpuNodes,
    tempo: {
      retention: `${p.o.tempo.retentionHours}h`,
      storage: {
        trace: s3
          ? {
              backend: "s3",
              s3: { bucket: p.bucket, endpoint: `s3.${p.region}.amazonaws.com`, region: p.region },
            }
          : {
              backend: "local",
              local: { path: "/var/tempo/traces" },
              wal: { path: "/var/tempo/wal" },
            },
      },
      receivers: {
        otlp: {
          protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } },
        },
      },
    },
    persistence: {
      enabled: true,
      size: `${p.o.tempo.storageGi}Gi`,
      storageClassName: defaultStorageClassName,
    },
    serviceAccount: { create: true, name: "tempo", ...irsa(p.roleArn) },
  };
}

const collectorImage = {
  repository: images.otelCollector.repository,
  tag: images.otelCollector.tag,
};

/**
 * The OpenTelemetry Collector gateway at otel-collector.observability:4317/4318 (the endpoint every
 * service's ConfigMap names): traces to Tempo, metrics to Prometheus's OTLP receiver, logs to Loki's
 * OTLP endpoint, all enriched with Kubernetes attributes.
 */
export function otelCollectorValues(o: ObservabilityConfig) {
  return {
    fullnameOverride: "otel-collector",
    mode: "deployment",
    replicaCount: o.otelCollector.replicas,
    image: collectorImage,
    command: { name: "otelcol-k8s" },
    ...onCpuNodes,
    presets: { kubernetesAttributes: { enabled: true } },
    config: {
      exporters: {
        "otlp/tempo": { endpoint: obsServices.tempoOtlpGrpc, tls: { insecure: true } },
        "otlphttp/prometheus": {
          endpoint: `${obsServices.prometheus}/api/v1/otlp`,
          tls: { insecure: true },
        },
        "otlphttp/loki": { endpoint: `${obsServices.loki}/otlp`, tls: { insecure: true } },
      },
      processors: {
        batch: {},
        memory_limiter: { check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 25 },
      },
      service: {
        pipelines: {
          traces: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: ["otlp/tempo"],
          },
          metrics: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: ["otlphttp/prometheus"],
          },
          logs: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: ["otlphttp/loki"],
          },
        },
      },
    },
    resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { memory: "1Gi" } },
  };
}

/**
 * The node-level log agent: a collector DaemonSet tailing /var/log/pods on every node (GPU nodes
 * included) and shipping to Loki. It is the one workload that mounts the node's log directory
 * (read-only hostPath, the chart's logsCollection preset): container logs exist nowhere else.
 */
export function otelAgentValues() {
  return {
    fullnameOverride: "otel-agent",
    mode: "daemonset",
    image: collectorImage,
    command: { name: "otelcol-k8s" },
    ...everywhere,
    presets: {
      logsCollection: { enabled: true, includeCollectorLogs: false },
      kubernetesAttributes: { enabled: true },
    },
    config: {
      exporters: {
        "otlphttp/loki": { endpoint: `${obsServices.loki}/otlp`, tls: { insecure: true } },
      },
      processors: {
        batch: {},
        memory_limiter: { check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 25 },
      },
      service: {
        pipelines: {
          logs: {
            receivers: ["filelog"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: ["otlphttp/loki"],
          },
        },
      },
    },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
  };
}

/** Grafana datasources: metrics (Mimir in prod, Prometheus in dev), Loki, Tempo with trace links. */
export function grafanaDatasources(mimir: boolean) {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: mimir ? "Mimir" : "Prometheus",
        uid: "metrics",
        type: "prometheus",
        access: "proxy",
        url: mimir ? obsServices.mimirQuery : obsServices.prometheus,
        isDefault: true,
        jsonData: {
          httpMethod: "POST",
          exemplarTraceIdDestinations: [{ name: "trace_id", datasourceUid: "traces" }],
        },
      },
      {
        name: "Loki",
        uid: "logs",
        type: "loki",
        access: "proxy",
        url: obsServices.loki,
        jsonData: {
          derivedFields: [
            {
              name: "TraceID",
              matcherType: "label",
              matcherRegex: "trace_id",
              url: "$${__value.raw}",
              datasourceUid: "traces",
            },
          ],
        },
      },
      {
        name: "Tempo",
        uid: "traces",
        type: "tempo",
        access: "proxy",
        url: obsServices.tempoQuery,
        jsonData: {
          tracesToLogsV2: {
            datasourceUid: "logs",
            spanStartTimeShift: "-5m",
            spanEndTimeShift: "5m",
            filterByTraceID: true,
            tags: [{ key: "service.name", value: "service_name" }],
          },
          tracesToMetrics: {
            datasourceUid: "metrics",
            tags: [{ key: "service.name", value: "service" }],
            queries: [
              {
                name: "Request rate",
                query: "sum(rate(traces_spanmetrics_calls_total{$$__tags}[5m]))",
              },
            ],
          },
          serviceMap: { datasourceUid: "metrics" },
          nodeGraph: { enabled: true },
          lokiSearch: { datasourceUid: "logs" },
        },
      },
    ],
  };
}

/**
 * Grafana: Service `grafana` on 3000 (the Ingress backend), admin credentials from a Secret, root URL
 * from the edge config, datasources and dashboards provisioned from the repository.
 */
export function grafanaValues(p: {
  rootUrl: string;
  adminSecret: string;
  mimir: boolean;
  persistenceGi: number;
  dashboards: Record<string, string>;
}) {
  return {
    fullnameOverride: "grafana",
    ...onCpuNodes,
    // One replica: the SQLite state on its volume cannot be shared; HA Grafana needs an external database.
    replicas: 1,
    service: { type: "ClusterIP", port: 3000 },
    admin: { existingSecret: p.adminSecret, userKey: "admin-user", passwordKey: "admin-password" },
    persistence: {
      enabled: true,
      size: `${p.persistenceGi}Gi`,
      storageClassName: defaultStorageClassName,
    },
    "grafana.ini": {
      server: { root_url: p.rootUrl },
      analytics: { reporting_enabled: false, check_for_updates: false },
      users: { allow_sign_up: false },
      "auth.anonymous": { enabled: false },
      security: { cookie_secure: true, disable_gravatar: true },
    },
    datasources: { "datasources.yaml": grafanaDatasources(p.mimir) },
    dashboardProviders: {
      "dashboardproviders.yaml": {
        apiVersion: 1,
        providers: [
          {
            name: "platform",
            orgId: 1,
            folder: "LLM Platform",
            type: "file",
            disableDeletion: true,
            editable: false,
            options: { path: "/var/lib/grafana/dashboards/platform" },
          },
        ],
      },
    },
    dashboards: {
      platform: Object.fromEntries(
        Object.entries(p.dashboards).map(([name, json]) => [name, { json }]),
      ),
    },
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
  };
}
