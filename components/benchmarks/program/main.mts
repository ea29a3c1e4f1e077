/**
 * The benchmark workflow's program, one command per step: `node main.mts <plan|resume|record|report>`.
 * The WorkflowTemplate (components/benchmarks/workflowTemplate.ts) runs it in the pinned Node.js image
 * with its inputs in environment variables and files (settings, downloaded artifacts); its outputs are
 * files that Argo turns into parameters and uploads to S3. It needs no AWS SDK: S3 is Argo's job.
 *
 * Shipped as written (a ConfigMap) and run with Node's type stripping, like the adapter sync's program.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { planRun } from "./plan.mts";
import { compare, comparisonMarkdown, summarize } from "./report.mts";
import {
  attemptProblem,
  pendingScenarios,
  ranBenchStatus,
  readAttemptNotes,
  readRecords,
  recordFormat,
  resultsFromVllm,
  scenarioItem,
  windowOf,
  type AttemptNote,
  type GpuUse,
  type ScenarioRecord,
  type ServingNode,
  type Settings,
  type VllmResult,
} from "./results.mts";

type Env = Readonly<Record<string, string | undefined>>;
type Log = { log(line: string): void; error(line: string): void };

function need(env: Env, key: string): string {
  const v = env[key];
  if (v === undefined) throw new Error(`environment variable ${key} is not set`);
  return v;
}

function readJson<T>(file: string): T | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as T) : undefined;
}

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

const settingsOf = (env: Env) =>
  JSON.parse(fs.readFileSync(need(env, "SETTINGS_FILE"), "utf8")) as Settings;

/** plan: check the submission, resolve the run id, list the variants to loop over. */
function plan(env: Env, log: Log): number {
  const { runId, items } = planRun(
    settingsOf(env),
    env.VARIANTS ?? "",
    env.RUN_ID ?? "",
    need(env, "WORKFLOW_NAME"),
  );
  const out = need(env, "OUT_DIR");
  write(path.join(out, "run-id"), runId);
  write(path.join(out, "variants.json"), JSON.stringify(items));
  log.log(`run ${runId}: ${items.map((i) => i.variant).join(", ")}`);
  return 0;
}

/** resume: the scenarios of this variant that no earlier attempt of the run has recorded. */
function resume(env: Env, log: Log): number {
  const settings = settingsOf(env);
  const variant = need(env, "VARIANT");
  const { pending, done, changed } = pendingScenarios(need(env, "RUN_DIR"), settings.scenarios);
  for (const s of done) log.log(`${variant} ${s}: already recorded for this run, skipped`);
  for (const s of changed) log.log(`${variant} ${s}: recorded with another definition, runs again`);
  const out = need(env, "OUT_DIR");
  write(
    path.join(out, "pending.json"),
    JSON.stringify(pending.map((s) => scenarioItem(s, settings.modelCacheRoot))),
  );
  write(path.join(out, "pending-count"), String(pending.length));
  return 0;
}

/**
 * DCGM's labels as Prometheus stores them: the exporter's PodMonitor does not honour target labels,
 * so the exporter's own `namespace`/`pod` become `exported_namespace`/`exported_pod`.
 */
export const dcgmPodLabels = { namespace: "exported_namespace", pod: "exported_pod" };

/** PromQL over one variant's pods and a window of `seconds` ending at the query time. */
export function measurementQueries(namespace: string, deployment: string, seconds: number) {
  const pods = `${deployment}-[a-z0-9]+-[a-z0-9]+`;
  const dcgm = `${dcgmPodLabels.namespace}="${namespace}",${dcgmPodLabels.pod}=~"${pods}"`;
  // At least two scrapes (the exporter is scraped every 15 s) fall in any window.
  const range = `${Math.max(30, Math.ceil(seconds))}s`;
  return {
    utilizationPercent: `avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{${dcgm}}[${range}]))`,
    memoryUsedMiB: `max(max_over_time(DCGM_FI_DEV_FB_USED{${dcgm}}[${range}]))`,
    nodes:
      "count by (label_node_kubernetes_io_instance_type, label_eks_amazonaws_com_capacity_type) " +
      `(kube_node_labels and on (node) kube_pod_info{namespace="${namespace}",pod=~"${pods}"})`,
  };
}

interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** An instant query of Prometheus's HTTP API at `time` (RFC 3339). */
export async function queryPrometheus(
  baseUrl: string,
  query: string,
  time: string,
): Promise<PromSample[]> {
  const url = `${baseUrl}/api/v1/query?${new URLSearchParams({ query, time }).toString()}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const body = (await res.json()) as {
    status?: string;
    error?: string;
    data?: { result?: PromSample[] };
  };
  if (!res.ok || body.status !== "success") {
    throw new Error(`Prometheus answered ${res.status}: ${body.error ?? "no result"}`);
  }
  return body.data?.result ?? [];
}

/** GPU use and serving nodes over a window; what could not be measured is noted, never fatal. */
export async function measure(
  prometheusUrl: string,
  namespace: string,
  deployment: string,
  window: ScenarioRecord["window"],
): Promise<{ gpu: GpuUse; nodes: ServingNode[]; notes: string[] }> {
  const q = measurementQueries(namespace, deployment, window.seconds);
  const notes: string[] = [];
  const scalar = async (name: string, query: string): Promise<number | null> => {
    try {
      const r = await queryPrometheus(prometheusUrl, query, window.end);
      const v = r[0] ? Number(r[0].value[1]) : NaN;
      if (Number.isFinite(v)) return v;
      notes.push(`${name}: no samples in the window (${query})`);
    } catch (e) {
      notes.push(`${name}: ${(e as Error).message}`);
    }
    return null;
  };
  const gpu = {
    utilizationPercent: await scalar("GPU utilisation", q.utilizationPercent),
    memoryUsedMiB: await scalar("GPU memory", q.memoryUsedMiB),
  };
  let nodes: ServingNode[] = [];
  try {
    nodes = (await queryPrometheus(prometheusUrl, q.nodes, window.end)).map((s) => ({
      instanceType: s.metric.label_node_kubernetes_io_instance_type ?? "unknown",
      capacityType: s.metric.label_eks_amazonaws_com_capacity_type ?? "unknown",
      count: Number(s.value[1]),
    }));
    if (nodes.length === 0) notes.push(`serving nodes: none found (${q.nodes})`);
  } catch (e) {
    notes.push(`serving nodes: ${(e as Error).message}`);
  }
  return { gpu, nodes, notes };
}

/** The figures Argo emits as Prometheus metrics (output parameters, one file each). */
function metricFiles(r: ScenarioRecord): Record<string, string> {
  const x = r.results;
  const seconds = (ms: number) => String(ms / 1000);
  return {
    "output-tokens-per-second": String(x.outputTokensPerSecond),
    "requests-per-second": String(x.requestsPerSecond),
    "ttft-p50-seconds": seconds(x.ttftMs.p50),
    "ttft-p95-seconds": seconds(x.ttftMs.p95),
    "ttft-p99-seconds": seconds(x.ttftMs.p99),
    "tpot-p95-seconds": seconds(x.tpotMs.p95),
    "itl-p95-seconds": seconds(x.itlMs.p95),
    "e2e-p95-seconds": seconds(x.e2eMs.p95),
    "failed-requests": String(x.failed),
    "gpu-measured": String(r.gpu.utilizationPercent !== null && r.gpu.memoryUsedMiB !== null),
    "gpu-utilization-percent": String(r.gpu.utilizationPercent ?? 0),
    "gpu-memory-used-bytes": String((r.gpu.memoryUsedMiB ?? 0) * 2 ** 20),
    "completed-at": String(Date.parse(r.window.end) / 1000),
  };
}

/**
 * record: turn the attempt's vLLM result into the scenario's record, or, when the attempt does not
 * count, write why and exit 3 so the workflow retries the scenario.
 */
async function record(env: Env, log: Log): Promise<number> {
  const settings = settingsOf(env);
  const variant = need(env, "VARIANT");
  const target = settings.variants[variant];
  const scenario = settings.scenarios.find((s) => s.name === need(env, "SCENARIO"));
  if (!target || !scenario)
    throw new Error(`unknown variant ${variant} or scenario ${env.SCENARIO}`);
  const attempt = Number(need(env, "ATTEMPT"));
  const workflow = need(env, "WORKFLOW_NAME");
  const out = need(env, "OUT_DIR");
  const raw = readJson<VllmResult>(need(env, "RAW_FILE"));
  const status = ranBenchStatus([env.BENCH_STATUS ?? "", env.PROMPT_SET_BENCH_STATUS ?? ""]);
  let problem = attemptProblem(status, raw, settings.readyTimeoutMinutes);
  let results;
  if (!problem) {
    try {
      results = resultsFromVllm(raw!);
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  if (problem || !results) {
    const note: AttemptNote = { scenario: scenario.name, attempt, workflow, reason: problem! };
    write(path.join(out, "attempt.json"), JSON.stringify(note, null, 2));
    log.error(`${variant} ${scenario.name} attempt ${attempt + 1} does not count: ${problem}`);
    return 3;
  }
  const window = windowOf(raw!);
  const m = await measure(settings.prometheusUrl, settings.namespace, target.deployment, window);
  const r: ScenarioRecord = {
    format: recordFormat,
    variant,
    runId: need(env, "RUN_ID"),
    workflow,
    scenario,
    attempts: attempt + 1,
    window,
    replicas: target.replicas,
    results,
    ...m,
  };
  write(path.join(out, "record.json"), JSON.stringify(r, null, 2));
  for (const [name, value] of Object.entries(metricFiles(r)))
    write(path.join(out, "metrics", name), value);
  for (const n of m.notes) log.error(`${variant} ${scenario.name}: not measured: ${n}`);
  log.log(
    `${variant} ${scenario.name}: ${results.outputTokensPerSecond.toFixed(1)} output tok/s, p95 TTFT ${results.ttftMs.p95.toFixed(0)} ms`,
  );
  return 0;
}

/** report: each variant's summary and the run's comparison; exit 1 when a scenario is missing. */
function report(env: Env, log: Log): number {
  const settings = settingsOf(env);
  const runId = need(env, "RUN_ID");
  const workflow = need(env, "WORKFLOW_NAME");
  const runs = need(env, "RUNS_DIR");
  // Uploaded as a tree under `benchmarks/`: `<variant>/<run id>/summary.json`, `_comparisons/<run id>/`.
  const out = need(env, "REPORT_DIR");
  const variants = planRun(settings, env.VARIANTS ?? "", runId, workflow).items.map(
    (i) => i.variant!,
  );
  const measured = variants.map((variant) => {
    const dir = path.join(runs, variant);
    const records = readRecords(dir);
    const p = { variant, runId, workflow, scenarios: settings.scenarios };
    const summary = summarize(p, records, readAttemptNotes(dir));
    write(path.join(out, variant, runId, "summary.json"), JSON.stringify(summary, null, 2));
    return { variant, summary, records };
  });
  const c = compare(settings, { runId, workflow, generatedAt: new Date().toISOString() }, measured);
  const dir = path.join(out, "_comparisons", runId);
  write(path.join(dir, "comparison.json"), JSON.stringify(c, null, 2));
  write(path.join(dir, "comparison.md"), comparisonMarkdown(c));
  log.log(comparisonMarkdown(c));
  return c.complete ? 0 : 1;
}

/** Runs one command; the exit code says whether the step succeeded (3: retry the scenario). */
export async function main(command: string | undefined, env: Env, log: Log): Promise<number> {
  switch (command) {
    case "plan":
      return plan(env, log);
    case "resume":
      return resume(env, log);
    case "record":
      return record(env, log);
    case "report":
      return report(env, log);
    default:
      log.error("usage: node main.mts <plan|resume|record|report>");
      return 2;
  }
}

// Run as a program, not when imported by the tests (the ConfigMap mounts files through symlinks).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === import.meta.filename) {
  main(process.argv[2], process.env, console).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 2;
    },
  );
}
