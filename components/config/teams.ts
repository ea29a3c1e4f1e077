/**
 * Schemas of the in-cluster platform config: namespace quotas and limits, and the services. Both
 * follow the registry (registry.ts): one block per registered namespace and service, and every check
 * runs over all of them.
 */
import { z } from "zod";
import {
  assertConsistent,
  registry,
  routedServices,
  type NamespaceName,
  type ServiceName,
} from "../platform/registry";
import { type NamespaceDesign, type Registry } from "../platform/designs";
import {
  cpuMemory,
  cpuMillis,
  cpuQuantity,
  dnsLabel,
  duplicates,
  fitsWithin,
  memoryBytes,
  memoryQuantity,
} from "./primitives";

// ---------------------------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------------------------

const quotaSchema = z.strictObject({
  "requests.cpu": cpuQuantity,
  "requests.memory": memoryQuantity,
  "limits.cpu": cpuQuantity,
  "limits.memory": memoryQuantity,
  pods: z.number().int().min(1),
  services: z.number().int().min(0),
  configmaps: z
    .number()
    .int()
    .min(1, "expected at least 1 (every namespace gets kube-root-ca.crt)"),
  secrets: z.number().int().min(0),
  persistentvolumeclaims: z.number().int().min(0).optional(),
  /** GPUs the namespace may request (extended resources are quota'd by `requests.` only). */
  "requests.nvidia.com/gpu": z.number().int().min(0).optional(),
});

const limitRangeSchema = z
  .strictObject({
    /** Limits given to containers that set none. */
    default: cpuMemory,
    /** Requests given to containers that set none. */
    defaultRequest: cpuMemory,
    max: cpuMemory,
    min: cpuMemory,
  })
  .superRefine((l, ctx) => {
    // The API server rejects a LimitRange whose bounds are out of order; say which one here.
    const order: (keyof typeof l)[] = ["min", "defaultRequest", "default", "max"];
    for (let i = 0; i + 1 < order.length; i++) {
      const [lo, hi] = [order[i]!, order[i + 1]!];
      if (!fitsWithin(l[lo], l[hi])) {
        ctx.addIssue({
          code: "custom",
          path: [lo],
          message: `expected ${lo} <= ${hi} for cpu and memory`,
        });
      }
    }
  });

type Quota = z.input<typeof quotaSchema>;
type LimitRange = z.input<typeof limitRangeSchema>;

/**
 * A namespace's quota and LimitRange. Either may default (`prefault`: the default is validated like
 * a written value); a written object replaces its default whole.
 */
const namespaceSchema = (defaults: { quota?: Quota; limits?: LimitRange } = {}) =>
  z
    .strictObject({
      quota: defaults.quota ? quotaSchema.prefault(defaults.quota) : quotaSchema,
      limits: defaults.limits ? limitRangeSchema.prefault(defaults.limits) : limitRangeSchema,
    })
    .superRefine((n, ctx) => {
      const q = n.quota;
      if (cpuMillis(q["requests.cpu"])! > cpuMillis(q["limits.cpu"])!) {
        ctx.addIssue({
          code: "custom",
          path: ["quota", "requests.cpu"],
          message: "expected requests.cpu <= limits.cpu",
        });
      }
      if (memoryBytes(q["requests.memory"])! > memoryBytes(q["limits.memory"])!) {
        ctx.addIssue({
          code: "custom",
          path: ["quota", "requests.memory"],
          message: "expected requests.memory <= limits.memory",
        });
      }
    });

// Defaults: values no environment has needed to change. Quotas that scale with the environment
// (platform, observability, llm-baseline) and llm-baseline's LimitRange stay in each stack file.
const serviceLimits: LimitRange = {
  default: { cpu: "500m", memory: "512Mi" },
  defaultRequest: { cpu: "100m", memory: "128Mi" },
  max: { cpu: "2", memory: "4Gi" },
  min: { cpu: "50m", memory: "64Mi" },
};
/** A team namespace: one API at up to 4 replicas of 500m-2 CPU / 1-4 GiB, plus headroom. */
const teamNamespace = {
  quota: {
    "requests.cpu": "8",
    "requests.memory": "16Gi",
    "limits.cpu": "16",
    "limits.memory": "32Gi",
    pods: 15,
    services: 10,
    configmaps: 20,
    secrets: 20,
  },
  limits: {
    default: { cpu: "1", memory: "2Gi" },
    defaultRequest: { cpu: "250m", memory: "512Mi" },
    max: { cpu: "4", memory: "8Gi" },
    min: { cpu: "100m", memory: "128Mi" },
  },
};

/**
 * Defaults by tier. Quotas that scale with the environment (platform, observability, models) and the
 * model namespace's LimitRange (it follows the GPU node shapes) stay in each stack file; a team
 * namespace defaults whole.
 */
const tierDefaults: Record<NamespaceDesign["tier"], { quota?: Quota; limits?: LimitRange }> = {
  platform: { limits: serviceLimits },
  team: teamNamespace,
  observability: {
    limits: {
      default: { cpu: "500m", memory: "512Mi" },
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      max: { cpu: "4", memory: "16Gi" },
      min: { cpu: "10m", memory: "16Mi" },
    },
  },
  models: {},
  /**
   * An add-on (KEDA, External Secrets Operator): a few small controllers with explicit resources (the
   * add-on's chart values), their webhook and metrics Services, and Helm's release history Secrets.
   */
  addons: {
    quota: {
      "requests.cpu": "2",
      "requests.memory": "2Gi",
      "limits.cpu": "8",
      "limits.memory": "4Gi",
      pods: 12,
      services: 8,
      configmaps: 10,
      secrets: 15,
    },
    limits: {
      default: { cpu: "500m", memory: "256Mi" },
      defaultRequest: { cpu: "50m", memory: "64Mi" },
      max: { cpu: "2", memory: "2Gi" },
      min: { cpu: "10m", memory: "16Mi" },
    },
  },
};

/** One block per registered namespace, defaulted by its tier. */
export function namespacesSchemaFor(reg: Registry = registry) {
  assertConsistent(reg);
  const shape = Object.fromEntries(
    Object.entries(reg.namespaces).map(([name, d]) => {
      const defaults = tierDefaults[d.tier];
      const schema = namespaceSchema(defaults);
      return [
        name,
        defaults.quota && defaults.limits
          ? schema.prefault({ quota: defaults.quota, limits: defaults.limits })
          : schema,
      ];
    }),
  );
  return z.strictObject(shape).superRefine((n, ctx) => {
    for (const [name, d] of Object.entries(reg.namespaces)) {
      const ns = n[name];
      if (d.tier === "models" && ns?.quota["requests.nvidia.com/gpu"] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [name, "quota", "requests.nvidia.com/gpu"],
          message: "required: the model namespace's quota must cap GPUs",
        });
      }
    }
  });
}

export const namespacesSchema = namespacesSchemaFor().transform(
  // Sound: the schema has one NamespaceConfig per registered namespace.
  (n) => n as Record<NamespaceName, NamespaceConfig> & Record<string, NamespaceConfig>,
);

export type NamespaceConfig = z.output<ReturnType<typeof namespaceSchema>>;
export type NamespacesConfig = z.output<typeof namespacesSchema>;

/** A namespace's validated config. */
export function namespaceConfig(n: NamespacesConfig, name: string): NamespaceConfig {
  const cfg = n[name];
  if (!cfg) throw new Error(`no config for namespace ${name}`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------

const resourcesSchema = z
  .strictObject({ requests: cpuMemory, limits: cpuMemory })
  .refine((r) => fitsWithin(r.requests, r.limits), {
    message: "expected requests <= limits for cpu and memory",
  });

const startupProbeSchema = z.strictObject({
  initialDelaySeconds: z.number().int().min(0),
  periodSeconds: z.number().int().min(1),
  failureThreshold: z.number().int().min(1),
});

const scalingPolicy = (stabilizationSeconds: number, percent: number, periodSeconds: number) =>
  z
    .strictObject({
      stabilizationSeconds: z.number().int().min(0).max(3600).default(stabilizationSeconds),
      /** Change at most this percent of current replicas ... */
      percent: z.number().int().min(1).default(percent),
      /** ... per this many seconds. */
      periodSeconds: z.number().int().min(1).max(1800).default(periodSeconds),
    })
    .default({ stabilizationSeconds, percent, periodSeconds });

const hpaSchema = z
  .strictObject({
    minReplicas: z.number().int().min(1),
    maxReplicas: z.number().int().min(1),
    /** Target average CPU utilization (% of requests). */
    cpuUtilization: z.number().int().min(1).max(100).default(70),
    /** Target average memory utilization (% of requests); omit to scale on CPU only. */
    memoryUtilization: z.number().int().min(1).max(100).optional(),
    /** Defaults: scale down slowly (300 s window, 10 % per 60 s) ... */
    scaleDown: scalingPolicy(300, 10, 60),
    /** ... and up fast (60 s window, 100 % per 15 s). */
    scaleUp: scalingPolicy(60, 100, 15),
  })
  .refine((h) => h.minReplicas <= h.maxReplicas, {
    message: "expected minReplicas <= maxReplicas",
    path: ["minReplicas"],
  });

type ServiceDefaults = {
  resources: z.input<typeof resourcesSchema>;
  startupProbe: z.input<typeof startupProbeSchema>;
};

/** Fields of every service; `resources` and `startupProbe` default per service, replaced whole. */
const serviceBase = (d: ServiceDefaults) => ({
  /** Image tag in the service's ECR repository. */
  imageTag: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "expected a container image tag"),
  /** Fixed replica count; omit when `hpa` manages the Deployment. */
  replicas: z.number().int().min(1).optional(),
  resources: resourcesSchema.prefault(d.resources),
  /** Startup probe timing on /startup (budget = initialDelay + period x failureThreshold). */
  startupProbe: startupProbeSchema.prefault(d.startupProbe),
  hpa: hpaSchema.optional(),
  pdb: z.strictObject({ minAvailable: z.number().int().min(1) }).optional(),
});

// Defaults. The gateway only routes: small, and up within 5 + 5 x 30 s. The team APIs load SDK
// clients and warm caches: larger, and up within 10 + 5 x 36 s.
const gatewayDefaults: ServiceDefaults = {
  resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  startupProbe: { initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 30 },
};
const teamApiDefaults: ServiceDefaults = {
  resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
  startupProbe: { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 36 },
};

const routeSchema = z.strictObject({ timeoutMs: z.number().int().min(100).max(900_000) });

const variantSchema = z.strictObject({
  name: dnsLabel(63),
  weight: z.number().int().min(0).max(100),
});

const splitRouteSchema = routeSchema
  .extend({ variants: z.array(variantSchema).min(1) })
  .superRefine((r, ctx) => {
    const sum = r.variants.reduce((s, v) => s + v.weight, 0);
    if (sum !== 100) {
      ctx.addIssue({
        code: "custom",
        path: ["variants"],
        message: `expected weights summing to 100, got ${sum}`,
      });
    }
    duplicates(r.variants.map((v) => v.name)).forEach((i) =>
      ctx.addIssue({
        code: "custom",
        path: ["variants", i, "name"],
        message: "expected a unique variant name",
      }),
    );
  });

/** One gateway route's config: its timeout, and the LoRA split where the route has one. */
export interface RouteConfig {
  readonly timeoutMs: number;
  readonly variants?: readonly { readonly name: string; readonly weight: number }[];
}

/**
 * The gateway's per-route settings, one per routed team API (registry `route`), each defaulting to
 * the registry's timeout (and LoRA split).
 */
function routesSchema(reg: Registry) {
  const routes = routedServices(reg).map(([, d]) => d.route);
  const shape = Object.fromEntries(
    routes.map((r) => [r.key, r.loraVariants ? splitRouteSchema : routeSchema]),
  );
  const defaults = Object.fromEntries(
    routes.map((r) => [
      r.key,
      {
        timeoutMs: r.timeoutMs,
        ...(r.loraVariants ? { variants: r.loraVariants.map((v) => ({ ...v })) } : {}),
      },
    ]),
  );
  return z
    .strictObject(shape)
    .prefault(defaults)
    .transform((r) => r as Record<string, RouteConfig>);
}

function gatewaySchema(reg: Registry) {
  return z.strictObject({
    ...serviceBase(gatewayDefaults),
    /**
     * Per-route timeouts; a route with LoRA variants splits traffic between them by weight.
     * Defaults from the registry: quant 30 s, finetune 60 s split 80/20 between lora-v1 and lora-v2, eval 45 s.
     */
    routes: routesSchema(reg),
  });
}

const commonSchema = {
  /** LOG_LEVEL of every service. */
  logLevel: z.enum(["DEBUG", "INFO", "WARNING", "ERROR"]),
  /** UID (and GID) the service containers run as; never root. */
  runAsUser: z.number().int().min(1, "expected a non-root UID (>= 1)").default(1000),
  /** ECR tag immutability: a pushed tag can never be overwritten (prod). */
  immutableImageTags: z.boolean(),
};

export type ServiceConfig = z.output<z.ZodObject<ReturnType<typeof serviceBase>>> &
  Readonly<Record<string, unknown>>;
export type GatewayConfig = z.output<ReturnType<typeof gatewaySchema>>;
export type GatewayRoutes = GatewayConfig["routes"];

/** The services' config: common settings, the gateway, and one block per registered service. */
export type ServicesConfig = {
  readonly [K in keyof z.output<z.ZodObject<typeof commonSchema>>]: z.output<
    z.ZodObject<typeof commonSchema>
  >[K];
} & { readonly gateway: GatewayConfig } & Readonly<
    Record<Exclude<ServiceName, "gateway">, ServiceConfig>
  >;

/** One block per registered service (the gateway's with its routes); checks run over every one. */
export function servicesSchemaFor(reg: Registry = registry) {
  assertConsistent(reg);
  const names = Object.keys(reg.services);
  const shape = Object.fromEntries(
    names.map((name) => {
      const d = reg.services[name]!;
      const base =
        name === "gateway"
          ? gatewaySchema(reg)
          : z.strictObject({ ...serviceBase(teamApiDefaults), ...(d.extension?.shape ?? {}) });
      return [name, base];
    }),
  );
  return z
    .strictObject({ ...commonSchema, ...shape })
    .superRefine((s, ctx) => {
      for (const name of names) {
        const svc = (s as Readonly<Record<string, unknown>>)[name] as ServiceConfig;
        if (svc.hpa && svc.replicas !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [name, "replicas"],
            message:
              "expected no fixed replicas when hpa is set: the HPA owns the replica count (set hpa.minReplicas)",
          });
        }
        if (!svc.hpa && svc.replicas === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [name, "replicas"],
            message: "required unless hpa is set",
          });
        }
        const floor = svc.hpa?.minReplicas ?? svc.replicas ?? 0;
        if (svc.pdb && svc.pdb.minAvailable >= floor) {
          ctx.addIssue({
            code: "custom",
            path: [name, "pdb", "minAvailable"],
            message: `expected fewer than the ${floor} guaranteed replicas, or node drains could never evict a pod`,
          });
        }
        if (s.immutableImageTags && /latest/.test(svc.imageTag)) {
          ctx.addIssue({
            code: "custom",
            path: [name, "imageTag"],
            message:
              "expected a release tag: a moving tag cannot be updated in an immutable repository",
          });
        }
      }
    })
    .transform(
      // Sound: the schema has the common keys, the gateway's block and one block per service.
      (s) => s as unknown as ServicesConfig,
    );
}

export const servicesSchema = servicesSchemaFor();

/** A service's validated config (common keys plus its extension's). */
export function serviceConfig(s: ServicesConfig, name: string): ServiceConfig {
  const cfg = (s as unknown as Readonly<Record<string, ServiceConfig | undefined>>)[name];
  if (!cfg) throw new Error(`no config for service ${name}`);
  return cfg;
}

export type HpaConfig = z.output<typeof hpaSchema>;
