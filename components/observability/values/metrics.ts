import { defaultStorageClassName } from "../../lib/k8s/defaultStorageClass";
import type { ObservabilityConfig } from "../../config/observability";
import { everywhere, irsa, onCpuNodes, sized } from "./common";

export interface KubePrometheusStackParams {
  readonly stack: string;
  readonly clusterName: string;
  readonly o: ObservabilityConfig;
  /** Mimir's push URL, when Mimir runs: Prometheus remote-writes every series there. */
  readonly remoteWriteUrl?: string;
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
    prometheusOperator: {
      ...onCpuNodes,
      resources: sized("100m", "128Mi", "512Mi"),
      // The sidecar the operator adds to every Prometheus and Alertmanager pod.
      prometheusConfigReloader: { resources: sized("10m", "50Mi", "50Mi") },
      admissionWebhooks: { patch: { resources: sized("10m", "32Mi", "64Mi") } },
    },
    "kube-state-metrics": { ...onCpuNodes, resources: sized("50m", "128Mi", "512Mi") },
    // On every node, GPU nodes included: kept small, it is multiplied by the node count.
    "prometheus-node-exporter": { ...everywhere, resources: sized("20m", "32Mi", "64Mi") },
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
        // Replicas scrape the same targets; without this each series reaches Mimir once per replica
        // with its own `prometheus_replica` label and every sum over Mimir doubles. Cleared, both
        // replicas write the same series: Mimir keeps the first sample of each timestamp and rejects
        // the other replica's as duplicates or out-of-order (Mimir's HA tracker would dedupe
        // silently, but it needs Consul or etcd, which this platform does not run).
        replicaExternalLabelNameClear: p.o.mimir.enabled,
        // Pick up every ServiceMonitor/PodMonitor/PrometheusRule, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        // The OpenTelemetry Collector pushes application metrics here (OTLP), and Tempo's metrics
        // generator its span metrics and service graph (remote write).
        enableOTLPReceiver: true,
        enableRemoteWriteReceiver: true,
        remoteWrite: p.remoteWriteUrl ? [{ url: p.remoteWriteUrl }] : [],
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        ...onCpuNodes,
        replicas: p.o.alertmanager.replicas,
        resources: sized("20m", "64Mi", "256Mi"),
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

/** Requests (CPU, memory) and memory limit of each Mimir component, for a single-tenant platform. */
export const mimirComponentSizes: Record<string, [string, string, string]> = {
  distributor: ["100m", "512Mi", "1Gi"],
  ingester: ["200m", "1Gi", "2Gi"],
  store_gateway: ["100m", "512Mi", "1Gi"],
  compactor: ["100m", "512Mi", "1Gi"],
  querier: ["100m", "256Mi", "1Gi"],
  query_frontend: ["100m", "128Mi", "512Mi"],
  query_scheduler: ["50m", "64Mi", "256Mi"],
  ruler: ["100m", "128Mi", "512Mi"],
  overrides_exporter: ["50m", "64Mi", "128Mi"],
};

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
    // Clients reach the distributor and query-frontend Services directly: no nginx gateway.
    gateway: { enabled: false },
    // Explicit sizes for every component (keys of the chart's 6.x values; ingesters and
    // store-gateways run one pod per zone, three zones), so none runs on the LimitRange defaults.
    ...Object.fromEntries(
      Object.entries(mimirComponentSizes).map(([component, r]) => [
        component,
        // No nodeSelector: zone-aware components ignore it, and the GPU taint keeps all of them off GPUs.
        { resources: sized(...r) },
      ]),
    ),
    rollout_operator: { resources: sized("20m", "64Mi", "128Mi") },
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
