/**
 * The model staging Job's download program (Node.js; talks to the Hugging Face Hub, has no AWS access).
 * It copies one model at one pinned revision from the Hub into a staging directory on the shared
 * cache, and writes `manifest.json` there; the Job's upload step then copies the files into the model
 * store and publishes the manifest last, as the store's "staged" marker.
 *
 * - The revision must be what the config promised: a commit hash the Hub resolves to itself, or a name
 *   the Hub lists among the model's tags (a branch is refused even if its name looks like a version).
 * - Only what vLLM reads is copied: top-level configuration and tokenizer files, and the safetensors
 *   weights. Where the repository has `model.safetensors.index.json`, only the shards its `weight_map`
 *   names are weights: Mistral-7B-Instruct-v0.3 also carries `consolidated.safetensors`, the same
 *   14.5 GB in Mistral's own format, which the Run:ai streamer would otherwise read too (it streams
 *   every `*.safetensors` under the prefix). Other weight formats are skipped; no safetensors at all is
 *   an error (the streamer reads nothing else: such a variant belongs on `weightsFrom: hub`).
 * - Every file is checked against the size the Hub lists, and large (LFS) files against their SHA-256.
 *   A file already present and correct is kept, so a retried Job resumes.
 * - The token (gated models) is read from a mounted file and sent to the Hub only: `fetch` drops the
 *   Authorization header when the Hub redirects a download to its CDN (another origin).
 *
 * Shipped as written, like adapterPublish.mts: erasable TypeScript only, Node's own modules only.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

/** What one run stages (the Job's environment). */
export interface StageSettings {
  /** Hub model id, `org/name`. */
  readonly model: string;
  /** Pinned revision: a 40-hex commit, or a tag. */
  readonly revision: string;
  /** Where the files go (one directory per model and revision). */
  readonly stagingDir: string;
  /** The Hub's base URL. */
  readonly endpoint: string;
  /** Hugging Face token, for gated models. */
  readonly token?: string;
  /** Present when the check step found the model in the store already: nothing to do. */
  readonly skipFile?: string;
}

/** The settings the Job passes as environment variables (the token as a mounted file). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): StageSettings {
  const tokenFile = env.HF_TOKEN_PATH;
  const token =
    tokenFile && fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, "utf8").trim() : "";
  return {
    model: env.MODEL ?? "",
    revision: env.REVISION ?? "",
    stagingDir: env.STAGING_DIR ?? "",
    endpoint: (env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, ""),
    ...(token ? { token } : {}),
    ...(env.SKIP_FILE ? { skipFile: env.SKIP_FILE } : {}),
  };
}

/** A file of a Hub repository at one revision, as `/api/models/<id>/revision/<rev>?blobs=true` lists it. */
export interface RepoFile {
  readonly rfilename: string;
  readonly size?: number;
  readonly lfs?: { readonly sha256: string; readonly size: number };
}

/**
 * Weight formats vLLM's streamer does not read, or that duplicate the safetensors (every one of them
 * is also left out of the tokenizer directory, platform/modelCacheLayout.ts `notTokenizerFiles`).
 */
export const otherWeights = /\.(bin|pt|pth|ckpt|gguf|h5|msgpack|onnx|ot|tflite|safetensors)$/;

/**
 * The files to stage: top-level files only (vLLM's streamer lists one level), without `.gitattributes`
 * and other weight formats; of the safetensors, the shards `weightMap` names when the repository has an
 * index, else all of them. Sorted by name.
 */
export function selectFiles(
  files: readonly RepoFile[],
  weightMap?: Readonly<Record<string, string>>,
): RepoFile[] {
  const top = files.filter((f) => !f.rfilename.includes("/") && f.rfilename !== ".gitattributes");
  const shards = weightMap ? new Set(Object.values(weightMap)) : undefined;
  const isWeight = (name: string) =>
    name.endsWith(".safetensors") && (shards ? shards.has(name) : true);
  return top
    .filter((f) => isWeight(f.rfilename) || !otherWeights.test(f.rfilename))
    .sort((a, b) => a.rfilename.localeCompare(b.rfilename));
}

/** What is wrong with a selection for the streamer ([] = fine). */
export function selectionProblems(selected: readonly RepoFile[]): string[] {
  const names = selected.map((f) => f.rfilename);
  const out: string[] = [];
  if (!names.some((n) => n.endsWith(".safetensors"))) {
    out.push(
      "no safetensors weights: the Run:ai streamer reads safetensors only; serve this variant with " +
        "weightsFrom: hub",
    );
  }
  if (!names.includes("config.json")) out.push("no config.json at the top of the repository");
  return out;
}

/** The Hub's refs of a model: its branches and tags. */
export interface Refs {
  readonly branches: readonly { readonly name: string }[];
  readonly tags: readonly { readonly name: string }[];
}

/** Why a revision is not the pinned kind the config promised, or undefined. */
export function revisionProblem(
  revision: string,
  resolved: string,
  refs?: Refs,
): string | undefined {
  if (/^[0-9a-f]{40}$/.test(revision)) {
    return resolved === revision
      ? undefined
      : `the Hub resolved commit ${revision} to ${resolved}: expected the commit itself`;
  }
  if (!refs) return `${revision} is not a commit hash, and the Hub's refs could not be read`;
  if (refs.tags.some((t) => t.name === revision)) return undefined;
  return refs.branches.some((b) => b.name === revision)
    ? `${revision} is a branch, which moves: pin a commit hash or a tag`
    : `${revision} is not a tag of the model (tags: ${refs.tags.map((t) => t.name).join(", ") || "none"})`;
}

/** The manifest the upload step publishes last: the store's marker of a complete copy. */
export interface Manifest {
  readonly model: string;
  readonly revision: string;
  /** The commit the revision resolved to. */
  readonly commit: string;
  readonly files: readonly {
    readonly name: string;
    readonly size: number;
    readonly sha256?: string;
  }[];
}

type Fetch = (url: string, init?: { headers?: Record<string, string> }) => Promise<Response>;
type Log = { log(line: string): void; error(line: string): void };

async function getJson<T>(f: Fetch, url: string, s: StageSettings): Promise<T> {
  const res = await f(url, { headers: authHeaders(s) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}${gatedHint(res.status, s)}`);
  return (await res.json()) as T;
}

function authHeaders(s: StageSettings): Record<string, string> {
  return s.token ? { authorization: `Bearer ${s.token}` } : {};
}

function gatedHint(status: number, s: StageSettings): string {
  if (status !== 401 && status !== 403) return "";
  return s.token
    ? " (the token's account has not accepted the model's licence on the Hub?)"
    : " (a gated model: set llm-platform:hfToken)";
}

/** SHA-256 of a file, hex. */
async function fileSha256(file: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(fs.createReadStream(file), h);
  return h.digest("hex");
}

/** Whether a staged file already matches what the Hub lists. */
async function isComplete(file: string, f: RepoFile): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  const size = f.lfs?.size ?? f.size;
  if (size !== undefined && fs.statSync(file).size !== size) return false;
  return f.lfs ? (await fileSha256(file)) === f.lfs.sha256 : true;
}

/** Downloads one file to `<dest>.part`, checks it, then renames it into place. */
async function download(f: Fetch, url: string, dest: string, file: RepoFile, s: StageSettings) {
  const res = await f(url, { headers: authHeaders(s) });
  if (!res.ok || !res.body) {
    throw new Error(`GET ${url}: HTTP ${res.status}${gatedHint(res.status, s)}`);
  }
  const part = `${dest}.part`;
  const h = createHash("sha256");
  let bytes = 0;
  const hash = new Transform({
    transform(chunk: Buffer, _enc, done) {
      h.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as never), hash, fs.createWriteStream(part));
  const size = file.lfs?.size ?? file.size;
  if (size !== undefined && bytes !== size) {
    throw new Error(`${file.rfilename}: got ${bytes} bytes, the Hub lists ${size}`);
  }
  const sha = h.digest("hex");
  if (file.lfs && sha !== file.lfs.sha256) {
    throw new Error(`${file.rfilename}: SHA-256 ${sha}, the Hub lists ${file.lfs.sha256}`);
  }
  fs.renameSync(part, dest);
  return sha;
}

/** Stages the model into `stagingDir` and writes its manifest. Exit code: 0 staged, 1 refused. */
export async function stageModel(s: StageSettings, f: Fetch, log: Log): Promise<number> {
  if (s.skipFile && fs.existsSync(s.skipFile)) {
    log.log(`${s.model}@${s.revision}: already in the model store, nothing to download`);
    return 0;
  }
  const api = `${s.endpoint}/api/models/${s.model}`;
  const info = await getJson<{ sha: string; siblings: RepoFile[] }>(
    f,
    `${api}/revision/${encodeURIComponent(s.revision)}?blobs=true`,
    s,
  );
  const refs = /^[0-9a-f]{40}$/.test(s.revision)
    ? undefined
    : await getJson<Refs>(f, `${api}/refs`, s);
  const problem = revisionProblem(s.revision, info.sha, refs);
  if (problem) {
    log.error(`${s.model}@${s.revision}: not staged: ${problem}`);
    return 1;
  }
  const resolve = (name: string) =>
    `${s.endpoint}/${s.model}/resolve/${info.sha}/${encodeURIComponent(name)}`;
  const index = info.siblings.some((x) => x.rfilename === "model.safetensors.index.json")
    ? await getJson<{ weight_map: Record<string, string> }>(
        f,
        resolve("model.safetensors.index.json"),
        s,
      )
    : undefined;
  const selected = selectFiles(info.siblings, index?.weight_map);
  const problems = selectionProblems(selected);
  if (problems.length > 0) {
    log.error(`${s.model}@${s.revision}: not staged: ${problems.join("; ")}`);
    return 1;
  }
  fs.mkdirSync(s.stagingDir, { recursive: true });
  const files: Manifest["files"][number][] = [];
  for (const file of selected) {
    const dest = path.join(s.stagingDir, file.rfilename);
    const size = file.lfs?.size ?? file.size ?? 0;
    if (await isComplete(dest, file)) {
      log.log(`${file.rfilename}: already downloaded`);
    } else {
      await download(f, resolve(file.rfilename), dest, file, s);
      log.log(`${file.rfilename}: ${(size / 2 ** 20).toFixed(1)} MiB downloaded and verified`);
    }
    files.push({ name: file.rfilename, size, ...(file.lfs ? { sha256: file.lfs.sha256 } : {}) });
  }
  const manifest: Manifest = { model: s.model, revision: s.revision, commit: info.sha, files };
  fs.writeFileSync(path.join(s.stagingDir, "manifest.json"), JSON.stringify(manifest, null, 2));
  log.log(`${s.model}@${s.revision} (commit ${info.sha}): ${files.length} files staged`);
  return 0;
}

// Run as a program (`node stage.mts`), not when imported by the tests (see adapterPublish.mts).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === import.meta.filename) {
  stageModel(settingsFromEnv(process.env), fetch, console).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(`not staged: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
