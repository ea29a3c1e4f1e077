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
  gpuGroupWarnings,
  networkSchema,
  nodeGroupsSchema,
  preflightSchema,
  tagsSchema,
} from "./foundation";
import { budgetSchema, type BudgetConfig } from "./budget";
import {
  benchmarkProblems,
  benchmarksSchema,
  resolveBenchmarks,
  type BenchmarksConfig,
} from "./benchmarks";
import { edgeSchema, type EdgeConfig } from "./edge";
import { observabilitySchema, type ObservabilityConfig } from "./observability";
import { modelsOutsideCapacity, servicesOutsideNamespaceLimits } from "./crossChecks";
import { modelsSchema, secretArnPattern, type ModelsConfig } from "./models";
import { coldStartProblems, coldStartWarnings } from "./coldStart";
import {
  namespacesSchema,
  servicesSchema,
  type NamespacesConfig,
  type ServicesConfig,
} from "./teams";
import {
  bucketAccessLogsSchema,
  secretsSchema,
  type BucketAccessLogsConfig,
  type SecretsConfig,
} from "./secrets";
import { regionSchema, regionWarnings } from "./region";

/**
 * A boolean at the top level of the stack config: Pulumi hands scalars over as text ("true"), so the
 * words true and false are accepted as well as YAML booleans.
 */
const topLevelBoolean = z.preprocess(
  (v) => (v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "expected true or false" }),
);
import { modelNamespace } from "../platform/registry";

/** The Pulumi project name, and so the namespace of this program's config keys. */
const project = "llm-platform";

/** The raw stack config the schema reads, keyed by full config key (namespace = `project`). */
const rawSchema = z
  .strictObject({
    "aws:region": regionSchema,
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
    "llm-platform:budget": budgetSchema,
    /**
     * `pulumi destroy` deletes stored data with its container (ECR images, every bucket object
     * version); false: destroy stops at a non-empty repository or bucket, keeping the data.
     */
    "llm-platform:destroyDeletesData": topLevelBoolean.default(false),
    /** Benchmarks of the model variants (Argo Workflows): scenarios, latency target, schedule. */
    "llm-platform:benchmarks": benchmarksSchema.prefault({}),
    /** Alertmanager webhook (secret): where alerts are sent; none = visible in Grafana only. */
    "llm-platform:alertWebhookUrl": z
      .string()
      .regex(/^https:\/\/\S+$/, "expected an https:// URL")
      .optional(),
    /** Hugging Face token (secret) for gated models. */
    "llm-platform:hfToken": z.string().min(8, "expected a Hugging Face access token").optional(),
    /** Secrets Manager: ESO's refresh interval and the secrets' recovery window. */
    "llm-platform:secrets": secretsSchema,
    /** S3 server access logs of the data buckets. Off when omitted. */
    "llm-platform:bucketAccessLogs": bucketAccessLogsSchema,
    /** Client secret (secret) of Grafana's OIDC login at the load balancer (edge.grafana.auth.oidc). */
    "llm-platform:grafanaOidcClientSecret": z.string().min(1).optional(),
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
    for (const problem of [
      ...modelsOutsideCapacity(r),
      ...coldStartProblems(r["llm-platform:models"], r["llm-platform:nodeGroups"].gpu),
    ]) {
      ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
    }
    const oidc = r["llm-platform:edge"].grafana.auth;
    const oidcSecret = r["llm-platform:grafanaOidcClientSecret"] !== undefined;
    if (oidc !== undefined && "oidc" in oidc && !oidcSecret) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-platform:grafanaOidcClientSecret"],
        message:
          "required with edge.grafana.auth.oidc: pulumi config set --secret " +
          "llm-platform:grafanaOidcClientSecret <the app client's secret>",
      });
    } else if (oidcSecret && !(oidc !== undefined && "oidc" in oidc)) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-platform:grafanaOidcClientSecret"],
        message: "expected only with edge.grafana.auth.oidc (nothing reads it otherwise)",
      });
    }
    const modelLimits = r["llm-platform:namespaces"][modelNamespace].limits.max;
    for (const problem of benchmarkProblems(
      r["llm-platform:benchmarks"],
      r["llm-platform:models"],
      modelLimits,
    )) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-platform:benchmarks", ...problem.path],
        message: problem.message,
      });
    }
    const cacheCredential = r["llm-platform:models"].imageCache?.dockerHubCredentialArn;
    const secretRegion = cacheCredential && secretArnPattern.exec(cacheCredential)?.[1];
    if (secretRegion && secretRegion !== r["aws:region"]) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-platform:models", "imageCache", "dockerHubCredentialArn"],
        message: `expected a secret in the stack's region ${r["aws:region"]} (ECR reads it there), got ${secretRegion}`,
      });
    }
    const costTag = r["llm-platform:budget"].costAllocationTag;
    const tagKeys = Object.keys(programTags(r["llm-platform:tags"], ""));
    if (costTag !== undefined && !tagKeys.includes(costTag)) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-platform:budget", "costAllocationTag"],
        message: `expected one of the stack's tags (${tagKeys.join(", ")}), got ${costTag}`,
      });
    }
  });

/** The tags on every AWS resource: the program's own, then the config's. */
function programTags(tags: Record<string, string>, stack: string): Record<string, string> {
  return { Project: project, Environment: stack, ManagedBy: "pulumi", ...tags };
}

/** Config keys that hold secrets: set them with `pulumi config set --secret`; they stay secret Outputs. */
export const secretConfigKeys = [
  "llm-platform:hfToken",
  "llm-platform:alertWebhookUrl",
  "llm-platform:grafanaOidcClientSecret",
];

/** The config keys this program reads. */
export const configKeys = Object.keys(rawSchema.shape);

/** The schema of the whole stack config (the README's configuration table is checked against it). */
export const configSchema = rawSchema;

// ---------------------------------------------------------------------------------------------
// Typed result
// ---------------------------------------------------------------------------------------------

type Raw = z.output<typeof rawSchema>;
export type NetworkConfig = z.output<typeof networkSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type AccessEntryConfig = z.output<typeof accessEntrySchema>;
export type AccessPolicy = (typeof accessPolicies)[number];
export type PreflightConfig = z.output<typeof preflightSchema>;
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
    /** Which account checks `pulumi preview` runs first. */
    readonly preflight: PreflightConfig;
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
  /** Valid but risky settings (`key.path: why`); `loadConfig` logs each as a Pulumi warning. */
  readonly warnings: readonly string[];
  /** The stack's monthly AWS Budget and its alerts. */
  readonly budget: BudgetConfig;
  /** `pulumi destroy` deletes ECR images and bucket contents with their repositories and buckets. */
  readonly destroyDeletesData: boolean;
  /** Benchmarks of the model variants: default variants, scenario matrix, SLO, schedule. */
  readonly benchmarks: BenchmarksConfig;
  /** Hugging Face token, a secret Output end to end. */
  readonly hfToken?: pulumi.Output<string>;
  /** Alertmanager webhook URL, a secret Output end to end. */
  readonly alertWebhookUrl?: pulumi.Output<string>;
  /** How the stack's Secrets Manager secrets are kept and re-read. */
  readonly secrets: SecretsConfig;
  /** S3 server access logs of the data buckets, when on. */
  readonly bucketAccessLogs?: NonNullable<BucketAccessLogsConfig>;
  /** Grafana's OIDC client secret at the load balancer, a secret Output end to end. */
  readonly grafanaOidcClientSecret?: pulumi.Output<string>;
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
    tags: programTags(r["llm-platform:tags"], stack),
    network: r["llm-platform:network"],
    cluster: r["llm-platform:cluster"],
    nodeGroups: {
      cpu: withDesired(groups.cpu),
      gpu: groups.gpu.map(withDesired),
      preflight: groups.preflight,
    },
    namespaces: r["llm-platform:namespaces"],
    services: r["llm-platform:services"],
    models: r["llm-platform:models"],
    edge: r["llm-platform:edge"],
    observability: r["llm-platform:observability"],
    warnings: [
      ...regionWarnings(r["aws:region"]),
      ...gpuGroupWarnings(groups.gpu),
      ...coldStartWarnings(r["llm-platform:models"], groups.gpu),
    ],
    budget: r["llm-platform:budget"],
    destroyDeletesData: r["llm-platform:destroyDeletesData"],
    benchmarks: resolveBenchmarks(r["llm-platform:benchmarks"], r["llm-platform:models"]),
    ...(r["llm-platform:alertWebhookUrl"] !== undefined
      ? { alertWebhookUrl: pulumi.secret(r["llm-platform:alertWebhookUrl"]) }
      : {}),
    ...(r["llm-platform:hfToken"] !== undefined
      ? { hfToken: pulumi.secret(r["llm-platform:hfToken"]) }
      : {}),
    secrets: r["llm-platform:secrets"],
    ...(r["llm-platform:bucketAccessLogs"]
      ? { bucketAccessLogs: r["llm-platform:bucketAccessLogs"] }
      : {}),
    ...(r["llm-platform:grafanaOidcClientSecret"] !== undefined
      ? { grafanaOidcClientSecret: pulumi.secret(r["llm-platform:grafanaOidcClientSecret"]) }
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
  const config = parseConfig(raw, pulumi.getStack());
  // Logging is fire-and-forget: the engine orders it with the deployment.
  for (const warning of config.warnings) void pulumi.log.warn(warning);
  return config;
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
