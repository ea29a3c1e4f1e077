/**
 * The shared model cache (one EFS claim) as every pod that mounts it lays it out: the model servers,
 * the Jobs that write it (model staging, adapter sync) and the benchmark client. Pure facts, here so
 * that writers and readers of different features share one definition.
 *
 *   /models/huggingface/hub/models--<org>--<name>/snapshots/<commit>/   Hub variants (vLLM downloads)
 *   /models/huggingface/hub/models--<org>--<name>/refs/<tag>            a tag's commit (Hub cache)
 *   /models/tokenizers/<org>/<name>/<revision>/                         store variants: no weights
 *   /models/adapters/<name>/                                            LoRA adapters (adapter sync)
 *   /models/compile-cache/<vLLM tag>/<variant>/                         torch.compile and Triton
 */

/** The cache's PersistentVolumeClaim in the model namespace (models/modelServing.ts creates it). */
export const modelCacheClaim = "model-cache";

/** Where every pod mounts the cache. */
export const modelCacheMount = "/models";

/** vLLM's LoRA resolver directory (VLLM_LORA_RESOLVER_CACHE_DIR), one folder per adapter. */
export const adaptersDir = `${modelCacheMount}/adapters`;

/**
 * The user every pod that reads or writes the cache runs as: the `vllm` user the vLLM image ships
 * (UID 2000, GID 0, OpenShift-style group-writable image files), so the files one writes the others
 * can read.
 */
export const vllmUser = { uid: 2000, gid: 0 };

/** `HF_HOME` of the pods that use the Hugging Face cache on it; the Hub cache is `<HF_HOME>/hub`. */
export const hfHome = `${modelCacheMount}/huggingface`;

/** A pinned revision that is a commit hash (else a release tag, config/models.ts `modelRevision`). */
export const isCommitHash = (revision: string) => /^[0-9a-f]{40}$/.test(revision);

/**
 * Where the model staging Job publishes a store model's files other than its weights (config,
 * tokenizer, generation config: what a tokenizer loader reads), for pods that need the tokenizer but
 * do not read the store (the benchmark client, offline). One directory per model and revision, which
 * appears whole or not at all (filled aside, then renamed).
 */
export function tokenizerDir(model: string, revision: string): string {
  return `${modelCacheMount}/tokenizers/${model}/${revision}`;
}

/**
 * Files the tokenizer directory leaves out: weight files (every format the staging program knows,
 * components/models/modelStage.mts `otherWeights`) and the store's own files (the manifest, partial
 * downloads). Shell glob patterns, as `case` and `aws s3 cp --exclude` take them.
 */
export const notTokenizerFiles: readonly string[] = [
  ...[
    "safetensors",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "gguf",
    "h5",
    "msgpack",
    "onnx",
    "ot",
    "tflite",
  ].map((ext) => `*.${ext}`),
  "manifest.json",
  "*.part",
];

/**
 * Where a Hub variant's server leaves its tokenizer: the Hub cache's snapshot of the pinned revision
 * (huggingface_hub: `<HF_HOME>/hub/models--<org>--<name>/snapshots/<commit>/`, files linked to
 * `blobs/`). A snapshot is named by its commit, so for a release tag this is the cache's ref file
 * `refs/<tag>` instead (written whenever a download is asked for by a revision that is not the commit
 * itself), which holds that commit: a reader resolves it to `snapshots/<its content>`.
 */
export function hubTokenizerPath(model: string, revision: string): string {
  const repo = `${hfHome}/hub/models--${model.replace("/", "--")}`;
  return isCommitHash(revision) ? `${repo}/snapshots/${revision}` : `${repo}/refs/${revision}`;
}
