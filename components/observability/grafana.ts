import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { partOf } from "../catalog";
import { charts } from "../versions";
import { release, type AddonScope } from "./addon";
import gpuDashboard from "./dashboards/gpu.json";
import redDashboard from "./dashboards/platform-red.json";
import vllmDashboard from "./dashboards/vllm.json";
import { grafanaValues, type DatasourceEndpoints } from "./values/grafana";

/** The dashboards provisioned into Grafana, as JSON text by file name. */
export const dashboards: Record<string, string> = {
  "platform-red": JSON.stringify(redDashboard),
  vllm: JSON.stringify(vllmDashboard),
  gpu: JSON.stringify(gpuDashboard),
};

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
