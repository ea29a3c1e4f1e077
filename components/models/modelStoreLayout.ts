/**
 * Where a model lives in the model store and what stages it: pure functions of the model id and its
 * pinned revision, shared by the staging Job (writer) and the model servers (readers).
 *
 *   s3://<store bucket>/models/<org>/<name>/<revision>/          config, tokenizer, *.safetensors
 *   s3://<store bucket>/models/.staged/<org>/<name>/<revision>.json  the manifest, written last
 *
 * Weights sit directly under their prefix because the Run:ai streamer lists one level only. The marker
 * lies outside that prefix, so vLLM never downloads it with the configuration files. The staging Job
 * also publishes each model's non-weight files on the shared cache, for readers that do not stream
 * from S3 (platform/modelCacheLayout.ts `tokenizerDir`: the benchmark client reads them too).
 */
import { createHash } from "node:crypto";

/** Key prefix of the whole store: the staging role may write, the servers read, only under it. */
export const storePrefix = "models/";

/** Key prefix of one model at one revision (ends with `/`). */
export function modelPrefix(model: string, revision: string): string {
  return `${storePrefix}${model}/${revision}/`;
}

/** Key of the marker the staging Job writes once a model's files are all in the store. */
export function stagedMarkerKey(model: string, revision: string): string {
  return `${storePrefix}.staged/${model}/${revision}.json`;
}

/** What vLLM is given as its model: the `s3://` prefix of the staged revision. */
export function storeModelUri(bucket: string, model: string, revision: string): string {
  return `s3://${bucket}/${modelPrefix(model, revision)}`;
}

/**
 * The staging Job's name: readable, unique per model and revision, and new whenever either changes, so
 * `pulumi up` replaces the Job (and the new one runs) exactly when a revision moves. At most 63
 * characters (the Job controller labels its pods with the name).
 */
export function stagingJobName(model: string, revision: string): string {
  const slug = model
    .split("/")
    .pop()!
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 36)
    .replace(/-+$/, "");
  const hash = createHash("sha256").update(`${model}@${revision}`).digest("hex").slice(0, 10);
  return `stage-${slug}-${hash}`;
}

/** Where the staging Job downloads a model on the shared cache before uploading it. */
export function stagingDir(cacheMount: string, model: string, revision: string): string {
  return `${cacheMount}/.staging/${model}/${revision}`;
}
