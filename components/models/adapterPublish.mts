/**
 * The adapter sync's validate-and-publish program (Node.js, no AWS access), run by the CronJob after
 * the download step has mirrored each configured adapter from the bucket.
 *
 * For each configured adapter in the mirror: `adapter_config.json` must say `peft_type: LORA`, name the
 * served `--model` as `base_model_name_or_path` (what vLLM's resolver compares) and have a rank `r` <=
 * `--max-lora-rank`, and weights must be present. A valid adapter is copied to
 * `<served>/.versions/<name>@<digest>` (written under a temporary name, then renamed) and
 * `<served>/<name>` is switched to it by renaming a symlink over it: vLLM sees the old adapter or the
 * new one, never a half-copied directory. The symlink stays inside the resolver directory, which the
 * resolver requires (it resolves real paths). Invalid adapters are reported and left unpublished; the
 * run then exits 1, so the Job shows as failed.
 *
 * Shipped as written: the ConfigMap carries this file and the pinned Node.js image runs it, stripping
 * its types (Node.js >= 22.18 runs erasable TypeScript as is). So it uses only erasable syntax (no
 * enums, namespaces or parameter properties) and imports nothing but Node's own modules.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** What one run publishes, from where, checked against what (the CronJob's environment). */
export interface PublishSettings {
  readonly adapters: readonly string[];
  /** The served `--model`: every adapter's `base_model_name_or_path` must equal it. */
  readonly baseModel: string;
  /** The server's `--max-lora-rank`. */
  readonly maxRank: number;
  /** The download step's copy of each adapter (`<mirror>/<name>`). */
  readonly mirror: string;
  /** vLLM's resolver directory (VLLM_LORA_RESOLVER_CACHE_DIR). */
  readonly served: string;
}

/** The settings the CronJob passes as environment variables. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): PublishSettings {
  return {
    adapters: (env.ADAPTERS || "").split(",").filter(Boolean),
    baseModel: env.BASE_MODEL ?? "",
    maxRank: Number(env.MAX_LORA_RANK),
    mirror: env.MIRROR_DIR ?? "",
    served: env.ADAPTERS_DIR ?? "",
  };
}

/** The fields of `adapter_config.json` that decide whether vLLM can serve the adapter. */
interface AdapterConfig {
  readonly peft_type?: unknown;
  readonly base_model_name_or_path?: unknown;
  readonly r?: unknown;
}

/** What is wrong with an adapter directory for the served base model ([] = valid). */
export function adapterProblems(dir: string, s: PublishSettings): string[] {
  const file = path.join(dir, "adapter_config.json");
  if (!fs.existsSync(file)) return ["no adapter_config.json (not in the bucket yet?)"];
  let c: AdapterConfig;
  try {
    c = JSON.parse(fs.readFileSync(file, "utf8")) as AdapterConfig;
  } catch (e) {
    return ["adapter_config.json is not valid JSON: " + (e as Error).message];
  }
  const out: string[] = [];
  if (c.peft_type !== "LORA") {
    out.push("peft_type is " + JSON.stringify(c.peft_type) + ', expected "LORA"');
  }
  if (c.base_model_name_or_path !== s.baseModel) {
    out.push(
      "base_model_name_or_path is " +
        JSON.stringify(c.base_model_name_or_path) +
        ", expected " +
        JSON.stringify(s.baseModel) +
        " (the served --model)",
    );
  }
  if (typeof c.r !== "number" || !Number.isInteger(c.r) || c.r < 1 || c.r > s.maxRank) {
    out.push("rank r is " + JSON.stringify(c.r) + ", expected 1 to --max-lora-rank " + s.maxRank);
  }
  const weights = ["adapter_model.safetensors", "adapter_model.bin"];
  if (!weights.some((f) => fs.existsSync(path.join(dir, f)))) {
    out.push("no adapter_model.safetensors or adapter_model.bin");
  }
  return out;
}

/** Every file under `dir`, relative to it, sorted (so the digest does not depend on listing order). */
function files(dir: string, rel = ""): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)],
    )
    .sort();
}

/** A short content digest of a directory: names and bytes of every file. */
export function adapterDigest(dir: string): string {
  const h = createHash("sha256");
  for (const f of files(dir)) {
    h.update(f + "\0");
    h.update(fs.readFileSync(path.join(dir, f)));
  }
  return h.digest("hex").slice(0, 16);
}

function currentLink(link: string): string | null {
  try {
    return fs.readlinkSync(link);
  } catch {
    return null;
  }
}

/** Publishes one valid adapter atomically; says whether it was new, changed or unchanged. */
export function publishAdapter(name: string, s: PublishSettings): string {
  const versions = path.join(s.served, ".versions");
  const version = name + "@" + adapterDigest(path.join(s.mirror, name));
  const link = path.join(s.served, name);
  const target = path.join(".versions", version);
  const current = currentLink(link);
  if (current === target) return "unchanged";
  fs.mkdirSync(versions, { recursive: true });
  const dest = path.join(versions, version);
  if (!fs.existsSync(dest)) {
    const tmp = dest + ".tmp";
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(path.join(s.mirror, name), tmp, { recursive: true });
    fs.renameSync(tmp, dest);
  }
  // A plain directory someone put there by hand: move it aside so the link can take its place.
  if (current === null && fs.existsSync(link)) {
    fs.renameSync(link, path.join(versions, name + "@replaced-" + Date.now()));
  }
  const tmpLink = path.join(s.served, "." + name + ".link");
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(target, tmpLink);
  fs.renameSync(tmpLink, link);
  // Keep the published version and the one before it; a running server has already loaded either.
  for (const v of fs.readdirSync(versions)) {
    const old = path.join(".versions", v);
    if (v.split("@")[0] === name && old !== target && old !== current) {
      fs.rmSync(path.join(versions, v), { recursive: true, force: true });
    }
  }
  return current === null
    ? "published"
    : "updated (servers that loaded the old one keep it until restarted)";
}

/** Validates and publishes every configured adapter; the exit code is 1 if any was refused. */
export function publishAll(
  s: PublishSettings,
  log: { log(line: string): void; error(line: string): void },
): number {
  fs.mkdirSync(s.served, { recursive: true });
  let failed = 0;
  for (const name of s.adapters) {
    const p = adapterProblems(path.join(s.mirror, name), s);
    if (p.length > 0) {
      failed++;
      log.error("adapter " + name + ": not published: " + p.join("; "));
      continue;
    }
    log.log("adapter " + name + ": " + publishAdapter(name, s));
  }
  return failed > 0 ? 1 : 0;
}

// Run as a program (`node publish.mts`), not when imported by the tests. The ConfigMap mounts the file
// through a symlink, and Node reports the main module by its real path.
if (process.argv[1] && fs.realpathSync(process.argv[1]) === import.meta.filename) {
  process.exitCode = publishAll(settingsFromEnv(process.env), console);
}
