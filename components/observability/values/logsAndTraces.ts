import { defaultStorageClassName } from "../../lib/k8s/defaultStorageClass";
import type { InClusterLokiConfig, ObservabilityConfig } from "../../config/observability";
import { irsa, onCpuNodes, sized } from "./common";
import { restrictedContainerSecurityContext } from "../../lib/k8s/security";

/** Loki in monolithic mode: filesystem on a volume (dev) or S3 through IRSA (prod), OTLP ingestion on. */
export function lokiValues(p: {
  loki: InClusterLokiConfig;
  region: string;
  roleArn?: string;
  bucket?: string;
}) {
  const s3 = p.loki.storage === "s3";
  return {
    fullnameOverride: "loki",
    deploymentMode: "Monolithic",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: Math.min(p.loki.replicas, 3) },
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
            bucketNames: { chunks: p.bucket, ruler: p.bucket },
            s3: { region: p.region },
          }
        : { type: "filesystem" },
      limits_config: {
        retention_period: `${p.loki.retentionDays * 24}h`,
        allow_structured_metadata: true,
        volume_enabled: true,
      },
      compactor: { retention_enabled: true, delete_request_store: s3 ? "s3" : "filesystem" },
    },
    singleBinary: {
      ...onCpuNodes,
      replicas: p.loki.replicas,
      resources: sized("250m", "512Mi", "2Gi"),
      persistence: {
        enabled: true,
        size: `${p.loki.storageGi}Gi`,
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
    // The rules sidecar loads ruler ConfigMaps; this platform alerts from Prometheus, not Loki.
    sidecar: { rules: { enabled: false } },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    serviceAccount: { create: true, name: "loki", ...irsa(p.roleArn) },
  };
}

/** Tempo's metrics-generator processors: what the Tempo datasource's span-metric queries read. */
export const tempoMetricsProcessors = ["service-graphs", "span-metrics"];

/** Tempo (single binary) with its OTLP receivers; local volume (dev) or S3 through IRSA (prod). */
export function tempoValues(p: {
  o: ObservabilityConfig;
  region: string;
  /** Where the metrics generator remote-writes span metrics and the service graph. */
  metricsRemoteWriteUrl: string;
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
      // The chart's Service template requires the default Jaeger receivers to exist, so they stay;
      // only pods inside the observability namespace can reach them (NetworkPolicy).
      receivers: {
        otlp: {
          protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } },
        },
      },
      // Span metrics and the service graph for Grafana's trace-to-metrics links and service map,
      // remote-written to Prometheus (which forwards to Mimir where Mimir runs).
      metricsGenerator: {
        enabled: true,
        remoteWriteUrl: p.metricsRemoteWriteUrl,
        storage: { path: "/var/tempo/generator/wal" },
        traces_storage: { path: "/var/tempo/generator/traces" },
      },
      overrides: { defaults: { metrics_generator: { processors: tempoMetricsProcessors } } },
      resources: sized("200m", "512Mi", "2Gi"),
      securityContext: restrictedContainerSecurityContext(),
    },
    persistence: {
      enabled: true,
      size: `${p.o.tempo.storageGi}Gi`,
      storageClassName: defaultStorageClassName,
    },
    serviceAccount: { create: true, name: "tempo", ...irsa(p.roleArn) },
  };
}
