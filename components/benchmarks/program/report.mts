/**
 * The end of a run: a summary per variant (what was recorded, resumed, retried and why, what is
 * missing) and the comparison of all its variants, as JSON (what `npm run cost -- <stack> --benchmarks`
 * reads) and as a Markdown table.
 */
import type {
  AttemptNote,
  Scenario,
  ScenarioRecord,
  ScenarioResults,
  ServingNode,
  Settings,
} from "./results.mts";

export const summaryFormat = "llm-platform/benchmark-run@1";
export const comparisonFormat = "llm-platform/benchmark-comparison@1";

/** A scenario that needed more than one attempt, and why the others did not count. */
export interface Retried {
  readonly scenario: string;
  readonly attempts: number;
  /** One line per attempt that did not count (none when its pod was lost before it could say). */
  readonly reasons: readonly string[];
}

/** `summary.json` of one variant's run. */
export interface VariantSummary {
  readonly format: typeof summaryFormat;
  readonly variant: string;
  readonly runId: string;
  readonly workflow: string;
  readonly scenarios: number;
  readonly recorded: number;
  /** Recorded by an earlier workflow of the same run id (skipped by this one). */
  readonly resumed: readonly string[];
  readonly missing: readonly string[];
  readonly retried: readonly Retried[];
}

/** One scenario's figures in the comparison: its definition, its results, GPU use and the SLO. */
export type ComparedScenario = Omit<Scenario, "promptSet"> &
  Omit<ScenarioResults, "totalInputTokens" | "totalOutputTokens"> & {
    readonly gpuUtilizationPercent: number | null;
    readonly gpuMemoryUsedMiB: number | null;
    readonly attempts: number;
    /** p95 TTFT within the run's SLO and no failed request. */
    readonly meetsSlo: boolean;
  };

/** One variant in the comparison. */
export interface ComparedVariant {
  readonly variant: string;
  readonly model: string;
  readonly replicas: number;
  /** The GPU nodes that served it (instance type and SPOT/On-Demand), over all its scenarios. */
  readonly nodes: readonly ServingNode[];
  readonly scenarios: readonly ComparedScenario[];
  readonly missing: readonly string[];
  readonly retried: readonly Retried[];
}

/** `comparison.json` of a run. */
export interface Comparison {
  readonly format: typeof comparisonFormat;
  readonly runId: string;
  readonly workflow: string;
  readonly generatedAt: string;
  readonly slo: { readonly ttftP95Ms: number };
  /** Every scenario of every variant has a record. */
  readonly complete: boolean;
  readonly variants: readonly ComparedVariant[];
}

/** The summary of one variant's run from its records and attempt notes. */
export function summarize(
  p: { variant: string; runId: string; workflow: string; scenarios: readonly Scenario[] },
  records: ReadonlyMap<string, ScenarioRecord>,
  notes: ReadonlyMap<string, readonly AttemptNote[]>,
): VariantSummary {
  const recorded = p.scenarios.filter((s) => records.has(s.name));
  const retried: Retried[] = [];
  for (const s of p.scenarios) {
    const attempts = records.get(s.name)?.attempts ?? 0;
    const failedNotes = notes.get(s.name) ?? [];
    if (attempts > 1 || failedNotes.length > 0) {
      retried.push({
        scenario: s.name,
        attempts: Math.max(attempts, failedNotes.length),
        reasons: failedNotes.map((n) => `attempt ${n.attempt + 1}: ${n.reason}`),
      });
    }
  }
  return {
    format: summaryFormat,
    variant: p.variant,
    runId: p.runId,
    workflow: p.workflow,
    scenarios: p.scenarios.length,
    recorded: recorded.length,
    resumed: recorded
      .filter((s) => records.get(s.name)!.workflow !== p.workflow)
      .map((s) => s.name),
    missing: p.scenarios.filter((s) => !records.has(s.name)).map((s) => s.name),
    retried,
  };
}

function compared(r: ScenarioRecord, sloMs: number): ComparedScenario {
  const { promptSet: _promptSet, ...scenario } = r.scenario;
  const { totalInputTokens: _in, totalOutputTokens: _out, ...results } = r.results;
  return {
    ...scenario,
    ...results,
    gpuUtilizationPercent: r.gpu.utilizationPercent,
    gpuMemoryUsedMiB: r.gpu.memoryUsedMiB,
    attempts: r.attempts,
    meetsSlo: results.failed === 0 && results.ttftMs.p95 <= sloMs,
  };
}

/** The nodes of all records, counted by instance type and capacity type. */
function servingNodes(records: readonly ScenarioRecord[]): ServingNode[] {
  const counts = new Map<string, ServingNode>();
  for (const n of records.flatMap((r) => r.nodes)) {
    const key = `${n.instanceType}/${n.capacityType}`;
    const seen = counts.get(key);
    counts.set(key, { ...n, count: (seen?.count ?? 0) + n.count });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}

/** The comparison of a run's variants, in the order they were requested. */
export function compare(
  settings: Settings,
  run: { runId: string; workflow: string; generatedAt: string },
  variants: readonly {
    variant: string;
    summary: VariantSummary;
    records: ReadonlyMap<string, ScenarioRecord>;
  }[],
): Comparison {
  const out = variants.map(({ variant, summary, records }): ComparedVariant => {
    const target = settings.variants[variant];
    const recs = settings.scenarios.flatMap((s) => records.get(s.name) ?? []);
    return {
      variant,
      model: target?.model ?? "",
      replicas: target?.replicas ?? 0,
      nodes: servingNodes(recs),
      scenarios: recs.map((r) => compared(r, settings.slo.ttftP95Ms)),
      missing: summary.missing,
      retried: summary.retried,
    };
  });
  return {
    format: comparisonFormat,
    runId: run.runId,
    workflow: run.workflow,
    generatedAt: run.generatedAt,
    slo: settings.slo,
    complete: out.every((v) => v.missing.length === 0),
    variants: out,
  };
}

const num = (n: number | null, digits = 0) =>
  n === null ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits });
const load = (s: ComparedScenario) =>
  [
    s.requestRate !== null ? `${s.requestRate} req/s` : "",
    s.maxConcurrency !== null ? `≤ ${s.maxConcurrency} in flight` : "",
  ]
    .filter(Boolean)
    .join(", ");

/** The comparison as Markdown: one table per prompt shape, variants side by side. */
export function comparisonMarkdown(c: Comparison): string {
  const lines = [
    `# Benchmark ${c.runId}`,
    "",
    `Workflow \`${c.workflow}\`, ${c.generatedAt}. SLO: p95 time to first token ≤ ${num(c.slo.ttftP95Ms)} ms ` +
      `with no failed request. ${c.complete ? "Every scenario completed." : "**Incomplete**: see Missing."}`,
  ];
  const shapes = [...new Set(c.variants.flatMap((v) => v.scenarios.map((s) => s.shape)))];
  for (const shape of shapes) {
    const first = c.variants.flatMap((v) => v.scenarios).find((s) => s.shape === shape)!;
    lines.push(
      "",
      `## ${shape} (${first.inputLen} → ${first.outputLen} tokens)`,
      "",
      "| Variant | Load | Output tok/s | Req/s | TTFT p50 / p95 / p99 ms | TPOT p95 ms | ITL p95 ms | E2E p95 ms | Failed | GPU util % | GPU mem MiB | SLO |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :-: |",
    );
    for (const v of c.variants) {
      for (const s of v.scenarios.filter((x) => x.shape === shape)) {
        lines.push(
          `| ${v.variant} | ${load(s)} | ${num(s.outputTokensPerSecond, 1)} | ${num(s.requestsPerSecond, 2)} | ` +
            `${num(s.ttftMs.p50)} / ${num(s.ttftMs.p95)} / ${num(s.ttftMs.p99)} | ${num(s.tpotMs.p95, 1)} | ` +
            `${num(s.itlMs.p95, 1)} | ${num(s.e2eMs.p95)} | ${s.failed} | ${num(s.gpuUtilizationPercent)} | ` +
            `${num(s.gpuMemoryUsedMiB)} | ${s.meetsSlo ? "✓" : "✗"} |`,
        );
      }
    }
  }
  const retried = c.variants.flatMap((v) => v.retried.map((r) => ({ v: v.variant, r })));
  if (retried.length > 0) {
    lines.push("", "## Retried", "");
    for (const { v, r } of retried) {
      lines.push(
        `- ${v} ${r.scenario}: ${r.attempts} attempts${r.reasons.length ? ` (${r.reasons.join("; ")})` : ""}`,
      );
    }
  }
  const missing = c.variants.filter((v) => v.missing.length > 0);
  if (missing.length > 0) {
    lines.push("", "## Missing", "");
    for (const v of missing) lines.push(`- ${v.variant}: ${v.missing.join(", ")}`);
  }
  return lines.join("\n") + "\n";
}
