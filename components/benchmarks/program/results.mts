/**
 * The benchmark's checkpoint store, as the workflow pods see it: what a scenario record is, how one is
 * made from `vllm bench serve`'s saved result, when an attempt counts as interrupted, and which
 * scenarios of a run are still to do.
 *
 * A run's results live under `s3://<results bucket>/benchmarks/<variant>/<run id>/` (Argo's S3
 * artifacts download and upload them; this code sees local directories):
 *   <scenario>.json                   the record, written as soon as the scenario completes
 *   attempts/<scenario>.<n>.json      why attempt n (0-based) of a scenario did not count
 *   raw/<scenario>.<n>.json           vLLM's own result of attempt n, as saved
 *   summary.json                      the run's summary (report.mts)
 * A resubmission of the same run id skips every scenario whose record exists with the same definition.
 *
 * Shipped as written (a ConfigMap) and run by the pinned Node.js image, which strips the types: only
 * erasable syntax, and imports of Node's own modules and of this folder's files.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** One cell of the scenario matrix (config/benchmarks.ts `BenchmarkScenario`). */
export interface Scenario {
  readonly name: string;
  readonly shape: string;
  readonly inputLen: number;
  readonly outputLen: number;
  readonly numPrompts: number;
  readonly requestRate: number | null;
  readonly maxConcurrency: number | null;
  /** A JSON-lines prompt set relative to the model cache root, or null for random prompts. */
  readonly promptSet: string | null;
}

/** A variant as a run reaches and holds it. */
export interface VariantTarget {
  /** Its Service (`http://vllm-<variant>.<namespace>.svc.cluster.local`). */
  readonly url: string;
  /** The Hugging Face model (for the report). */
  readonly model: string;
  /** The name requests carry (`--served-model-name` of its server). */
  readonly servedModelName: string;
  /**
   * The client's tokenizer on the shared model cache: a directory (the staging Job's tokenizer
   * directory of a store variant, or the Hub snapshot of a Hub variant's pinned commit), or, for a Hub
   * variant pinned to a tag, the Hub cache's ref file `refs/<tag>`, which names the snapshot's commit.
   */
  readonly tokenizer: string;
  /**
   * The LoRA adapters a variant serves by name (`models.variants.<v>.lora.adapters`), empty for one
   * that serves none: the client spreads its requests over them, so the run measures the adapters,
   * not the base model under them.
   */
  readonly loraModules: readonly string[];
  readonly deployment: string;
  /** Its KEDA ScaledObject, or null for a variant with a fixed replica count. */
  readonly scaledObject: string | null;
  /** Replicas it serves during the run (held ones for autoscaled variants). */
  readonly replicas: number;
  /** Replicas it always runs (its autoscaler's floor; its count when fixed): a hold never goes below. */
  readonly minReplicas: number;
  readonly maxModelLen: number;
}

/** What the platform tells the program (benchmarks.ts `benchmarkSettings`, settings.json). */
export interface Settings {
  readonly namespace: string;
  readonly prometheusUrl: string;
  readonly slo: { readonly ttftP95Ms: number };
  /** Every variant a run may benchmark (the serving ones), by name. */
  readonly variants: Readonly<Record<string, VariantTarget>>;
  /** What a run benchmarks unless told otherwise. */
  readonly defaultVariants: readonly string[];
  readonly scenarios: readonly Scenario[];
  /** Where the model cache is mounted in the client pod (prompt sets live under it). */
  readonly modelCacheRoot: string;
  readonly readyTimeoutMinutes: number;
}

/** mean, median and tail of one latency metric, in milliseconds. */
export interface Latency {
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export interface ScenarioResults {
  readonly completed: number;
  readonly failed: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly outputTokensPerSecond: number;
  readonly totalInputTokens: number;
  readonly totalOutputTokens: number;
  /** Time to first token. */
  readonly ttftMs: Latency;
  /** Time per output token after the first. */
  readonly tpotMs: Latency;
  /** Inter-token latency. */
  readonly itlMs: Latency;
  /** End-to-end request latency. */
  readonly e2eMs: Latency;
}

/** The GPU nodes that served a scenario, from kube-state-metrics. */
export interface ServingNode {
  readonly instanceType: string;
  readonly capacityType: string;
  readonly count: number;
}

/** DCGM's view of the variant's GPUs over the scenario's window. */
export interface GpuUse {
  /** Average utilisation across the variant's GPUs, percent. */
  readonly utilizationPercent: number | null;
  /** Highest framebuffer memory in use on one GPU, MiB. */
  readonly memoryUsedMiB: number | null;
}

export const recordFormat = "llm-platform/benchmark-scenario@1";

/** A completed scenario: `<scenario>.json` of its run. */
export interface ScenarioRecord {
  readonly format: typeof recordFormat;
  readonly variant: string;
  readonly runId: string;
  /** The workflow that recorded it (another one than the current: resumed from an earlier attempt). */
  readonly workflow: string;
  readonly scenario: Scenario;
  /** Attempts it took (1 = first try). */
  readonly attempts: number;
  readonly window: { readonly start: string; readonly end: string; readonly seconds: number };
  readonly replicas: number;
  readonly results: ScenarioResults;
  readonly gpu: GpuUse;
  readonly nodes: readonly ServingNode[];
  /** What could not be measured (a Prometheus query that failed or found nothing). */
  readonly notes: readonly string[];
}

/** Why an attempt did not count: `attempts/<scenario>.<n>.json`. */
export interface AttemptNote {
  readonly scenario: string;
  /** 0-based, as Argo's `{{retries}}`. */
  readonly attempt: number;
  readonly workflow: string;
  readonly reason: string;
}

/** The fields of vLLM's saved result (`vllm bench serve --save-result`) a record is made from. */
export interface VllmResult {
  /** When it was saved, `%Y%m%d-%H%M%S` in the client's time zone (UTC in the workflow). */
  readonly date?: string;
  readonly duration: number;
  readonly completed: number;
  readonly failed?: number;
  readonly request_throughput: number;
  readonly output_throughput: number;
  readonly total_input_tokens: number;
  readonly total_output_tokens: number;
  readonly [field: string]: unknown;
}

/** vLLM's percentile keys: `mean_ttft_ms`, `p95_ttft_ms`, ... (`--metric-percentiles 50,95,99`). */
function latency(raw: VllmResult, metric: "ttft" | "tpot" | "itl" | "e2el"): Latency {
  const get = (key: string): number => {
    const v = raw[`${key}_${metric}_ms`];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(
        `vLLM's result has no ${key}_${metric}_ms (run with --percentile-metrics ${metric})`,
      );
    }
    return v;
  };
  return { mean: get("mean"), p50: get("p50"), p95: get("p95"), p99: get("p99") };
}

/** The measured figures of a scenario, from vLLM's result. */
export function resultsFromVllm(raw: VllmResult): ScenarioResults {
  return {
    completed: raw.completed,
    failed: raw.failed ?? 0,
    durationSeconds: raw.duration,
    requestsPerSecond: raw.request_throughput,
    outputTokensPerSecond: raw.output_throughput,
    totalInputTokens: raw.total_input_tokens,
    totalOutputTokens: raw.total_output_tokens,
    ttftMs: latency(raw, "ttft"),
    tpotMs: latency(raw, "tpot"),
    itlMs: latency(raw, "itl"),
    e2eMs: latency(raw, "e2el"),
  };
}

/** The measurement window: it ends when vLLM saved the result and lasted `duration` seconds. */
export function windowOf(raw: VllmResult): ScenarioRecord["window"] {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(raw.date ?? "");
  if (!m) throw new Error(`vLLM's result has no date of the form YYYYmmdd-HHMMSS: ${raw.date}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const end = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const start = new Date(end.getTime() - Math.ceil(raw.duration) * 1000);
  return { start: start.toISOString(), end: end.toISOString(), seconds: raw.duration };
}

/**
 * Why an attempt must be retried, or undefined when its result counts. `benchStatus` is the Argo
 * status of the client step that ran (Skipped for the one that did not). A request that failed means
 * the server went away or errored mid-scenario (a SPOT interruption, a restart): the scenario's
 * figures would not describe the variant, so the attempt is retried once the variant serves again.
 */
export function attemptProblem(
  benchStatus: string,
  raw: VllmResult | undefined,
  readyTimeoutMinutes: number,
): string | undefined {
  if (benchStatus === "Omitted") {
    return `the variant did not serve within ${readyTimeoutMinutes} minutes (its readiness step failed)`;
  }
  if (benchStatus !== "Succeeded") {
    return `the benchmark client ended ${benchStatus} (its pod failed, was evicted or lost its node)`;
  }
  if (!raw) return "the benchmark client saved no result";
  const failed = raw.failed ?? 0;
  if (failed > 0) {
    return (
      `${failed} of ${failed + raw.completed} requests failed: the server was unreachable or ` +
      `erroring during the scenario (a SPOT interruption or a restart of the model server)`
    );
  }
  return undefined;
}

/** The status of the client step that ran: the one of the two that was not skipped. */
export function ranBenchStatus(statuses: readonly string[]): string {
  return statuses.find((s) => s !== "Skipped" && s !== "") ?? "Omitted";
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** The records of a run directory (files that are not records are ignored). */
export function readRecords(runDir: string): Map<string, ScenarioRecord> {
  const out = new Map<string, ScenarioRecord>();
  if (!fs.existsSync(runDir)) return out;
  for (const f of fs
    .readdirSync(runDir)
    .filter((x) => x.endsWith(".json"))
    .sort()) {
    const r = readJson<ScenarioRecord>(path.join(runDir, f));
    if (r?.format === recordFormat && `${r.scenario.name}.json` === f) out.set(r.scenario.name, r);
  }
  return out;
}

/** The attempt notes of a run directory, by scenario, in attempt order. */
export function readAttemptNotes(runDir: string): Map<string, AttemptNote[]> {
  const out = new Map<string, AttemptNote[]>();
  const dir = path.join(runDir, "attempts");
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".json"))) {
    const n = readJson<AttemptNote>(path.join(dir, f));
    if (n && typeof n.scenario === "string")
      out.set(n.scenario, [...(out.get(n.scenario) ?? []), n]);
  }
  for (const notes of out.values()) notes.sort((a, b) => a.attempt - b.attempt);
  return out;
}

const sameScenario = (a: Scenario, b: Scenario) =>
  (Object.keys(b) as (keyof Scenario)[]).every((k) => a[k] === b[k]);

/**
 * Which scenarios of a run are still to do: those without a record, or whose record was made with
 * another definition (the config changed between attempts of one run id).
 */
export function pendingScenarios(
  runDir: string,
  scenarios: readonly Scenario[],
): { pending: Scenario[]; done: string[]; changed: string[] } {
  const records = readRecords(runDir);
  const out = { pending: [] as Scenario[], done: [] as string[], changed: [] as string[] };
  for (const s of scenarios) {
    const r = records.get(s.name);
    if (r && sameScenario(r.scenario, s)) out.done.push(s.name);
    else {
      if (r) out.changed.push(s.name);
      out.pending.push(s);
    }
  }
  return out;
}

/**
 * The seed of a scenario's prompts (and request arrival times): six digits from a stable hash of its
 * name. The client's `--seed` is this followed by the attempt's number (`<seed><attempt>`,
 * workflowSteps.ts `clientArgs`), so every scenario of a shape, and every retry of one scenario, sends
 * other prompts: vLLM's prefix cache (on by default) would otherwise answer a later load, or a retry,
 * from what an earlier one left. Attempts are 0-10 (at most 10 retries), one or two digits after six,
 * so two (scenario, attempt) pairs share a seed only if their names' hashes do. The same scenario gets
 * the same seed in every variant (like for like) and in every run (comparable runs).
 */
export function scenarioSeed(name: string): string {
  const h = createHash("sha256").update(name).digest().readUInt32BE(0);
  return String(100_000 + (h % 900_000));
}

/**
 * A pending scenario as the workflow's loop item: every value a string, as the client's flags take
 * them. No rate means all requests at once (`inf`), limited by the concurrency; no concurrency limit
 * means as many in flight as prompts.
 */
export function scenarioItem(s: Scenario, modelCacheRoot: string): Record<string, string> {
  return {
    scenario: s.name,
    seed: scenarioSeed(s.name),
    "input-len": String(s.inputLen),
    "output-len": String(s.outputLen),
    "num-prompts": String(s.numPrompts),
    "request-rate": s.requestRate === null ? "inf" : String(s.requestRate),
    "max-concurrency": String(s.maxConcurrency ?? s.numPrompts),
    "prompt-set": s.promptSet === null ? "" : path.posix.join(modelCacheRoot, s.promptSet),
  };
}
