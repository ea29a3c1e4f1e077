/**
 * Checks across config concerns (services vs namespaces, models vs node groups and quota): a value can
 * be valid alone and still not fit what runs it. Pure; used by config.ts's schema.
 */
import { gpuInstanceShapes } from "../aws/gpuInstances";
import { serviceDesign, serviceNames } from "../catalog";
import { modelVariants, replicaRange, type ModelsConfig } from "./models";
import type { NamespacesConfig, ServicesConfig } from "./platform";
import { cpuMillis, fitsWithin, memoryBytes } from "./primitives";

export type Problem = { path: (string | number)[]; message: string };

/**
 * Models must fit what runs them: their GPU group (one model pod per node, and each pod within a
 * node's shape after system reservations), the llm-baseline quota and LimitRange; the gateway's LoRA
 * variants must be adapters the LoRA server knows; gated models need the Hugging Face token.
 */
export function modelsOutsideCapacity(r: {
  "llm-platform:nodeGroups": { gpu: { name: string; instanceTypes: string[]; maxSize: number }[] };
  "llm-platform:namespaces": NamespacesConfig;
  "llm-platform:services": ServicesConfig;
  "llm-platform:models": ModelsConfig;
  "llm-platform:hfToken"?: string | undefined;
}): Problem[] {
  const problems: Problem[] = [];
  const m = r["llm-platform:models"];
  const at = (...path: (string | number)[]) => ["llm-platform:models", ...path];
  const group = r["llm-platform:nodeGroups"].gpu.find((g) => g.name === m.nodeGroup);
  if (!group) {
    const names = r["llm-platform:nodeGroups"].gpu.map((g) => g.name).join(", ");
    return [{ path: at("nodeGroup"), message: `expected one of the GPU node groups (${names})` }];
  }
  const shape = gpuInstanceShapes[group.instanceTypes[0]!]!;
  // Autoscaled variants can all peak at once: their maximum must fit, not just today's count.
  const peak = (v: (typeof modelVariants)[number]) => replicaRange(m.variants[v]).max;
  const total = modelVariants.reduce((n, v) => n + peak(v), 0);
  if (total > group.maxSize) {
    problems.push({
      path: at("variants"),
      message: `${total} model replicas at peak need ${total} GPU nodes (one model per node), nodeGroups.gpu ${group.name} allows maxSize ${group.maxSize}`,
    });
  }
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
  for (const v of modelVariants) {
    const res = m.variants[v].resources;
    // Leave 1 vCPU and 4 GiB of every node to the kubelet reservation and the node agents.
    if (
      cpuMillis(res.cpu)! > (shape.vcpu - 1) * 1000 ||
      memoryBytes(res.memory)! > (shape.memoryGiB - 4) * 2 ** 30
    ) {
      problems.push({
        path: at("variants", v, "resources"),
        message: `expected at most ${shape.vcpu - 1} CPU and ${shape.memoryGiB - 4}Gi to fit a ${group.instanceTypes[0]} node (${shape.vcpu} vCPU / ${shape.memoryGiB} GiB) beside its system pods`,
      });
    }
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
      message: `all model replicas at peak need ${cpu}m CPU and ${memory / 2 ** 30}Gi, more than the llm-baseline quota`,
    });
  }
  const adapters = m.variants.lora.lora?.adapters ?? [];
  r["llm-platform:services"].gateway.routes.finetune.variants.forEach((variant, i) => {
    if (!adapters.includes(variant.name)) {
      problems.push({
        path: ["llm-platform:services", "gateway", "routes", "finetune", "variants", i, "name"],
        message: `expected one of the LoRA server's adapters (${adapters.join(", ")})`,
      });
    }
  });
  const gated = modelVariants.filter((v) => m.variants[v].gated);
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
): Problem[] {
  const problems: Problem[] = [];
  for (const name of serviceNames) {
    const svc = services[name];
    const nsName = serviceDesign[name].namespace;
    const ns = namespaces[nsName];
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
