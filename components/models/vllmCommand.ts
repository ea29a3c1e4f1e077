/**
 * The `vllm serve` command line of a variant: the model first, as vLLM's positional argument, then the
 * flags of its weight source and its engine settings. Pure.
 */
import type * as pulumi from "@pulumi/pulumi";
import { servicePort } from "../platform/registry";
import type { ModelVariantConfig } from "../config/models";

/**
 * `--quantization` for each config value, or none. A pre-quantized AWQ or GPTQ checkpoint declares its
 * method in its config.json (`quantization_config.quant_method`), and with no flag vLLM picks the Marlin
 * kernel for it on CUDA GPUs that Marlin supports (compute capability 8.0+: A10G 8.6, L4 and L40S 8.9).
 * Naming the method is what can go wrong: before vLLM unified its AWQ configs (PR #42727, mid-2026),
 * `--quantization awq` logged "forcing awq" and ran the legacy GEMM kernel, roughly 9x slower than
 * Marlin, and `--quantization gptq` did the same for GPTQ; after it, both spellings reach Marlin too.
 * Leaving the flag out is right on both sides of that change (read in vLLM's `awq_marlin.py` before it
 * and `auto_awq.py` after it; the v0.29.0 source itself was not readable offline, so the startup log
 * line `Using ... for AutoAWQMarlinLinearMethod` or `Using awq_marlin kernel` is what to check on a
 * GPU). `fp8` quantizes a 16-bit checkpoint while loading, which only the flag asks for.
 */
export const quantizationFlag: Readonly<
  Record<NonNullable<ModelVariantConfig["quantization"]>, string | undefined>
> = { awq: undefined, gptq: undefined, fp8: "fp8" };

/**
 * The `vllm serve` arguments of a variant (the image's entrypoint is `vllm serve`): the model first, as
 * the positional argument (`--model` is the deprecated spelling), then the engine flags. `model` is
 * where the weights come from (an `s3://` prefix of the model store, or the Hub id); `extra` holds the
 * flags of that source (load format, revision).
 */
export function vllmArgs(
  v: ModelVariantConfig,
  model: pulumi.Input<string> = v.model,
  extra: readonly string[] = [],
): pulumi.Input<string>[] {
  const args: pulumi.Input<string>[] = [
    model,
    ...extra,
    "--served-model-name",
    v.servedModelName,
    "--port",
    String(servicePort),
    "--max-model-len",
    String(v.maxModelLen),
    "--gpu-memory-utilization",
    String(v.gpuMemoryUtilization),
  ];
  const quantization = v.quantization && quantizationFlag[v.quantization];
  if (quantization) args.push("--quantization", quantization);
  if (v.lora)
    args.push(
      "--enable-lora",
      "--max-loras",
      String(v.lora.maxLoras),
      "--max-lora-rank",
      String(v.lora.maxLoraRank),
    );
  return args;
}
