/**
 * Checks across config concerns (services vs namespaces, models vs node groups and quota): a value can
 * be valid alone and still not fit what runs it. Pure; used by config.ts's schema.
 */
import { gpuInstanceShapes } from "../platform/instanceTypes";
import { registry, routedServices } from "../platform/registry";
import { type Registry } from "../platform/designs";
import {
  replicaRange,
  variantConfig,
  variantEntries,
  variantNodeGroup,
  type ModelsConfig,
  type ModelVariantConfig,
} from "./models";
import {
  namespaceConfig,
  serviceConfig,
  type NamespacesConfig,
  type ServicesConfig,
} from "./teams";
import { cpuMillis, fitsWithin, memoryBytes } from "./primitives";

export type Problem = { path: (string | number)[]; message: string };

/** A GPU node group as the capacity checks see it. */
export interface GpuGroupCapacity {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly maxSize: number;
}

/** The variants placed on one GPU group and the nodes they need at peak (one model pod per node). */
export interface GroupLoad {
  readonly group: GpuGroupCapacity;
  readonly variants: readonly string[];
  readonly peakReplicas: number;
}

/**
 * Where the variants run: one entry per GPU group, in config order, with the variants placed on it
 * and their peak replicas (autoscaled variants can all peak at once). Variants naming no known group
 * are left out; `modelsOutsideCapacity` reports them.
 */
export function gpuGroupLoads(m: ModelsConfig, groups: readonly GpuGroupCapacity[]): GroupLoad[] {
  return groups.map((group) => {
    const variants = Object.keys(m.variants).filter((v) => variantNodeGroup(m, v) === group.name);
    const peakReplicas = variants.reduce((n, v) => n + replicaRange(variantConfig(m, v)).max, 0);
    return { group, variants, peakReplicas };
  });
}

/**
 * What vLLM can use of a GPU's nominal memory: the driver reports about 93.7 % of it on A10G, L4, T4
 * and L40S (e.g. 23028 MiB of an A10G's 24 GiB), and `--gpu-memory-utilization` is a share of that.
 */
const usableGpuMemoryShare = 0.93;
/** Peak activations of the profiling run, CUDA graphs and non-torch allocations (vLLM), assumed. */
const gpuOverheadGiB = 2;

/**
 * Why a variant would not start on a GPU (vLLM refuses to start when one sequence of `maxModelLen`
 * tokens does not fit the KV cache left after the weights), or undefined when it fits.
 */
export function gpuMemoryShortfall(
  v: Pick<ModelVariantConfig, "footprint" | "maxModelLen" | "gpuMemoryUtilization">,
  gpu: { gpuMemoryGiB: number },
): string | undefined {
  const budget = gpu.gpuMemoryGiB * usableGpuMemoryShare * v.gpuMemoryUtilization;
  const kvCache = (v.footprint.kvCacheKiBPerToken * v.maxModelLen) / 2 ** 20;
  const need = v.footprint.weightsGiB + gpuOverheadGiB + kvCache;
  if (need <= budget) return undefined;
  const gib = (x: number) => `${x.toFixed(1)} GiB`;
  return (
    `needs ${gib(need)} (weights ${gib(v.footprint.weightsGiB)} + ${gib(gpuOverheadGiB)} runtime + ` +
    `KV cache for maxModelLen ${v.maxModelLen} ${gib(kvCache)}), vLLM may use ${gib(budget)} ` +
    `(${gpu.gpuMemoryGiB} GiB × ${usableGpuMemoryShare} usable × gpuMemoryUtilization ${v.gpuMemoryUtilization})`
  );
}

/**
 * Models must fit what runs them: each variant its GPU group (one model pod per node, each pod within
 * the group's node shape after system reservations, the group's peak within its maxSize), and all of
 * them the llm-baseline quota and LimitRange; the gateway's LoRA variants must be adapters the LoRA
 * server knows; gated models need the Hugging Face token.
 */
export function modelsOutsideCapacity(
  r: {
    "llm-platform:nodeGroups": { gpu: GpuGroupCapacity[] };
    "llm-platform:namespaces": NamespacesConfig;
    "llm-platform:services": ServicesConfig;
    "llm-platform:models": ModelsConfig;
    "llm-platform:hfToken"?: string | undefined;
  },
  reg: Registry = registry,
): Problem[] {
  const problems: Problem[] = [];
  const m = r["llm-platform:models"];
  const at = (...path: (string | number)[]) => ["llm-platform:models", ...path];
  const groups = r["llm-platform:nodeGroups"].gpu;
  const names = groups.map((g) => g.name).join(", ");
  const unknown = (name: string) => !groups.some((g) => g.name === name);
  const variants = variantEntries(m);
  if (unknown(m.nodeGroup) && variants.some(([, v]) => !v.nodeGroup)) {
    problems.push({
      path: at("nodeGroup"),
      message: `expected one of the GPU node groups (${names})`,
    });
  }
  for (const [v, { nodeGroup: own }] of variants) {
    if (own !== undefined && unknown(own)) {
      problems.push({
        path: at("variants", v, "nodeGroup"),
        message: `expected one of the GPU node groups (${names})`,
      });
    }
  }
  if (problems.length > 0) return problems;
  const peak = (v: string) => replicaRange(variantConfig(m, v)).max;
  for (const { group, variants, peakReplicas } of gpuGroupLoads(m, groups)) {
    if (peakReplicas > group.maxSize) {
      problems.push({
        path: at("variants"),
        message: `${peakReplicas} model replicas at peak (${variants.join(", ")}) need ${peakReplicas} GPU nodes (one model per node), nodeGroups.gpu ${group.name} allows maxSize ${group.maxSize}`,
      });
    }
    const type = group.instanceTypes[0];
    const shape = type === undefined ? undefined : gpuInstanceShapes[type];
    if (!shape) continue; // the node group's own schema reports a missing or unknown type
    for (const v of variants) {
      const gpuProblem = gpuMemoryShortfall(variantConfig(m, v), shape);
      if (gpuProblem) {
        problems.push({
          path: at("variants", v, "footprint"),
          message: `${gpuProblem}: does not fit one ${shape.gpuModel} GPU of group ${group.name} (${type})`,
        });
      }
      const res = variantConfig(m, v).resources;
      // Leave 1 vCPU and 4 GiB of every node to the kubelet reservation and the node agents.
      if (
        cpuMillis(res.cpu)! > (shape.vcpu - 1) * 1000 ||
        memoryBytes(res.memory)! > (shape.memoryGiB - 4) * 2 ** 30
      ) {
        problems.push({
          path: at("variants", v, "resources"),
          message: `expected at most ${shape.vcpu - 1} CPU and ${shape.memoryGiB - 4}Gi to fit a ${type} node of group ${group.name} (${shape.vcpu} vCPU / ${shape.memoryGiB} GiB) beside its system pods`,
        });
      }
    }
  }
  const total = variants.reduce((n, [v]) => n + peak(v), 0);
  const ns = r["llm-platform:namespaces"]["llm-baseline"];
  const gpuQuota = ns.quota["requests.nvidia.com/gpu"] ?? 0;
  if (total > gpuQuota) {
    problems.push({
      path: at("variants"),
      message: `${total} model replicas at peak need ${total} GPUs, the llm-baseline quota allows ${gpuQuota}`,
    });
  }
  let cpu = 0;
  let memory = 0;
  for (const [v, { resources: res }] of variants) {
    if (!fitsWithin(res, ns.limits.max) || !fitsWithin(ns.limits.min, res)) {
      problems.push({
        path: at("variants", v, "resources"),
        message: `expected within llm-baseline's LimitRange max ${fmt(ns.limits.max)}`,
      });
    }
    cpu += peak(v) * cpuMillis(res.cpu)!;
    memory += peak(v) * memoryBytes(res.memory)!;
  }
  if (
    cpu > cpuMillis(ns.quota["requests.cpu"])! ||
    memory > memoryBytes(ns.quota["requests.memory"])!
  ) {
    problems.push({
      path: at("variants"),
      message: `all model replicas at peak need ${cpu}m CPU and ${memory / 2 ** 30}Gi, the llm-baseline quota allows requests.cpu ${ns.quota["requests.cpu"]} and requests.memory ${ns.quota["requests.memory"]}`,
    });
  }
  // A route that splits between LoRA variants sends them to its API's adapter-serving model.
  for (const [api, d] of routedServices(reg)) {
    const server = Object.keys(reg.models).find(
      (v) => reg.models[v]!.client === api && reg.models[v]!.servesAdapters,
    );
    if (!d.route.loraVariants || !server) continue;
    const adapters = variantConfig(m, server).lora?.adapters ?? [];
    const key = d.route.key;
    (r["llm-platform:services"].gateway.routes[key]?.variants ?? []).forEach((variant, i) => {
      if (!adapters.includes(variant.name)) {
        problems.push({
          path: ["llm-platform:services", "gateway", "routes", key, "variants", i, "name"],
          message: `expected one of the LoRA server's adapters (${adapters.join(", ")})`,
        });
      }
    });
  }
  const gated = variants.filter(([, v]) => v.gated).map(([name]) => name);
  if (gated.length > 0 && r["llm-platform:hfToken"] === undefined) {
    problems.push({
      path: ["llm-platform:hfToken"],
      message:
        `required: models.variants ${gated.join(", ")} use gated Hugging Face models; ` +
        "set it with `pulumi config set --secret llm-platform:hfToken <token>`",
    });
  }
  return problems;
}

/**
 * Each service must fit its namespace: its containers within the LimitRange bounds, and its peak
 * (max replicas + the one pod a rolling update adds) within the ResourceQuota. Otherwise the API
 * server rejects its pods at run time, long after `pulumi up` reported success.
 */
export function servicesOutsideNamespaceLimits(
  namespaces: NamespacesConfig,
  services: ServicesConfig,
  reg: Registry = registry,
): Problem[] {
  const problems: Problem[] = [];
  for (const [name, d] of Object.entries(reg.services)) {
    const svc = serviceConfig(services, name);
    const nsName = d.namespace;
    const ns = namespaceConfig(namespaces, nsName);
    for (const kind of ["requests", "limits"] as const) {
      if (
        !fitsWithin(ns.limits.min, svc.resources[kind]) ||
        !fitsWithin(svc.resources[kind], ns.limits.max)
      ) {
        problems.push({
          path: [name, "resources", kind],
          message: `expected within namespace ${nsName}'s LimitRange min ${fmt(ns.limits.min)} and max ${fmt(ns.limits.max)}`,
        });
      }
    }
    const peak = (svc.hpa?.maxReplicas ?? svc.replicas ?? 0) + 1;
    const q = ns.quota;
    const need = {
      "requests.cpu": peak * cpuMillis(svc.resources.requests.cpu)!,
      "limits.cpu": peak * cpuMillis(svc.resources.limits.cpu)!,
      "requests.memory": peak * memoryBytes(svc.resources.requests.memory)!,
      "limits.memory": peak * memoryBytes(svc.resources.limits.memory)!,
    };
    const have = {
      "requests.cpu": cpuMillis(q["requests.cpu"])!,
      "limits.cpu": cpuMillis(q["limits.cpu"])!,
      "requests.memory": memoryBytes(q["requests.memory"])!,
      "limits.memory": memoryBytes(q["limits.memory"])!,
    };
    for (const key of Object.keys(need) as (keyof typeof need)[]) {
      if (need[key] > have[key]) {
        problems.push({
          path: [name],
          message: `at peak (${peak} pods incl. rolling-update surge) needs ${key} ${key.includes("cpu") ? `${need[key]}m` : `${need[key] / 2 ** 30}Gi`}, namespace ${nsName}'s quota allows ${q[key]}`,
        });
      }
    }
    if (peak > q.pods) {
      problems.push({
        path: [name],
        message: `at peak needs ${peak} pods, namespace ${nsName}'s quota allows ${q.pods}`,
      });
    }
  }
  return problems;
}

function fmt(r: { cpu: string; memory: string }): string {
  return `${r.cpu}/${r.memory}`;
}
