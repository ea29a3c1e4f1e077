/**
 * What a store offers the rest of the observability stack, whatever product it is: how the collectors
 * export a signal to it and how Grafana reads it back. Each store unit (prometheus.ts, mimir.ts,
 * loki.ts, tempo.ts) describes itself with these, so replacing a store is a change inside its unit;
 * the collectors and Grafana never name a product.
 */

/** A collector exporter that sends one signal to its store. */
export interface SignalExporter {
  /** The exporter's id in the collector config: `<exporter type>/<store>`, e.g. `otlphttp/loki`. */
  readonly key: string;
  /** Where it sends: an OTLP/HTTP base URL, or `host:port` for OTLP/gRPC. */
  readonly endpoint: string;
}

/** The uid of each signal's Grafana datasource: datasources link to one another by these. */
export const datasourceUids = { metrics: "metrics", logs: "logs", traces: "traces" } as const;

/** A store's Grafana datasource, less the uid and access mode that Grafana's unit assigns. */
export interface Datasource {
  /** Its name in Grafana's UI. */
  readonly name: string;
  /** Grafana's datasource plugin type (`prometheus`, `loki`, `tempo`, ...). */
  readonly type: string;
  readonly url: string;
  /** Plugin-specific settings (links between signals use `datasourceUids`). */
  readonly jsonData: Readonly<Record<string, unknown>>;
}
