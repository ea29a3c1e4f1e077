/**
 * Every in-cluster address the program writes (ConfigMaps, env, chart values, datasources, exporters,
 * remote-write URLs) resolves: a Service of that name and namespace has that port, its selector matches
 * pods, and those pods expose the port it targets.
 */
import { resolveTargetPort, serviceSelects, type ClusterModel, type PodInstance } from "../model";
import { findings, type Finding } from "./problem";

export function checkAddresses(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("addresses");
  for (const a of model.addresses) {
    const subject = `${a.host} (${a.where})`;
    const svc = model.objects.find(
      (o) =>
        o.obj.kind === "Service" &&
        o.obj.metadata.name === a.service &&
        o.obj.metadata.namespace === a.namespace,
    );
    if (!svc) {
      f.add(subject, `no Service ${a.namespace}/${a.service}`);
      continue;
    }
    const port = (svc.obj.spec.ports ?? []).find((p: any) => p.port === a.port);
    if (!port) {
      const have = (svc.obj.spec.ports ?? []).map((p: any) => p.port).join(", ");
      f.add(subject, `Service ${a.namespace}/${a.service} has no port ${a.port} (has ${have})`);
      continue;
    }
    const selected = pods.filter(
      (p) => p.namespace === a.namespace && serviceSelects(svc.obj.spec.selector, p.labels),
    );
    if (selected.length === 0) {
      f.add(subject, `Service ${a.namespace}/${a.service} selects no pod`);
      continue;
    }
    const target = port.targetPort ?? port.port;
    if (!selected.some((p) => resolveTargetPort(p.spec, target, port.protocol ?? "TCP"))) {
      f.add(subject, `no pod behind ${a.namespace}/${a.service} exposes target port ${target}`);
    }
  }
  return f.out;
}
