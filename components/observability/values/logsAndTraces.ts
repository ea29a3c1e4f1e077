import { defaultStorageClassName } from "../../k8s/storage";
import type { ObservabilityConfig } from "../../schema/observability";
import { irsa, onCpuNodes } from "./common";

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
            bucketNames: { chunks: p.bucket, ruler: p.bucket },
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
      // OTLP only: null removes the chart's default Jaeger receivers (and their Service ports).
      receivers: {
        otlp: {
          protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } },
        },
        jaeger: null,
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
