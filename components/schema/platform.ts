/**
 * Schemas of the in-cluster platform config: namespace quotas and limits, and the four services.
 */
import { z } from "zod";
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

export const namespacesSchema = z
  .strictObject({
    platform: namespaceSchema({ limits: serviceLimits }),
    quant: namespaceSchema(teamNamespace).prefault(teamNamespace),
    finetune: namespaceSchema(teamNamespace).prefault(teamNamespace),
    eval: namespaceSchema(teamNamespace).prefault(teamNamespace),
    observability: namespaceSchema({
      limits: {
        default: { cpu: "500m", memory: "512Mi" },
        defaultRequest: { cpu: "100m", memory: "128Mi" },
        max: { cpu: "4", memory: "16Gi" },
        min: { cpu: "10m", memory: "16Mi" },
      },
    }),
    // The model namespace's quota and LimitRange follow the GPU node shapes: always per stack.
    "llm-baseline": namespaceSchema(),
  })
  .superRefine((n, ctx) => {
    if (n["llm-baseline"].quota["requests.nvidia.com/gpu"] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["llm-baseline", "quota", "requests.nvidia.com/gpu"],
        message: "required: the model namespace's quota must cap GPUs",
      });
    }
  });

export type NamespaceConfig = z.output<ReturnType<typeof namespaceSchema>>;
export type NamespacesConfig = z.output<typeof namespacesSchema>;

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

const gatewaySchema = z.strictObject({
  ...serviceBase(gatewayDefaults),
  /**
   * Per-route timeouts; the finetune route splits traffic between LoRA variants by weight.
   * Default: quant 30 s, finetune 60 s split 80/20 between lora-v1 and lora-v2, eval 45 s.
   */
  routes: z
    .strictObject({
      quant: routeSchema,
      finetune: routeSchema
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
        }),
      eval: routeSchema,
    })
    .prefault({
      quant: { timeoutMs: 30_000 },
      finetune: {
        timeoutMs: 60_000,
        variants: [
          { name: "lora-v1", weight: 80 },
          { name: "lora-v2", weight: 20 },
        ],
      },
      eval: { timeoutMs: 45_000 },
    }),
});

const quantSchema = z.strictObject({
  ...serviceBase(teamApiDefaults),
  /** The SageMaker endpoint quant-api invokes (its IRSA role may invoke only this one). */
  sagemaker: z.strictObject({
    endpointName: z
      .string()
      .regex(
        /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/,
        "expected a SageMaker endpoint name (letters, digits, '-', max 63)",
      ),
    /** Invocation timeout. Default 30 s. */
    timeoutMs: z.number().int().min(100).max(900_000).default(30_000),
    /** Fall back to the baseline model when the endpoint fails. Default true. */
    enableFallback: z.boolean().default(true),
  }),
});

const plainServiceSchema = z.strictObject(serviceBase(teamApiDefaults));

export const servicesSchema = z
  .strictObject({
    /** LOG_LEVEL of every service. */
    logLevel: z.enum(["DEBUG", "INFO", "WARNING", "ERROR"]),
    /** UID (and GID) the service containers run as; never root. */
    runAsUser: z.number().int().min(1, "expected a non-root UID (>= 1)").default(1000),
    /** ECR tag immutability: a pushed tag can never be overwritten (prod). */
    immutableImageTags: z.boolean(),
    gateway: gatewaySchema,
    "quant-api": quantSchema,
    "finetune-api": plainServiceSchema,
    "eval-api": plainServiceSchema,
  })
  .superRefine((s, ctx) => {
    for (const name of ["gateway", "quant-api", "finetune-api", "eval-api"] as const) {
      const svc = s[name];
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
  });

export type ServicesConfig = z.output<typeof servicesSchema>;
export type ServiceConfig = z.output<typeof plainServiceSchema>;
export type HpaConfig = z.output<typeof hpaSchema>;
export type GatewayRoutes = z.output<typeof gatewaySchema>["routes"];
