/**
 * Scrape targets: every PodMonitor and ServiceMonitor matches pods (or Services) with the port it
 * scrapes, some Prometheus selects it, and the NetworkPolicies let that Prometheus reach its targets.
 */
import {
  ref,
  resolveTargetPort,
  selects,
  serviceSelects,
  type ClusterModel,
  type KObject,
  type PodInstance,
} from "../model";
import { denied, namespaceLabels } from "./networkPolicies";
import { findings, type Finding } from "./problem";

/** Whether a monitor's namespaceSelector (`any`, `matchNames`, default: its own) covers `ns`. */
function inNamespaces(monitor: KObject, ns: string): boolean {
  const sel = monitor.spec.namespaceSelector ?? {};
  if (sel.any) return true;
  if (sel.matchNames?.length) return sel.matchNames.includes(ns);
  return ns === monitor.metadata.namespace;
}

/** Whether a Prometheus resource selects a monitor (nil selector: none; nil namespace selector: own). */
function prometheusSelects(model: ClusterModel, prom: KObject, monitor: KObject): boolean {
  const kind = monitor.kind === "PodMonitor" ? "podMonitor" : "serviceMonitor";
  const sel = prom.spec[`${kind}Selector`];
  const nsSel = prom.spec[`${kind}NamespaceSelector`];
  if (!sel || !selects(sel, monitor.metadata.labels ?? {})) return false;
  const ns = monitor.metadata.namespace!;
  return nsSel ? selects(nsSel, namespaceLabels(model, ns)) : ns === prom.metadata.namespace;
}

export function checkMonitors(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("monitors");
  const prometheuses = model.objects
    .filter(
      (o) => o.obj.kind === "Prometheus" && o.obj.apiVersion.startsWith("monitoring.coreos.com/"),
    )
    .map((o) => o.obj);
  const prometheusPods = pods.filter((p) => p.kind === "Prometheus");
  const services = model.objects.filter((o) => o.obj.kind === "Service").map((o) => o.obj);
  for (const { obj: m } of model.objects) {
    if (m.kind !== "PodMonitor" && m.kind !== "ServiceMonitor") continue;
    if (!prometheuses.some((p) => prometheusSelects(model, p, m))) {
      f.add(ref(m), "no Prometheus selects it");
    }
    // Each scrape: the pod and container port it lands on.
    const targets: { pod: PodInstance; port: number }[] = [];
    if (m.kind === "PodMonitor") {
      const matched = pods.filter(
        (p) => inNamespaces(m, p.namespace) && selects(m.spec.selector, p.labels),
      );
      if (matched.length === 0) f.add(ref(m), "selects no pod");
      for (const e of m.spec.podMetricsEndpoints ?? []) {
        const port = e.port ?? e.portNumber ?? e.targetPort;
        const hits = matched.flatMap((p) => {
          const n = resolveTargetPort(p.spec, port);
          return n ? [{ pod: p, port: n }] : [];
        });
        if (matched.length && hits.length === 0) f.add(ref(m), `no selected pod has port ${port}`);
        targets.push(...hits);
      }
    } else {
      const matched = services.filter(
        (s) =>
          inNamespaces(m, s.metadata.namespace!) &&
          selects(m.spec.selector, s.metadata.labels ?? {}),
      );
      if (matched.length === 0) f.add(ref(m), "selects no Service");
      for (const e of m.spec.endpoints ?? []) {
        const withPort = matched.filter((s) =>
          (s.spec.ports ?? []).some(
            (p: any) => p.name === e.port || p.port === e.port || p.targetPort === e.targetPort,
          ),
        );
        if (matched.length && withPort.length === 0)
          f.add(ref(m), `no selected Service has port ${e.port ?? e.targetPort}`);
        for (const s of withPort) {
          const sp = s.spec.ports.find(
            (p: any) => p.name === e.port || p.port === e.port || p.targetPort === e.targetPort,
          );
          for (const p of pods.filter(
            (x) =>
              x.namespace === s.metadata.namespace && serviceSelects(s.spec.selector, x.labels),
          )) {
            const n = resolveTargetPort(p.spec, sp.targetPort ?? sp.port);
            if (n) targets.push({ pod: p, port: n });
          }
        }
      }
    }
    for (const t of targets) {
      if (t.pod.spec.hostNetwork) continue; // node addresses: outside pod NetworkPolicies
      for (const prom of prometheusPods) {
        const why = denied(model, { pod: prom }, { pod: t.pod }, t.port);
        if (why) f.add(ref(m), `${prom.owner} cannot scrape ${t.pod.owner}:${t.port}: ${why}`);
      }
    }
  }
  return f.out;
}
