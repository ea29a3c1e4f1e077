import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { partOf, registry } from "../platform/registry";
import { type Registry } from "../platform/designs";
import { charts } from "../platform/versions";
import { release, type AddonScope } from "./unitScope";
import gpuDashboard from "./dashboards/gpu.json";
import redDashboard from "./dashboards/platform-red.json";
import vllmDashboard from "./dashboards/vllm.json";
import { grafanaValues, type DatasourceEndpoints } from "./values/grafana";

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
  };
}

/** The platform's dashboards. */
export const dashboards = dashboardsFor();

/**
 * Grafana with a generated admin password (in a Secret), the given datasources and the dashboards.
 * Returns the admin password (secret).
 */
export function createGrafana(
  s: AddonScope,
  rootUrl: pulumi.Input<string>,
  datasources: DatasourceEndpoints,
): pulumi.Output<string> {
  const password = new random.RandomPassword(
    `${s.name}-grafana-admin`,
    { length: 32, special: false },
    { parent: s.parent },
  );
  const adminSecret = new k8s.core.v1.Secret(
    `${s.name}-grafana-admin`,
    {
      metadata: {
        name: "grafana-admin",
        namespace: s.namespace,
        labels: { "app.kubernetes.io/part-of": partOf },
      },
      stringData: { "admin-user": "admin", "admin-password": password.result },
    },
    { parent: s.parent },
  );
  release(
    s,
    "grafana",
    charts.grafana,
    pulumi.output(rootUrl).apply((url) =>
      grafanaValues({
        rootUrl: url,
        adminSecret: "grafana-admin",
        datasources,
        persistenceGi: s.o.grafana.persistenceGi,
        dashboards,
      }),
    ),
    [adminSecret],
  );
  return password.result;
}
