/**
 * What a million output tokens costs on each variant, from a benchmark comparison (the
 * `comparison.json` a benchmark run writes, components/benchmarks/program/report.mts) and the price
 * table. Pure.
 *
 * Per variant and prompt shape, the operating point is the stated latency target's: among the
 * scenarios whose p95 time to first token is within the stack's SLO (`benchmarks.slo.ttftP95Ms`; a
 * note says when the run marked its scenarios against another, the comparison's `slo`) with
 * no failed request, the one with the highest measured output throughput (the highest load the SLO
 * allows, whether loads were swept by rate or by concurrency). There, the variant's replicas cost
 * their instance type's hourly price, SPOT and On-Demand:
 *
 *   $ per 1M output tokens = replicas × $/hour ÷ (output tokens/s × 3600) × 1,000,000
 *
 * and an optimisation's saving is 1 − its cost ÷ the baseline's (same shape, same capacity type),
 * for the variants of the baseline's family (the judge is another model: no saving is claimed).
 */
import { z } from "zod";
import type { PlatformConfig } from "../config/platformConfig";
import { modelDesign, registry } from "../platform/registry";
import { scheduledBenchmarkItem, variantInstanceType, withLineItem } from "./benchmarkSchedule";
import { onDemandHourly, priceTableFor, spotHourly, type Estimate } from "./estimate";
import type { PriceTable } from "./prices";

/** The part of `comparison.json` (format llm-platform/benchmark-comparison@1) the cost reads. */
const comparisonSchema = z.object({
  format: z.literal("llm-platform/benchmark-comparison@1"),
  runId: z.string(),
  /** The SLO the run marked its scenarios against (✓ in comparison.md): the stack's at run time. */
  slo: z.object({ ttftP95Ms: z.number() }),
  variants: z.array(
    z.object({
      variant: z.string(),
      replicas: z.number().int().min(1),
      nodes: z.array(
        z.object({ instanceType: z.string(), capacityType: z.string(), count: z.number() }),
      ),
      scenarios: z.array(
        z.object({
          name: z.string(),
          shape: z.string(),
          inputLen: z.number(),
          outputLen: z.number(),
          failed: z.number(),
          outputTokensPerSecond: z.number(),
          ttftMs: z.object({ p95: z.number() }),
        }),
      ),
    }),
  ),
});

export type BenchmarkComparison = z.output<typeof comparisonSchema>;

/** Reads a comparison; a file of another format is an error saying what it expected. */
export function parseComparison(json: unknown): BenchmarkComparison {
  const r = comparisonSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(
      `not a benchmark comparison (benchmarks/_comparisons/<run id>/comparison.json): ${i.path.join(".")}: ${i.message}`,
    );
  }
  return r.data;
}

/** USD per million output tokens at one operating point. */
export interface TokenPrice {
  readonly spot: number;
  readonly onDemand: number;
}

/** One variant at one prompt shape. */
export interface VariantTokenCost {
  readonly variant: string;
  readonly shape: string;
  readonly inputLen: number;
  readonly outputLen: number;
  readonly replicas: number;
  readonly instanceType: string;
  /** `measured`: the node that served the run; otherwise the variant's GPU group's dearest type. */
  readonly instanceTypeFrom: "measured" | "node group";
  /** The scenario of the operating point, or null when none meets the SLO. */
  readonly scenario: string | null;
  readonly outputTokensPerSecond: number | null;
  readonly ttftP95Ms: number | null;
  readonly usdPerMillionTokens: TokenPrice | null;
  /** 1 − cost ÷ baseline cost (0.25 = a quarter cheaper); null for the baseline, another family, or no point. */
  readonly savingVsBaseline: TokenPrice | null;
}

export interface BenchmarkCost {
  readonly runId: string;
  /** The SLO the operating points are chosen at: the stack's (`benchmarks.slo`). */
  readonly sloTtftP95Ms: number;
  /** The SLO the run itself marked its scenarios against (the comparison's), when it differs. */
  readonly runSloTtftP95Ms: number;
  readonly region: string;
  readonly pricesAsOf: string;
  readonly rows: readonly VariantTokenCost[];
}

/** What the arithmetic needs from the stack beyond the comparison. */
export interface BenchmarkCostContext {
  readonly sloTtftP95Ms: number;
  readonly prices: PriceTable;
  /** The instance type priced when the comparison did not record one (the variant's GPU group's). */
  readonly fallbackInstanceType: (variant: string) => string;
  /** Variants compared against the baseline: those of the baseline's family. */
  readonly baselineFamily: readonly string[];
}

/** $ per 1M output tokens at `tokensPerSecond` for `replicas` nodes at `hourly` each. */
export function usdPerMillion(hourly: number, replicas: number, tokensPerSecond: number): number {
  return ((replicas * hourly) / (tokensPerSecond * 3600)) * 1e6;
}

/** Per variant and shape: the operating point at the SLO and its price. */
export function benchmarkCost(c: BenchmarkComparison, ctx: BenchmarkCostContext): BenchmarkCost {
  const rows: VariantTokenCost[] = [];
  for (const v of c.variants) {
    const measured = v.nodes.reduce<(typeof v.nodes)[number] | undefined>(
      (best, n) => (!best || n.count > best.count ? n : best),
      undefined,
    );
    const instanceType = measured?.instanceType ?? ctx.fallbackInstanceType(v.variant);
    const hourly = {
      spot: spotHourly(ctx.prices, instanceType),
      onDemand: onDemandHourly(ctx.prices, instanceType),
    };
    for (const shape of [...new Set(v.scenarios.map((s) => s.shape))]) {
      const ofShape = v.scenarios.filter((s) => s.shape === shape);
      const point = ofShape
        .filter((s) => s.failed === 0 && s.ttftMs.p95 <= ctx.sloTtftP95Ms)
        .reduce<(typeof ofShape)[number] | undefined>(
          (best, s) => (!best || s.outputTokensPerSecond > best.outputTokensPerSecond ? s : best),
          undefined,
        );
      const price = point
        ? {
            spot: usdPerMillion(hourly.spot, v.replicas, point.outputTokensPerSecond),
            onDemand: usdPerMillion(hourly.onDemand, v.replicas, point.outputTokensPerSecond),
          }
        : null;
      rows.push({
        variant: v.variant,
        shape,
        inputLen: ofShape[0]!.inputLen,
        outputLen: ofShape[0]!.outputLen,
        replicas: v.replicas,
        instanceType,
        instanceTypeFrom: measured ? "measured" : "node group",
        scenario: point?.name ?? null,
        outputTokensPerSecond: point?.outputTokensPerSecond ?? null,
        ttftP95Ms: point?.ttftMs.p95 ?? null,
        usdPerMillionTokens: price,
        savingVsBaseline: null,
      });
    }
  }
  return {
    runId: c.runId,
    sloTtftP95Ms: ctx.sloTtftP95Ms,
    runSloTtftP95Ms: c.slo.ttftP95Ms,
    region: ctx.prices.region,
    pricesAsOf: ctx.prices.asOf,
    rows: rows.map((r) => ({ ...r, savingVsBaseline: saving(r, rows, ctx.baselineFamily) })),
  };
}

function saving(
  r: VariantTokenCost,
  rows: readonly VariantTokenCost[],
  family: readonly string[],
): TokenPrice | null {
  const base = rows.find((b) => b.variant === "baseline" && b.shape === r.shape);
  if (r.variant === "baseline" || !family.includes(r.variant)) return null;
  if (!base?.usdPerMillionTokens || !r.usdPerMillionTokens) return null;
  return {
    spot: 1 - r.usdPerMillionTokens.spot / base.usdPerMillionTokens.spot,
    onDemand: 1 - r.usdPerMillionTokens.onDemand / base.usdPerMillionTokens.onDemand,
  };
}

/** The token costs of a comparison file for a stack: its SLO, its region's prices, its GPU groups. */
export function stackBenchmarkCost(
  json: unknown,
  config: Pick<PlatformConfig, "region" | "benchmarks" | "models" | "nodeGroups">,
): BenchmarkCost {
  const prices = priceTableFor(config.region);
  const family = registry.models.baseline!.family;
  return benchmarkCost(parseComparison(json), {
    sloTtftP95Ms: config.benchmarks.slo.ttftP95Ms,
    prices,
    fallbackInstanceType: (v) =>
      variantInstanceType(prices, config.models, config.nodeGroups.gpu, v),
    baselineFamily: Object.keys(modelDesign).filter((v) => registry.models[v]!.family === family),
  });
}

/**
 * A stack's estimate with its benchmark parts: the line of its scheduled runs' GPU time (when it
 * schedules any), and $ per 1M output tokens from a comparison (when one is given).
 */
export function withBenchmarks<E extends Estimate>(
  e: E,
  config: Pick<PlatformConfig, "region" | "benchmarks" | "models" | "nodeGroups">,
  comparison?: unknown,
): E & { benchmarks?: BenchmarkCost } {
  const schedule = scheduledBenchmarkItem(
    { ...config, gpuGroups: config.nodeGroups.gpu },
    priceTableFor(config.region),
  );
  return {
    ...e,
    ...withLineItem(e, schedule),
    ...(comparison === undefined ? {} : { benchmarks: stackBenchmarkCost(comparison, config) }),
  };
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const pct = (x: number) =>
  x >= 0 ? `${Math.round(x * 100)} % cheaper` : `${Math.round(-x * 100)} % dearer`;
const savings = (s: TokenPrice) => `SPOT ${pct(s.spot)}, On-Demand ${pct(s.onDemand)}`;
const point = (r: VariantTokenCost) =>
  r.scenario === null
    ? "no scenario meets the SLO"
    : `${r.scenario}: ${r.outputTokensPerSecond!.toFixed(1)} tok/s, p95 TTFT ${Math.round(r.ttftP95Ms!)} ms`;
const instance = (r: VariantTokenCost) =>
  `${r.replicas} × ${r.instanceType}${r.instanceTypeFrom === "measured" ? "" : " (not measured: its GPU group's)"}`;

/**
 * What to say when the run marked its scenarios against another SLO than the stack's (the config
 * changed since, or the file comes from another stack): its ✓ marks and these operating points differ.
 */
function sloNote(b: BenchmarkCost): string | undefined {
  if (b.runSloTtftP95Ms === b.sloTtftP95Ms) return undefined;
  return (
    `Note: the run marked its scenarios against p95 TTFT ≤ ${b.runSloTtftP95Ms} ms (the ✓ in its ` +
    `comparison.md); priced here at the stack's SLO, ${b.sloTtftP95Ms} ms, so operating points ` +
    `may differ from those marks.`
  );
}

/** The section of `npm run cost -- <stack> --benchmarks <file>`. */
export function formatBenchmarkCostText(b: BenchmarkCost): string {
  const note = sloNote(b);
  const lines = [
    `$ per 1M output tokens (benchmark ${b.runId}; at the SLO p95 TTFT ≤ ${b.sloTtftP95Ms} ms with no failed request; ${b.region} prices of ${b.pricesAsOf})`,
    ...(note ? [`  ${note}`] : []),
  ];
  for (const r of b.rows) {
    const price = r.usdPerMillionTokens;
    lines.push(
      `  ${r.shape} (${r.inputLen} → ${r.outputLen} tokens) ${r.variant.padEnd(10)} ` +
        (price ? `SPOT ${usd(price.spot)}, On-Demand ${usd(price.onDemand)}` : "n/a") +
        (r.savingVsBaseline ? ` vs baseline: ${savings(r.savingVsBaseline)}` : ""),
      `      ${point(r)}; ${instance(r)}`,
    );
  }
  return lines.join("\n");
}

/** The same as a Markdown table, for the pull request's cost comment. */
export function formatBenchmarkCostMarkdown(b: BenchmarkCost): string {
  const note = sloNote(b);
  return [
    `#### $ per 1M output tokens (benchmark \`${b.runId}\`, SLO p95 TTFT ≤ ${b.sloTtftP95Ms} ms)`,
    "",
    ...(note ? [note, ""] : []),
    "| Shape | Variant | Operating point | Nodes | SPOT $/1M | On-Demand $/1M | vs baseline |",
    "| --- | --- | --- | --- | ---: | ---: | --- |",
    ...b.rows.map(
      (r) =>
        `| ${r.shape} | ${r.variant} | ${point(r)} | ${instance(r)} | ` +
        `${r.usdPerMillionTokens ? usd(r.usdPerMillionTokens.spot) : "n/a"} | ` +
        `${r.usdPerMillionTokens ? usd(r.usdPerMillionTokens.onDemand) : "n/a"} | ` +
        `${r.savingVsBaseline ? savings(r.savingVsBaseline) : "—"} |`,
    ),
  ].join("\n");
}
