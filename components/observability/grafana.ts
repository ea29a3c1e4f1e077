import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { registry } from "../platform/registry";
import { type Registry } from "../platform/designs";
import { charts } from "../platform/versions";
import { observabilitySecret, release, type UnitScope } from "./unitScope";
import gpuDashboard from "./dashboards/gpu.json";
import redDashboard from "./dashboards/platform-red.json";
import vllmDashboard from "./dashboards/vllm.json";
import benchmarksDashboard from "./dashboards/benchmarks.json";
import { chartEndpoints } from "../platform/chartContracts";
import { defaultStorageClassName } from "../lib/k8s/defaultStorageClass";
import { onCpuNodes, sized } from "./chartValues";
import { datasourceUids, type Datasource } from "./signals";

/**
 * The RED dashboard's `service` variable lists the apps that report `http_requests_total` in the
 * registry's service namespaces, so a new team API appears without editing the dashboard.
 */
function redDashboardFor(reg: Registry) {
  const namespaces = [...new Set(Object.values(reg.services).map((d) => d.namespace))].join("|");
  const query = `label_values(http_requests_total{namespace=~"${namespaces}"}, app)`;
  const dashboard = structuredClone(redDashboard);
  const service = dashboard.templating.list.find((v) => v.name === "service");
  if (!service) throw new Error("platform-red.json: expected a `service` variable");
  service.query.query = query;
  service.definition = query;
  return dashboard;
}

/** The dashboards provisioned into Grafana, as JSON text by file name. */
export function dashboardsFor(reg: Registry = registry): Record<string, string> {
  return {
    "platform-red": JSON.stringify(redDashboardFor(reg)),
    vllm: JSON.stringify(vllmDashboard),
    gpu: JSON.stringify(gpuDashboard),
    benchmarks: JSON.stringify(benchmarksDashboard),
  };
}

/** The platform's dashboards. */
export const dashboards = dashboardsFor();

/**
 * Grafana with a generated admin password (generated once into Secrets Manager, synced by ESO into the
 * Secret `grafana-admin`), the given datasources and the dashboards. Returns the Secrets Manager name
 * of the admin credentials.
 */
export function createGrafana(
  scope: UnitScope,
  rootUrl: pulumi.Input<string>,
  datasources: DatasourceEndpoints,
): string {
  const password = new random.RandomPassword(
    `${scope.name}-grafana-admin`,
    { length: 32, special: false },
    { parent: scope.parent },
  );
  const admin = observabilitySecret(scope, "grafana-admin", {
    name: "grafana-admin",
    description: "Grafana's admin login (read at Grafana's first start only; docs/operations.md)",
    value: { json: { "admin-user": "admin", "admin-password": password.result } },
    owner: "secretsManager",
  });
  release(
    scope,
    "grafana",
    charts.grafana,
    pulumi.output(rootUrl).apply((url) =>
      grafanaValues({
        rootUrl: url,
        adminSecret: "grafana-admin",
        datasources,
        persistenceGi: scope.config.grafana.persistenceGi,
        dashboards,
      }),
    ),
    [admin.externalSecret],
  );
  return admin.secretsManagerName;
}

/** The datasource of each signal, from the unit that stores it. */
export interface DatasourceEndpoints {
  readonly metrics: Datasource;
  readonly logs: Datasource;
  readonly traces: Datasource;
}

/** Grafana datasources: one per signal, under the uid the others link to; metrics are the default. */
export function grafanaDatasources(from: DatasourceEndpoints) {
  const datasource = (uid: string, d: Datasource, isDefault?: true) => ({
    name: d.name,
    uid,
    type: d.type,
    access: "proxy",
    url: d.url,
    ...(isDefault ? { isDefault } : {}),
    jsonData: d.jsonData,
  });
  return {
    apiVersion: 1,
    datasources: [
      datasource(datasourceUids.metrics, from.metrics, true),
      datasource(datasourceUids.logs, from.logs),
      datasource(datasourceUids.traces, from.traces),
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
    // Dashboards and datasources come from values, not from sidecars watching ConfigMaps: Grafana
    // never calls the Kubernetes API, so no token in the pod and no (empty) cluster role.
    automountServiceAccountToken: false,
    rbac: { create: false },
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
