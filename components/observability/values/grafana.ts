import { chartEndpoints } from "../../platform/chartContracts";
import { defaultStorageClassName } from "../../lib/k8s/defaultStorageClass";
import { onCpuNodes, sized } from "./common";

/** The query endpoints Grafana reads, from the units that serve them. */
export interface DatasourceEndpoints {
  /** The metrics store: its name in Grafana (Mimir or Prometheus) and its Prometheus API URL. */
  readonly metrics: { readonly name: string; readonly url: string };
  /** Loki's query URL. */
  readonly logs: string;
  /** Tempo's query URL. */
  readonly traces: string;
}

/** Grafana datasources: metrics (Mimir where it runs, else Prometheus), logs, traces with links. */
export function grafanaDatasources(from: DatasourceEndpoints) {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: from.metrics.name,
        uid: "metrics",
        type: "prometheus",
        access: "proxy",
        url: from.metrics.url,
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
        url: from.logs,
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
        url: from.traces,
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
  datasources: DatasourceEndpoints;
  persistenceGi: number;
  dashboards: Record<string, string>;
}) {
  return {
    fullnameOverride: "grafana",
    ...onCpuNodes,
    // One replica: the SQLite state on its volume cannot be shared; HA Grafana needs an external database.
    replicas: 1,
    // Its ReadWriteOnce volume cannot attach to a second pod: replace the pod instead of surging.
    deploymentStrategy: { type: "Recreate" },
    service: { type: "ClusterIP", port: chartEndpoints.grafana.port },
    // The chart's root init container chowns the volume; the pod's fsGroup already makes it writable.
    initChownData: { enabled: false },
    downloadDashboards: { resources: sized("10m", "32Mi", "64Mi") },
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
      // Secure cookies are never sent over plain HTTP: without TLS the login would loop.
      security: { cookie_secure: p.rootUrl.startsWith("https://"), disable_gravatar: true },
    },
    datasources: { "datasources.yaml": grafanaDatasources(p.datasources) },
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
