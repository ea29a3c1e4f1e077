/**
 * Schema of the model-serving config: the four vLLM variants and the shared model cache.
 */
import { z } from "zod";
import { cpuQuantity, dnsLabel, duplicates, memoryQuantity } from "./primitives";

/** The design's four model endpoints, one per team. */
export const modelVariants = ["baseline", "awq", "lora", "judge"] as const;
export type ModelVariant = (typeof modelVariants)[number];

const variantSchema = z
  .strictObject({
    /** Replicas; 0 keeps the Deployment and Service but runs (and pays for) no GPU. */
    replicas: z.number().int().min(0),
    /** Hugging Face model id (`org/name`). */
    model: z
      .string()
      .regex(
        /^[\w.-]+\/[\w.-]+$/,
        "expected a Hugging Face model id such as mistralai/Mistral-7B-Instruct-v0.3",
      ),
    /** Name clients send in the `model` field (`--served-model-name`). */
    servedModelName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "expected a lower-case model name"),
    /** The model needs an accepted licence on Hugging Face, so downloads need `llm-platform:hfToken`. */
    gated: z.boolean(),
    /** `--max-model-len` (context window served). */
    maxModelLen: z.number().int().min(256).max(1_048_576),
    /** `--gpu-memory-utilization`: share of GPU memory vLLM may take (weights + KV cache). */
    gpuMemoryUtilization: z.number().gt(0).max(0.95),
    /** `--quantization`, e.g. awq_marlin (explicit `awq` would force the slower kernel). */
    quantization: z.enum(["awq_marlin", "awq", "gptq_marlin", "gptq", "fp8"]).optional(),
    /** LoRA serving: adapters resolved by name from the model cache (`/models/adapters/<name>`). */
    lora: z
      .strictObject({
        adapters: z.array(dnsLabel(63)).min(1),
        maxLoras: z.number().int().min(1).max(64),
        maxLoraRank: z.union([
          z.literal(8),
          z.literal(16),
          z.literal(32),
          z.literal(64),
          z.literal(128),
          z.literal(256),
        ]),
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
  })
  .superRefine((v, ctx) => {
    if (v.lora && v.quantization) {
      ctx.addIssue({
        code: "custom",
        path: ["lora"],
        message: "expected LoRA on an unquantized base model",
      });
    }
  });

export const modelsSchema = z
  .strictObject({
    /** The GPU node group (nodeGroups.gpu[].name) the model servers run on. */
    nodeGroup: dnsLabel(20),
    /** Requested size of the shared model cache (EFS grows elastically; this is the PVC's nominal size). */
    cacheSizeGi: z.number().int().min(50).default(500),
    variants: z.strictObject({
      baseline: variantSchema,
      awq: variantSchema,
      lora: variantSchema,
      judge: variantSchema,
    }),
  })
  .superRefine((m, ctx) => {
    duplicates(modelVariants.map((v) => m.variants[v].servedModelName)).forEach((i) =>
      ctx.addIssue({
        code: "custom",
        path: ["variants", modelVariants[i]!, "servedModelName"],
        message: "expected a name no other variant serves",
      }),
    );
    if (!m.variants.lora.lora) {
      ctx.addIssue({
        code: "custom",
        path: ["variants", "lora", "lora"],
        message: "required: the LoRA variant serves adapters",
      });
    }
  });

export type ModelsConfig = z.output<typeof modelsSchema>;
export type ModelVariantConfig = z.output<typeof variantSchema>;
