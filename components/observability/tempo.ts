import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, hostPort, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, s3Store, type UnitScope } from "./unitScope";
import { defaultStorageClassName } from "../lib/k8s/defaultStorageClass";
import type { ObservabilityConfig } from "../config/observability";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { irsa, onCpuNodes, sized } from "./chartValues";
import { datasourceUids, type Datasource, type SignalExporter } from "./signals";

/** The trace store as its consumers see it: the collectors' exporter and Grafana's datasource. */
export interface TraceEndpoints {
  /** OTLP/gRPC to `host:port`. */
  readonly exporter: SignalExporter;
  readonly datasource: Datasource;
}

/**
 * Tempo's endpoints, from the chart contract. Its datasource links spans to their logs and to the
 * span metrics the metrics generator writes (`tempoMetricsProcessors`), and draws the service map.
 */
export function tempoEndpoints(): TraceEndpoints {
  return {
    exporter: { key: "otlp/tempo", endpoint: hostPort(chartEndpoints.tempoOtlpGrpc) },
    datasource: {
      name: "Tempo",
      type: "tempo",
      url: httpUrl(chartEndpoints.tempoQuery),
      jsonData: {
        tracesToLogsV2: {
          datasourceUid: datasourceUids.logs,
          spanStartTimeShift: "-5m",
          spanEndTimeShift: "5m",
          filterByTraceID: true,
          tags: [{ key: "service.name", value: "service_name" }],
        },
        tracesToMetrics: {
          datasourceUid: datasourceUids.metrics,
          tags: [{ key: "service.name", value: "service" }],
          queries: [
            {
              name: "Request rate",
              query: "sum(rate(traces_spanmetrics_calls_total{$$__tags}[5m]))",
            },
          ],
        },
        serviceMap: { datasourceUid: datasourceUids.metrics },
        nodeGraph: { enabled: true },
        lokiSearch: { datasourceUid: datasourceUids.logs },
      },
    },
  };
}

/**
 * Tempo (traces) on a volume or on S3 through IRSA; its metrics generator remote-writes span metrics
 * to `metricsRemoteWriteUrl`.
 */
export function createTempo(scope: UnitScope, metricsRemoteWriteUrl: string): TraceEndpoints {
  const store =
    scope.config.tempo.storage === "s3" ? s3Store(scope, "tempo", ["tempo"]) : undefined;
  const p = { config: scope.config, region: scope.ctx.region, metricsRemoteWriteUrl };
  release(
    scope,
    "tempo",
    charts.tempo,
    store
      ? pulumi
          .all([store.role.roleArn, store.names[0]!])
          .apply(([roleArn, bucket]) => tempoValues({ ...p, roleArn, bucket }))
      : tempoValues(p),
    store ? [store.role] : [],
  );
  return tempoEndpoints();
}

/** Tempo's metrics-generator processors: what the Tempo datasource's span-metric queries read. */
export const tempoMetricsProcessors = ["service-graphs", "span-metrics"];

/** Tempo (single binary) with its OTLP receivers; local volume (dev) or S3 through IRSA (prod). */
export function tempoValues(p: {
  config: ObservabilityConfig;
  region: string;
  /** Where the metrics generator remote-writes span metrics and the service graph. */
  metricsRemoteWriteUrl: string;
  roleArn?: string;
  bucket?: string;
}) {
  const s3 = p.config.tempo.storage === "s3";
  return {
    fullnameOverride: "tempo",
    ...onCpuNodes,
    tempo: {
      retention: `${p.config.tempo.retentionHours}h`,
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
      size: `${p.config.tempo.storageGi}Gi`,
      storageClassName: defaultStorageClassName,
      // The chart then sets whenDeleted: Delete (and whenScaled: Delete; Tempo runs one replica).
      enableStatefulSetAutoDeletePVC: true,
    },
    // Tempo never calls the Kubernetes API; IRSA projects its own token.
    serviceAccount: {
      create: true,
      name: "tempo",
      automountServiceAccountToken: false,
      ...irsa(p.roleArn),
    },
  };
}
