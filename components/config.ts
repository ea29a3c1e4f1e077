/**
 * Stack configuration: the ONLY module that reads `pulumi.Config`.
 *
 * `loadConfig()` reads the stack's keys, validates them against one schema and returns a typed,
 * defaulted object. Any problem throws `ConfigError` listing every bad key path and what was expected,
 * before the program registers a single resource. `parseConfig()` is the pure part, tested directly.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  accessEntrySchema,
  accessPolicies,
  clusterSchema,
  cpuGroupSchema,
  gpuGroupSchema,
  networkSchema,
  nodeGroupsSchema,
  tagsSchema,
} from "./schema/aws";
import { gpuInstanceShapes } from "./aws/gpuInstances";
import { serviceDesign, serviceNames } from "./catalog";
import { edgeSchema, type EdgeConfig } from "./schema/edge";
import { observabilitySchema, type ObservabilityConfig } from "./schema/observability";
import { modelVariants, modelsSchema, type ModelsConfig } from "./schema/models";
import {
  namespacesSchema,
  servicesSchema,
  type NamespacesConfig,
  type ServicesConfig,
} from "./schema/platform";
import { cpuMillis, fitsWithin, memoryBytes, regionPattern } from "./schema/primitives";

/** The Pulumi project name, and so the namespace of this program's config keys. */
export const project = "llm-platform";

/** The raw stack config the schema reads, keyed by full config key (namespace = `project`). */
const rawSchema = z
  .strictObject({
    "aws:region": z
      .string({ error: "required: the AWS region, e.g. us-west-2" })
      .regex(regionPattern, "expected an AWS region such as us-west-2"),
    "llm-platform:namePrefix": z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{2,22}[a-z0-9]$/,
        "expected 4-24 lowercase letters, digits or '-' (IAM role names derive from it)",
      )
      .optional(),
    "llm-platform:tags": tagsSchema.default({}),
    "llm-platform:network": networkSchema,
    "llm-platform:cluster": clusterSchema,
    "llm-platform:nodeGroups": nodeGroupsSchema,
    "llm-platform:namespaces": namespacesSchema,
    "llm-platform:services": servicesSchema,
    "llm-platform:models": modelsSchema,
    "llm-platform:edge": edgeSchema,
    "llm-platform:observability": observabilitySchema,
    /** Alertmanager webhook (secret): where alerts are sent; none = visible in Grafana only. */
    "llm-platform:alertWebhookUrl": z
      .string()
      .regex(/^https:\/\/\S+$/, "expected an https:// URL")
      .optional(),
    /** Hugging Face token (secret) for gated models. */
    "llm-platform:hfToken": z.string().min(8, "expected a Hugging Face access token").optional(),
  })
  .superRefine((r, ctx) => {
    for (const problem of servicesOutsideNamespaceLimits(
      r["llm-platform:namespaces"],
      r["llm-platform:services"],
    )) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-platform:services", ...problem.path],
        message: problem.message,
      });
    }
    for (const problem of modelsOutsideCapacity(r)) {
      ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
    }
  });

type Problem = { path: (string | number)[]; message: string };

/**
 * Models must fit what runs them: their GPU group (one model pod per node, and each pod within a
 * node's shape after system reservations), the llm-baseline quota and LimitRange; the gateway's LoRA
 * variants must be adapters the LoRA server knows; gated models need the Hugging Face token.
 */
function modelsOutsideCapacity(r: {
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
  const total = modelVariants.reduce((n, v) => n + m.variants[v].replicas, 0);
  if (total > group.maxSize) {
    problems.push({
      path: at("variants"),
      message: `${total} model replicas need ${total} GPU nodes (one model per node), nodeGroups.gpu ${group.name} allows maxSize ${group.maxSize}`,
    });
  }
  const ns = r["llm-platform:namespaces"]["llm-baseline"];
  const gpuQuota = ns.quota["requests.nvidia.com/gpu"] ?? 0;
  if (total > gpuQuota) {
    problems.push({
      path: at("variants"),
      message: `${total} model replicas need ${total} GPUs, the llm-baseline quota allows ${gpuQuota}`,
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
    cpu += m.variants[v].replicas * cpuMillis(res.cpu)!;
    memory += m.variants[v].replicas * memoryBytes(res.memory)!;
  }
  if (
    cpu > cpuMillis(ns.quota["requests.cpu"])! ||
    memory > memoryBytes(ns.quota["requests.memory"])!
  ) {
    problems.push({
      path: at("variants"),
      message: `all model replicas need ${cpu}m CPU and ${memory / 2 ** 30}Gi, more than the llm-baseline quota`,
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
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
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

/** The config keys this program reads. */
export const configKeys = Object.keys(rawSchema.shape);

// ---------------------------------------------------------------------------------------------
// Typed result
// ---------------------------------------------------------------------------------------------

type Raw = z.output<typeof rawSchema>;
export type NetworkConfig = z.output<typeof networkSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type AccessEntryConfig = z.output<typeof accessEntrySchema>;
export type AccessPolicy = (typeof accessPolicies)[number];
/** A node group with its initial size resolved. */
export type CpuNodeGroupConfig = Omit<z.output<typeof cpuGroupSchema>, "desiredSize"> & {
  desiredSize: number;
};
export type GpuNodeGroupConfig = Omit<z.output<typeof gpuGroupSchema>, "desiredSize"> & {
  desiredSize: number;
};

/** The validated, defaulted configuration of one stack. */
export interface PlatformConfig {
  /** Stack name, used as the `Environment` tag and label. */
  readonly stack: string;
  readonly region: string;
  /** Prefix of physical names; also the EKS cluster name. */
  readonly namePrefix: string;
  /** Tags on every AWS resource (program tags + config tags). */
  readonly tags: Readonly<Record<string, string>>;
  readonly network: NetworkConfig;
  readonly cluster: ClusterConfig;
  readonly nodeGroups: {
    readonly cpu: CpuNodeGroupConfig;
    readonly gpu: readonly GpuNodeGroupConfig[];
  };
  /** Quota and LimitRange per namespace. */
  readonly namespaces: NamespacesConfig;
  /** The gateway and the three team APIs. */
  readonly services: ServicesConfig;
  /** The four vLLM variants and the shared model cache. */
  readonly models: ModelsConfig;
  /** Public hosts, TLS, DNS, access logs and WAF of the load balancer. */
  readonly edge: EdgeConfig;
  /** Metrics, logs, traces, dashboards and alerting. */
  readonly observability: ObservabilityConfig;
  /** Hugging Face token, a secret Output end to end. */
  readonly hfToken?: pulumi.Output<string>;
  /** Alertmanager webhook URL, a secret Output end to end. */
  readonly alertWebhookUrl?: pulumi.Output<string>;
}

/** Thrown for invalid stack config; the message lists every problem as `key.path: expected ...`. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** `llm-platform:nodeGroups` + ["gpu", 1, "instanceTypes"] -> `llm-platform:nodeGroups.gpu[1].instanceTypes`. */
function formatPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  return rest.reduce<string>(
    (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : `${acc}.${String(p)}`),
    head === undefined ? "(stack config)" : String(head),
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((k) => `${formatPath([...issue.path, k])}: unknown key (check its spelling)`)
      .join("; ");
  }
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
    return `${formatPath(issue.path)}: required (${issue.message.replace(/^Invalid input: /, "").replace(/, received undefined$/, "")})`;
  }
  return `${formatPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, "")}`;
}

/**
 * Validates raw stack config (full key -> YAML value) and returns the typed platform config.
 * Pure: no Pulumi runtime needed.
 */
export function parseConfig(raw: Record<string, unknown>, stack: string): PlatformConfig {
  const result = rawSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(result.error.issues.map(describeIssue));
  const r: Raw = result.data;
  const groups = r["llm-platform:nodeGroups"];
  const withDesired = <G extends { minSize: number; desiredSize?: number | undefined }>(g: G) => ({
    ...g,
    desiredSize: g.desiredSize ?? g.minSize,
  });
  return {
    stack,
    region: r["aws:region"],
    namePrefix: r["llm-platform:namePrefix"] ?? `llmplatform-${stack}`,
    tags: { Project: project, Environment: stack, ManagedBy: "pulumi", ...r["llm-platform:tags"] },
    network: r["llm-platform:network"],
    cluster: r["llm-platform:cluster"],
    nodeGroups: { cpu: withDesired(groups.cpu), gpu: groups.gpu.map(withDesired) },
    namespaces: r["llm-platform:namespaces"],
    services: r["llm-platform:services"],
    models: r["llm-platform:models"],
    edge: r["llm-platform:edge"],
    observability: r["llm-platform:observability"],
    ...(r["llm-platform:alertWebhookUrl"] !== undefined
      ? { alertWebhookUrl: pulumi.secret(r["llm-platform:alertWebhookUrl"]) }
      : {}),
    ...(r["llm-platform:hfToken"] !== undefined
      ? { hfToken: pulumi.secret(r["llm-platform:hfToken"]) }
      : {}),
  };
}

/**
 * Reads this stack's config (every `llm-platform:*` key plus `aws:region`) and validates it.
 * Unknown `llm-platform:*` keys are errors, so a typo cannot silently fall back to a default.
 */
export function loadConfig(): PlatformConfig {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k !== "aws:region" && !k.startsWith(`${project}:`)) continue;
    raw[k] = decode(v);
  }
  return parseConfig(raw, pulumi.getStack());
}

/** Pulumi hands structured values over as JSON text and scalars as plain text. */
function decode(value: string): unknown {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "object" && parsed !== null ? parsed : value;
  } catch {
    return value;
  }
}
