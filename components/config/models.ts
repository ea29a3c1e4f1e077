/**
 * Schema of the model-serving config: the four vLLM variants, how each scales, the LoRA adapters and
 * the shared model cache.
 */
import { z } from "zod";
import { assertConsistent, registry } from "../platform/registry";
import { type Registry, type VariantDefaults } from "../platform/designs";
import { cpuQuantity, dnsLabel, duplicates, memoryBytes, memoryQuantity } from "./primitives";

const hfModelId = z
  .string()
  .regex(
    /^[\w.-]+\/[\w.-]+$/,
    "expected a Hugging Face model id such as mistralai/Mistral-7B-Instruct-v0.3",
  );

/** A commit hash as the Hub names it: 40 lower-case hex digits. */
const commitHash = /^[0-9a-f]{40}$/;
/** A release tag: `v1.0`, `1.2.3`, `v2.0-rc1`. Anything else is treated as a branch and refused. */
const releaseTag = /^v?\d+(\.\d+){0,3}([-+][0-9A-Za-z.]+)?$/;

/**
 * A pinned Hugging Face revision: a commit hash, or a release tag. A branch (`main`, `refs/pr/1`)
 * moves under you: the same config would serve different weights after the next push, and the model
 * store (keyed by revision) would never notice. The Hub itself does not tell tags from branches by
 * their names, so a tag must look like a version; the staging Job checks against the Hub's refs that
 * it really is a tag before it copies anything.
 */
export const modelRevision = z
  .string()
  .refine(
    (r) => commitHash.test(r) || releaseTag.test(r),
    "expected a 40-hex commit hash or a release tag such as v1.0 (a branch such as main moves)",
  );

/** Where a variant's weights come from (see `weightsFrom`). */
export const weightSources = ["store", "hub"] as const;

/** Five-field cron schedule (minute hour day-of-month month day-of-week). */
const cronSchedule = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, "expected a five-field cron schedule such as 0 8 * * 1-5");

const autoscalingSchema = z
  .strictObject({
    /** Fewest replicas; 0 lets the variant scale to zero when idle (no GPU node held). */
    minReplicas: z.number().int().min(0),
    /** Most replicas; each takes one GPU node, which the cluster autoscaler adds and removes. */
    maxReplicas: z.number().int().min(1),
    /** Scale out when more requests than this wait per replica (`vllm:num_requests_waiting`). Default 4. */
    requestsWaitingPerReplica: z.number().gt(0, "expected a threshold above 0").default(4),
    /** Scale out when the average KV-cache usage passes this share (`vllm:kv_cache_usage_perc`, 0-1]. Default 0.8. */
    kvCacheUsage: z.number().gt(0, "expected a threshold above 0").max(1).default(0.8),
    /** Minutes without a running or waiting request before a scale-to-zero variant goes to zero. Default 30. */
    idleMinutes: z.number().int().min(5).max(1440).default(30),
    /** A window during which at least one replica runs (dev working hours; KEDA's cron scaler). */
    workingHours: z
      .strictObject({
        /** IANA time zone, e.g. Europe/Berlin. */
        timezone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/, "expected an IANA time zone"),
        start: cronSchedule,
        end: cronSchedule,
      })
      .optional(),
  })
  .superRefine((a, ctx) => {
    if (a.minReplicas > a.maxReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["minReplicas"],
        message: `expected at most maxReplicas (${a.maxReplicas})`,
      });
    }
    if (a.workingHours && a.minReplicas > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["workingHours"],
        message: "only applies to a variant that scales to zero (minReplicas 0)",
      });
    }
  });

const variantSchema = z
  .strictObject({
    /** GPU node group (nodeGroups.gpu[].name) this variant runs on. Default: models.nodeGroup. */
    nodeGroup: dnsLabel(20).optional(),
    /** Fixed replica count, for a variant without `autoscaling`; 0 runs (and pays for) no GPU. */
    replicas: z.number().int().min(0).optional(),
    /** Scale between min and max replicas on vLLM's queue depth and KV-cache pressure (KEDA). */
    autoscaling: autoscalingSchema.optional(),
    /** Hugging Face model id (`org/name`). */
    model: hfModelId,
    /** The model's pinned revision: a commit hash or a release tag (`modelRevision`). */
    revision: modelRevision,
    /**
     * `store` (default): the weights are staged once into the platform's model store (S3) and vLLM
     * streams them from there (Run:ai Model Streamer); the server needs neither the HF token nor the
     * internet. `hub`: the fallback for a variant the streamer cannot serve: vLLM downloads the pinned
     * revision from the Hugging Face Hub into the EFS cache itself, as before (token and internet
     * egress needed). The LoRA server stays on `hub`: vLLM's filesystem resolver matches an adapter's
     * `base_model_name_or_path` against the served model's local path, which for an `s3://` model is a
     * temporary download directory, so every adapter would be refused.
     */
    weightsFrom: z.enum(weightSources).default("store"),
    /**
     * Seconds the startup probe gives the server from container start until `/health` answers (weights,
     * engine start, compilation, CUDA graphs). Default 900. Must cover the predicted first start.
     */
    startupTimeoutSeconds: z.number().int().min(60).max(3600).default(900),
    /**
     * The model this one was derived from (e.g. the model an AWQ build quantizes). Default: `model`.
     * Variants of one family must share it (see registry.ts `modelDesign[].family`).
     */
    baseModel: hfModelId.optional(),
    /** Name clients send in the `model` field (`--served-model-name`). */
    servedModelName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "expected a lower-case model name"),
    /** The model needs an accepted licence on Hugging Face, so downloads need `llm-platform:hfToken`. */
    gated: z.boolean(),
    /** `--max-model-len` (context window served). Default 8192. */
    maxModelLen: z.number().int().min(256).max(1_048_576).default(8192),
    /** `--gpu-memory-utilization`: share of GPU memory vLLM may take (weights + KV cache). Default 0.9. */
    gpuMemoryUtilization: z.number().gt(0).max(0.95).default(0.9),
    /**
     * How the weights are quantized. `awq` and `gptq` are pre-quantized checkpoints: no
     * `--quantization` flag is passed, so vLLM reads the method from the checkpoint and runs the Marlin
     * kernel on sm80+ GPUs (A10G, L4); naming it forced the legacy kernel in vLLM before mid-2026
     * (models/vllmCommand.ts `quantizationFlag`). `fp8` quantizes a 16-bit checkpoint while loading.
     */
    quantization: z.enum(["awq", "gptq", "fp8"]).optional(),
    /** LoRA serving: adapters resolved by name from the model cache (`/models/adapters/<name>`). */
    lora: z
      .strictObject({
        /** Adapters synced from the adapters bucket (`adapters/<name>/`) and served by name. */
        adapters: z.array(dnsLabel(63)).min(1),
        maxLoras: z.number().int().min(1).max(64),
        /** `--max-lora-rank`; an adapter of a higher rank is refused by the sync. */
        maxLoraRank: z.union([
          z.literal(8),
          z.literal(16),
          z.literal(32),
          z.literal(64),
          z.literal(128),
          z.literal(256),
        ]),
        /** When the adapter sync runs (cron). Default every 5 minutes. */
        syncSchedule: cronSchedule.default("*/5 * * * *"),
      })
      .superRefine((l, ctx) =>
        duplicates(l.adapters).forEach((i) =>
          ctx.addIssue({
            code: "custom",
            path: ["adapters", i],
            message: "expected each adapter once",
          }),
        ),
      )
      .optional(),
    /** CPU and memory per pod (requests = limits: Guaranteed QoS, never the first evicted). */
    resources: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
    /** Size of the memory-backed /dev/shm (counts against the memory limit). */
    shmSize: memoryQuantity.default("2Gi"),
    /**
     * What the model needs on its GPU, for the fit check (crossChecks.ts): the weights as stored, and
     * the KV cache per token (2 × layers × KV heads × head dim × 2 bytes), from the model's files and
     * config.json. Registry defaults for the registered models; set both when overriding `model`.
     */
    footprint: z.strictObject({
      weightsGiB: z.number().gt(0),
      kvCacheKiBPerToken: z.number().gt(0),
    }),
  })
  .superRefine((v, ctx) => {
    if (v.lora && v.quantization) {
      ctx.addIssue({
        code: "custom",
        path: ["lora"],
        message: "expected LoRA on an unquantized base model",
      });
    }
    if ((v.replicas === undefined) === (v.autoscaling === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["replicas"],
        message: "expected either replicas (a fixed count) or autoscaling, not both or neither",
      });
    }
    if (v.lora && v.weightsFrom === "store") {
      ctx.addIssue({
        code: "custom",
        path: ["weightsFrom"],
        message:
          "expected hub for a LoRA server: vLLM's adapter resolver compares base_model_name_or_path " +
          "with the served model's path, which for a streamed s3:// model is a local temporary directory",
      });
    }
    if (v.quantization && !v.baseModel) {
      ctx.addIssue({
        code: "custom",
        path: ["baseModel"],
        message: "required for a quantized variant: the model it is a quantization of",
      });
    }
  });

/** A Secrets Manager secret ARN with the name prefix ECR's pull-through cache requires (region: group 1). */
export const secretArnPattern =
  /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]+$/;

/** The bucket key of the model store's own bucket. */
export const defaultStoreBucket = "models";

/**
 * The model store: which bucket holds it, and how vLLM streams from it. A bucket a registry service
 * reads and writes (its `bucket`) is refused: that service's role could then overwrite the weights every
 * model server loads. Only the staging Job may write the store (components/models/modelStore.ts).
 */
function storeSchema(reg: Registry) {
  const writers = Object.entries(reg.services).flatMap(([service, d]) =>
    d.bucket ? [[d.bucket.name, service] as const] : [],
  );
  return z.strictObject({
    /**
     * Key of the store's private bucket `<namePrefix>-<bucket>` (SSE-KMS, versioned, TLS only); its
     * objects live under `models/<org>/<name>/<revision>/`. Default `models`.
     */
    bucket: dnsLabel(20)
      .default(defaultStoreBucket)
      .superRefine((b, ctx) => {
        const writer = writers.find(([name]) => name === b);
        if (writer) {
          ctx.addIssue({
            code: "custom",
            message:
              `expected a bucket only the model staging Job writes: ${writer[1]} reads and writes ` +
              `the ${b} bucket, so it could replace the weights every model server loads`,
          });
        }
      }),
    /** vLLM's Run:ai Model Streamer (`--model-loader-extra-config`). */
    streamer: z
      .strictObject({
        /** Parallel S3 range readers per server. Default 16. */
        concurrency: z.number().int().min(1, "expected at least 1 reader").max(64).default(16),
        /**
         * CPU buffer between S3 and the GPU, in MiB; it counts against the pod's memory limit (the
         * streamer would otherwise buffer whole files). Must hold the largest tensor (Qwen2.5-7B's
         * embedding is ~1 GiB). Default 4096.
         */
        memoryLimitMiB: z.number().int().min(2048).max(65536).default(4096),
      })
      .prefault({}),
  });
}

/**
 * A variant's block over its registry defaults (registry.ts `serves`): the stack's keys win, and the
 * merged block is checked as a whole, so a default is held to the same rules as a stack value.
 */
function withDefaults(serves: VariantDefaults | undefined) {
  return z.preprocess(
    (raw) =>
      serves && typeof raw === "object" && raw !== null && !Array.isArray(raw)
        ? { ...structuredClone(serves), ...raw }
        : raw,
    variantSchema,
  );
}

/** One block per registered variant; every check runs over all of them. */
export function modelsSchemaFor(reg: Registry = registry) {
  assertConsistent(reg);
  const variants = Object.keys(reg.models);
  return z
    .strictObject({
      /** The GPU node group (nodeGroups.gpu[].name) variants run on unless they name their own. */
      nodeGroup: dnsLabel(20),
      /** Requested size of the shared model cache (EFS grows elastically; this is the PVC's nominal size). */
      cacheSizeGi: z.number().int().min(50).default(500),
      /** The model store the `store` variants stream their weights from. */
      store: storeSchema(reg).prefault({}),
      /**
       * Pull the vLLM image through an ECR pull-through cache of Docker Hub in the stack's region
       * (models/imageCache.ts). Off unless set: Docker Hub upstreams need a credential the operator
       * stores in Secrets Manager first (docs/operations.md).
       */
      imageCache: z
        .strictObject({
          /** Secrets Manager ARN of the Docker Hub credential, named `ecr-pullthroughcache/...`. */
          dockerHubCredentialArn: z
            .string()
            .regex(
              secretArnPattern,
              "expected a Secrets Manager secret ARN whose name starts with ecr-pullthroughcache/ (ECR requires the prefix)",
            ),
        })
        .optional(),
      /**
       * Keep vLLM's torch.compile and Triton caches on the shared EFS volume, so a replacement pod on
       * the same GPU type skips compilation. Default true; false keeps them in the pod (lost with it).
       */
      compileCache: z.boolean().default(true),
      /** The cold-start budget's alert (components/platform/coldStart.ts). */
      coldStart: z
        .strictObject({
          /**
           * The start-time alert fires when a pod's scheduled → Ready time exceeds its variant's
           * predicted first start by more than this share, in percent. Default 50.
           */
          alertMarginPercent: z.number().int().min(0).max(1000).default(50),
        })
        .prefault({}),
      variants: z.strictObject(
        Object.fromEntries(variants.map((v) => [v, withDefaults(reg.models[v]!.serves)])),
      ),
    })
    .superRefine((m, ctx) => {
      const cfg = (v: string) => m.variants[v] as VariantConfig;
      duplicates(variants.map((v) => cfg(v).servedModelName)).forEach((i) =>
        ctx.addIssue({
          code: "custom",
          path: ["variants", variants[i]!, "servedModelName"],
          message: "expected a name no other variant serves",
        }),
      );
      for (const v of variants) {
        if (reg.models[v]!.servesAdapters && !cfg(v).lora) {
          ctx.addIssue({
            code: "custom",
            path: ["variants", v, "lora"],
            message: `required: the ${v} variant serves adapters`,
          });
        }
      }
      for (const v of variants) {
        const c = cfg(v);
        const room = (memoryBytes(c.resources.memory)! - memoryBytes(c.shmSize)!) / 2;
        if (c.weightsFrom === "store" && m.store.streamer.memoryLimitMiB * 2 ** 20 > room) {
          ctx.addIssue({
            code: "custom",
            path: ["store", "streamer", "memoryLimitMiB"],
            message:
              `expected at most ${Math.floor(room / 2 ** 20)} MiB: half of variant ${v}'s memory ` +
              `(${c.resources.memory} less /dev/shm ${c.shmSize}); vLLM's own process needs the rest`,
          });
        }
      }
      // Like for like: every variant of a family is an optimisation of the same base model.
      const baseline = cfg("baseline").model;
      for (const v of variants) {
        if (v === "baseline" || reg.models[v]!.family !== reg.models.baseline!.family) continue;
        const base = baseModelOf(cfg(v));
        if (base !== baseline) {
          ctx.addIssue({
            code: "custom",
            path: ["variants", v, cfg(v).baseModel ? "baseModel" : "model"],
            message: `expected the baseline's model (${baseline}): variants of one family share their base model, got ${base}`,
          });
        }
      }
    })
    .transform(
      // Variants are keyed by registry entry, so consumers iterate them (`variantEntries`) instead of
      // naming one: code stays correct for any registry the config was parsed with.
      (m) =>
        m as Omit<typeof m, "variants"> & { variants: Readonly<Record<string, VariantConfig>> },
    );
}

export const modelsSchema = modelsSchemaFor();

type VariantConfig = z.output<typeof variantSchema>;

export type ModelsConfig = z.output<typeof modelsSchema>;
export type ModelVariantConfig = VariantConfig;
export type ModelAutoscalingConfig = z.output<typeof autoscalingSchema>;

/** The model a variant derives from (itself unless it is e.g. a quantized build). */
function baseModelOf(v: { model: string; baseModel?: string | undefined }): string {
  return v.baseModel ?? v.model;
}

/**
 * The variants and their config, in registry order. Code iterates these rather than the registry, so
 * it follows whatever registry the config was parsed with (the schema has one block per entry).
 */
export function variantEntries(m: ModelsConfig): [string, ModelVariantConfig][] {
  return Object.entries(m.variants);
}

/** One variant's config; throws for a variant the config was not parsed with. */
export function variantConfig(m: ModelsConfig, variant: string): ModelVariantConfig {
  const v = m.variants[variant];
  if (!v) throw new Error(`no config for model variant ${variant}`);
  return v;
}

/** The GPU node group a variant runs on: its own `nodeGroup`, else the models-level one. */
export function variantNodeGroup(m: ModelsConfig, variant: string): string {
  return variantConfig(m, variant).nodeGroup ?? m.nodeGroup;
}

/** Replica bounds of a variant: a fixed count is min = max. */
export function replicaRange(v: ModelVariantConfig): { min: number; max: number } {
  return v.autoscaling
    ? { min: v.autoscaling.minReplicas, max: v.autoscaling.maxReplicas }
    : { min: v.replicas ?? 0, max: v.replicas ?? 0 };
}
