import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, type UnitScope } from "./unitScope";
import type { ObservabilityConfig } from "../config/observability";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { images } from "../platform/versions";
import { everywhere, onCpuNodes } from "./chartValues";
import type { SignalExporter } from "./signals";

/** Where applications send OTLP: the collector gateway. */
export interface CollectorEndpoints {
  readonly otlpGrpcUrl: string;
  readonly otlpHttpUrl: string;
}

/** The collector's endpoints, from the chart contract. */
export function collectorEndpoints(): CollectorEndpoints {
  return {
    otlpGrpcUrl: httpUrl(chartEndpoints.otelCollectorGrpc),
    otlpHttpUrl: httpUrl(chartEndpoints.otelCollectorHttp),
  };
}

/** The OpenTelemetry Collector gateway, exporting each signal to the store given for it. */
export function createOtelCollector(scope: UnitScope, to: CollectorExports): CollectorEndpoints {
  release(
    scope,
    "otel-collector",
    charts.opentelemetryCollector,
    otelCollectorValues(scope.config, to),
  );
  return collectorEndpoints();
}

/** The node log agent (a collector DaemonSet) shipping container logs to `logsOtlpUrl`. */
export function createLogAgent(scope: UnitScope, logs: SignalExporter): void {
  release(scope, "otel-agent", charts.opentelemetryCollector, otelAgentValues(logs));
}

/** Memory-bounded batching: the collector sheds load instead of being OOM-killed. */
const processors = {
  batch: {},
  memory_limiter: { check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 25 },
};

/** Receivers and ports of the chart's default config that this platform does not use (OTLP only). */
const unusedReceivers = { jaeger: null, zipkin: null, prometheus: null };
const unusedPorts = Object.fromEntries(
  ["jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"].map((p) => [p, { enabled: false }]),
);

const collectorImage = {
  repository: images.otelCollector.repository,
  tag: images.otelCollector.tag,
};

/** Where the collector exports each signal, from the units that store them. */
export interface CollectorExports {
  readonly traces: SignalExporter;
  readonly metrics: SignalExporter;
  readonly logs: SignalExporter;
}

/** The exporters section of a collector config: one OTLP exporter per store, in-cluster plain text. */
function exporters(...to: SignalExporter[]) {
  return Object.fromEntries(
    to.map((e) => [e.key, { endpoint: e.endpoint, tls: { insecure: true } }]),
  );
}

/**
 * The OpenTelemetry Collector gateway at otel-collector.observability:4317/4318 (the endpoint every
 * service's ConfigMap names): traces to Tempo, metrics to Prometheus's OTLP receiver, logs to Loki's
 * OTLP endpoint, all enriched with Kubernetes attributes.
 */
export function otelCollectorValues(o: ObservabilityConfig, to: CollectorExports) {
  return {
    fullnameOverride: "otel-collector",
    mode: "deployment",
    replicaCount: o.otelCollector.replicas,
    image: collectorImage,
    command: { name: "otelcol-k8s" },
    ...onCpuNodes,
    presets: { kubernetesAttributes: { enabled: true } },
    // Pod Security `restricted`: the gateway reads no host path, so it runs as the image's non-root
    // user (10001) with nothing extra.
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: restrictedContainerSecurityContext(),
    ports: unusedPorts,
    config: {
      receivers: unusedReceivers,
      exporters: exporters(to.traces, to.metrics, to.logs),
      processors,
      service: {
        pipelines: {
          traces: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: [to.traces.key],
          },
          metrics: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: [to.metrics.key],
          },
          logs: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: [to.logs.key],
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
 *
 * Exception, documented: it runs as root (UID 0). The kubelet writes container logs as root with mode
 * 0640, so any other user gets "permission denied" and the agent ships nothing. Root here holds no
 * capability (all dropped; reading files root owns needs none), cannot escalate, and has a read-only
 * root filesystem; the namespace enforces `privileged` for the node agents (registry.ts).
 */
export function otelAgentValues(logs: SignalExporter) {
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
    securityContext: {
      ...restrictedContainerSecurityContext(),
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
    },
    // The agent receives nothing over the network: no receiver ports, so no hostPorts on the nodes.
    ports: { ...unusedPorts, otlp: { enabled: false }, "otlp-http": { enabled: false } },
    config: {
      receivers: { ...unusedReceivers, otlp: null },
      exporters: exporters(logs),
      processors,
      service: {
        pipelines: {
          // Only logs: null drops the chart's default metrics and traces pipelines.
          metrics: null,
          traces: null,
          logs: {
            receivers: ["filelog"],
            processors: ["memory_limiter", "k8sattributes", "batch"],
            exporters: [logs.key],
          },
        },
      },
    },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
  };
}
