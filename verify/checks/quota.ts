/**
 * Quota at the peak a namespace can reach: every pod template at its peak count (HPA max, DaemonSets on
 * every eligible node of every group at its maximum size, StatefulSet and operator replicas), plus one
 * surge pod of the largest rolling Deployment, with the LimitRange defaults applied the way the API
 * server does; and object counts (Services, ConfigMaps, Secrets including Helm's release history and
 * the Prometheus Operator's generated Secrets, PVCs). Each container must also pass the LimitRange.
 */
import { claims, type ClusterModel, type KObject, type PodInstance } from "../model";
import { findings, type Finding } from "./problem";

const suffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity ("500m", "2Gi", "1e3", 4) as a number. */
export function parseQuantity(q: string | number): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(
    q.trim(),
  );
  if (!m) throw new Error(`not a Kubernetes quantity: ${q}`);
  return Number(m[1]) * suffixes[m[2] ?? ""]!;
}

type Resources = Record<string, number>;
const computeResources = ["cpu", "memory"];

/** A container's effective requests and limits after API defaulting and the LimitRange. */
export function effectiveResources(
  container: any,
  limitRange: any, // undefined when the namespace has no LimitRange
): { requests: Resources; limits: Resources; problems: string[] } {
  const requests: Resources = {};
  const limits: Resources = {};
  const problems: string[] = [];
  const given = container.resources ?? {};
  for (const [k, v] of Object.entries(given.limits ?? {})) limits[k] = parseQuantity(v as string);
  for (const [k, v] of Object.entries(given.requests ?? {}))
    requests[k] = parseQuantity(v as string);
  // API defaulting: a limit without a request sets the request.
  for (const k of Object.keys(limits)) if (requests[k] === undefined) requests[k] = limits[k]!;
  const item = limitRange?.spec.limits.find((l: any) => l.type === "Container");
  for (const k of computeResources) {
    const def = item?.default?.[k];
    const defReq = item?.defaultRequest?.[k] ?? def;
    if (limits[k] === undefined && def !== undefined) limits[k] = parseQuantity(def);
    if (requests[k] === undefined && defReq !== undefined) requests[k] = parseQuantity(defReq);
    const req = requests[k];
    const lim = limits[k];
    if (req !== undefined && lim !== undefined && req > lim) {
      problems.push(`${container.name}: ${k} request ${req} exceeds its (defaulted) limit ${lim}`);
    }
    const max = item?.max?.[k];
    if (max !== undefined && (lim === undefined || lim > parseQuantity(max))) {
      problems.push(
        `${container.name}: ${k} limit ${lim ?? "none"} above the LimitRange max ${max}`,
      );
    }
    const min = item?.min?.[k];
    if (min !== undefined && (req === undefined || req < parseQuantity(min))) {
      problems.push(
        `${container.name}: ${k} request ${req ?? "none"} below the LimitRange min ${min}`,
      );
    }
  }
  return { requests, limits, problems };
}

/** A pod's quota usage: regular containers and sidecars add up; one-shot init containers take the max. */
function podUsage(
  spec: any,
  limitRange: any, // undefined when the namespace has no LimitRange
): { usage: Resources; problems: string[] } {
  const usage: Resources = {};
  const problems: string[] = [];
  const add = (into: Resources, c: any) => {
    const e = effectiveResources(c, limitRange);
    problems.push(...e.problems);
    for (const [k, v] of Object.entries(e.requests))
      into[`requests.${k}`] = (into[`requests.${k}`] ?? 0) + v;
    for (const [k, v] of Object.entries(e.limits))
      into[`limits.${k}`] = (into[`limits.${k}`] ?? 0) + v;
  };
  for (const c of spec.containers ?? []) add(usage, c);
  for (const c of spec.initContainers ?? []) {
    if (c.restartPolicy === "Always") {
      add(usage, c);
      continue;
    }
    const one: Resources = {};
    add(one, c);
    for (const [k, v] of Object.entries(one)) usage[k] = Math.max(usage[k] ?? 0, v);
  }
  return { usage, problems };
}

/** Secrets and ConfigMaps the Prometheus Operator generates per Prometheus / Alertmanager. */
const operatorGenerated: Record<string, { secrets: number; configmaps: number }> = {
  Prometheus: { secrets: 3, configmaps: 1 }, // config, tls-assets-0, web-config; rulefiles-0
  Alertmanager: { secrets: 4, configmaps: 0 }, // generated, tls-assets-0, web-config, cluster-tls-config
};

/** Usage of a namespace at its peak, per quota key. */
function namespaceUsage(
  model: ClusterModel,
  pods: readonly PodInstance[],
  namespace: string,
  limitRange: KObject | undefined,
): { usage: Resources; problems: string[] } {
  const usage: Resources = {};
  const problems: string[] = [];
  const inc = (k: string, n: number) => (usage[k] = (usage[k] ?? 0) + n);
  let surge: Resources | undefined;
  for (const p of pods.filter((x) => x.namespace === namespace)) {
    const u = podUsage(p.spec, limitRange);
    problems.push(...u.problems.map((x) => `${p.owner}: ${x}`));
    for (const [k, v] of Object.entries(u.usage)) inc(k, v * p.peak);
    inc("pods", p.peak);
    if (
      p.surges &&
      p.peak > 0 &&
      (!surge || (u.usage["limits.cpu"] ?? 0) > (surge["limits.cpu"] ?? 0))
    ) {
      surge = { ...u.usage, pods: 1 };
    }
  }
  for (const [k, v] of Object.entries(surge ?? {})) inc(k, v);
  const objects = model.objects.filter((o) => o.obj.metadata.namespace === namespace);
  const count = (kind: string) => objects.filter((o) => o.obj.kind === kind).length;
  inc("services", count("Service"));
  inc("configmaps", count("ConfigMap"));
  inc("secrets", count("Secret"));
  inc(
    "persistentvolumeclaims",
    claims(model.objects).filter((c) => c.namespace === namespace).length,
  );
  for (const { obj } of objects) {
    const g = obj.apiVersion.startsWith("monitoring.coreos.com/")
      ? operatorGenerated[obj.kind]
      : undefined;
    if (g) {
      inc("secrets", g.secrets);
      inc("configmaps", g.configmaps);
    }
  }
  for (const r of model.releases.filter((x) => x.namespace === namespace)) {
    if (!r.maxHistory)
      problems.push(`Helm release ${r.name}: history is unbounded (no maxHistory)`);
    inc("secrets", r.maxHistory || 10);
  }
  // Extended resources are requested and limited alike; quota keys name them `requests.<resource>`.
  for (const k of Object.keys(usage)) {
    if (k.startsWith("limits.") && !computeResources.includes(k.slice(7))) {
      usage[`requests.${k.slice(7)}`] = Math.max(usage[`requests.${k.slice(7)}`] ?? 0, usage[k]!);
    }
  }
  return { usage, problems };
}

export function checkQuotas(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("quota");
  for (const { obj: quota } of model.objects.filter((o) => o.obj.kind === "ResourceQuota")) {
    const ns = quota.metadata.namespace!;
    const limitRange = model.objects.find(
      (o) => o.obj.kind === "LimitRange" && o.obj.metadata.namespace === ns,
    )?.obj;
    const { usage, problems } = namespaceUsage(model, pods, ns, limitRange);
    for (const p of problems) f.add(`namespace ${ns}`, p);
    for (const [key, hard] of Object.entries(quota.spec.hard as Record<string, string>)) {
      const used = usage[key.replace(/^count\//, "")] ?? 0;
      if (used > parseQuantity(hard)) {
        f.add(
          `namespace ${ns}`,
          `${key}: peak ${formatQuantity(key, used)} exceeds the quota ${hard}`,
        );
      }
    }
  }
  return f.out;
}

function formatQuantity(key: string, v: number): string {
  if (key.endsWith("memory")) return `${(v / 2 ** 30).toFixed(2)}Gi`;
  if (key.endsWith("cpu")) return `${Math.round(v * 1000)}m`;
  return String(v);
}

/**
 * Every container states its CPU and memory requests and a memory limit, instead of inheriting the
 * namespace's LimitRange defaults (sized for small apps: a database or Prometheus on them is OOM-killed).
 */
export function checkExplicitResources(pods: readonly PodInstance[]): Finding[] {
  const f = findings("resources");
  for (const p of pods) {
    for (const c of [...(p.spec.initContainers ?? []), ...(p.spec.containers ?? [])]) {
      const r = c.resources ?? {};
      const missing = [
        r.requests?.cpu === undefined && "requests.cpu",
        r.requests?.memory === undefined && "requests.memory",
        r.limits?.memory === undefined && "limits.memory",
      ].filter(Boolean);
      if (missing.length) f.add(p.owner, `container ${c.name} sets no ${missing.join(", ")}`);
    }
  }
  return f.out;
}
