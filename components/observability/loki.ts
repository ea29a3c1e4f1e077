import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, s3Store, type UnitScope } from "./unitScope";
import { defaultStorageClassName } from "../lib/k8s/defaultStorageClass";
import type { InClusterLokiConfig } from "../config/observability";
import { claimsDeletedWithRelease, irsa, onCpuNodes, sized } from "./chartValues";
import { datasourceUids, type Datasource, type SignalExporter } from "./signals";

/** The log store as its consumers see it: the collectors' exporter and Grafana's datasource. */
export interface LogEndpoints {
  /** OTLP/HTTP to the store (the exporter appends /v1/logs). */
  readonly exporter: SignalExporter;
  readonly datasource: Datasource;
}

/**
 * A Loki-compatible store at `base`: OTLP under /otlp, queries at the base, and a `trace_id` label
 * linked to the traces datasource.
 */
export function logEndpointsAt(base: string): LogEndpoints {
  return {
    exporter: { key: "otlphttp/loki", endpoint: `${base}/otlp` },
    datasource: {
      name: "Loki",
      type: "loki",
      url: base,
      jsonData: {
        derivedFields: [
          {
            name: "TraceID",
            matcherType: "label",
            matcherRegex: "trace_id",
            url: "$${__value.raw}",
            datasourceUid: datasourceUids.traces,
          },
        ],
      },
    },
  };
}

/** Loki's endpoints, from the chart contract. */
export function lokiEndpoints(): LogEndpoints {
  return logEndpointsAt(httpUrl(chartEndpoints.loki));
}

/**
 * The log store: Loki on a volume or on S3 through IRSA, as config says, or none in the cluster when
 * the store is external. Either way it returns where consumers send and query logs.
 */
export function createLoki(scope: UnitScope): LogEndpoints {
  const loki = scope.config.loki;
  if (loki.storage === "external") return logEndpointsAt(loki.url);
  const store = loki.storage === "s3" ? s3Store(scope, "loki", ["loki"]) : undefined;
  const region = scope.ctx.region;
  release(
    scope,
    "loki",
    charts.loki,
    store
      ? pulumi
          .all([store.role.roleArn, store.names[0]!])
          .apply(([roleArn, bucket]) => lokiValues({ loki, region, roleArn, bucket }))
      : lokiValues({ loki, region }),
    store ? [store.role] : [],
  );
  return lokiEndpoints();
}

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
      // Loki never calls the Kubernetes API (no rules sidecar); IRSA projects its own token.
      automountServiceAccountToken: false,
      replicas: p.loki.replicas,
      resources: sized("250m", "512Mi", "2Gi"),
      persistence: {
        enabled: true,
        size: `${p.loki.storageGi}Gi`,
        storageClass: defaultStorageClassName,
        enableStatefulSetAutoDeletePVC: true,
        ...claimsDeletedWithRelease,
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
