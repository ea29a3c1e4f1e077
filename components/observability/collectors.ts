import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, type AddonScope } from "./unitScope";
import { otelAgentValues, otelCollectorValues, type CollectorExports } from "./values/collectors";

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
export function createOtelCollector(s: AddonScope, to: CollectorExports): CollectorEndpoints {
  release(s, "otel-collector", charts.opentelemetryCollector, otelCollectorValues(s.o, to));
  return collectorEndpoints();
}

/** The node log agent (a collector DaemonSet) shipping container logs to `logsOtlpUrl`. */
export function createLogAgent(s: AddonScope, logsOtlpUrl: string): void {
  release(s, "otel-agent", charts.opentelemetryCollector, otelAgentValues(logsOtlpUrl));
}
