/**
 * The GPU time a scheduled benchmark (`benchmarks.schedule`) adds to the month, as a line of the
 * estimate. Pure.
 *
 * Each run holds every default variant at `benchmarks.replicas`. Replicas above the variant's minimum
 * are extra SPOT nodes for: a cold start (scale-up from the minimum: the variant's predicted scale-up
 * with nothing cached, config/coldStart.ts, as `npm run cost` prints it), every scenario of the matrix
 * (estimated from its prompts, rate or concurrency and assumed latencies), and the autoscaler's
 * cool-down after the release (`idleMinutes`, before a min-0 variant returns to zero). A variant whose
 * minimum already covers the held replicas adds nothing: its nodes are in the GPU line at idle.
 */
import {
  benchmarkScenarios,
  cronMatches,
  parseCron,
  type BenchmarkScenario,
  type BenchmarksConfig,
} from "../config/benchmarks";
import { variantColdStarts } from "../config/coldStart";
import { variantConfig, variantNodeGroup, type ModelsConfig } from "../config/models";
import type { GpuNodeGroupConfig } from "../config/platformConfig";
import { onDemandHourly, spotHourly, type Estimate, type LineItem } from "./estimate";
import type { PriceTable } from "./prices";

/**
 * Stated guesses for a run's length (replace with a real run's `durationSeconds` to refine). The cold
 * start is not one of them: each variant's is its predicted scale-up (platform/coldStart.ts).
 */
export const benchmarkRunAssumptions = {
  /** Inter-token latency, ms, for estimating how long a scenario's requests take. */
  itlMs: 30,
  /** Time to first token, ms, likewise. */
  ttftMs: 500,
};

/** Runs a five-field cron makes in a year (2026, by UTC fields; a time zone shifts, not adds, runs). */
export function runsPerYear(cron: string): number {
  const c = parseCron(cron);
  if (!c) throw new Error(`not a cron schedule: ${cron}`);
  let runs = 0;
  for (let day = new Date(Date.UTC(2026, 0, 1)); day.getUTCFullYear() === 2026;) {
    const first = [...c.minute][0]!;
    const at = new Date(Date.UTC(2026, day.getUTCMonth(), day.getUTCDate(), [...c.hour][0], first));
    if (cronMatches(c, at)) runs += c.hour.size * c.minute.size;
    day = new Date(day.getTime() + 24 * 3600 * 1000);
  }
  return runs;
}

/**
 * Minutes a scenario takes: its arrivals at the request rate, or its prompts in waves of the
 * concurrency limit (whichever is longer), plus one request's latency to finish.
 */
export function scenarioMinutes(
  s: BenchmarkScenario,
  a: typeof benchmarkRunAssumptions = benchmarkRunAssumptions,
): number {
  const request = (a.ttftMs + s.outputLen * a.itlMs) / 1000;
  const arrivals = s.requestRate !== null ? s.numPrompts / s.requestRate : 0;
  const waves =
    s.maxConcurrency !== null ? Math.ceil(s.numPrompts / s.maxConcurrency) * request : 0;
  return (Math.max(arrivals, waves) + request) / 60;
}

/** The dearest instance type (SPOT) of the GPU group a variant runs on, as the estimate prices groups. */
export function variantInstanceType(
  t: PriceTable,
  m: ModelsConfig,
  groups: readonly GpuNodeGroupConfig[],
  variant: string,
): string {
  const g = groups.find((x) => x.name === variantNodeGroup(m, variant));
  if (!g) throw new Error(`variant ${variant}: no GPU group ${variantNodeGroup(m, variant)}`);
  return g.instanceTypes.reduce((a, b) => (spotHourly(t, b) > spotHourly(t, a) ? b : a));
}

/** The scheduled benchmark's line, or undefined when the stack schedules none. */
export function scheduledBenchmarkItem(
  c: {
    benchmarks: BenchmarksConfig;
    models: ModelsConfig;
    gpuGroups: readonly GpuNodeGroupConfig[];
  },
  t: PriceTable,
  a: typeof benchmarkRunAssumptions = benchmarkRunAssumptions,
): LineItem | undefined {
  const b = c.benchmarks;
  if (!b.schedule) return undefined;
  const runs = runsPerYear(b.schedule.cron) / 12;
  const matrixMinutes = benchmarkScenarios(b).reduce((n, s) => n + scenarioMinutes(s, a), 0);
  const starts = variantColdStarts(c.models, c.gpuGroups);
  const held = b.variants.flatMap((v) => {
    const auto = variantConfig(c.models, v).autoscaling;
    const extra = auto ? Math.max(0, b.replicas - auto.minReplicas) : 0;
    if (extra === 0) return [];
    const type = variantInstanceType(t, c.models, c.gpuGroups, v);
    const start = starts.find((x) => x.variant === v);
    if (!start) throw new Error(`variant ${v}: no cold-start budget on its GPU group`);
    const coldStartMinutes = start.budget.scaleUp.first / 60;
    const hours = (coldStartMinutes + matrixMinutes + auto!.idleMinutes) / 60;
    const spot = spotHourly(t, type);
    return [{ v, extra, type, hours, coldStartMinutes, spot, od: onDemandHourly(t, type) }];
  });
  const monthly = (price: "spot" | "od") =>
    held.reduce((n, h) => n + runs * h.extra * h.hours * h[price], 0);
  const basis =
    held.length === 0
      ? `${runs.toFixed(2)} runs/month (${b.schedule.cron}); no extra GPU: every benchmarked variant's minReplicas covers the ${b.replicas} a run holds`
      : `${runs.toFixed(2)} runs/month (${b.schedule.cron}) × ` +
        held
          .map(
            (h) =>
              `${h.v} ${h.extra} × ${h.type} SPOT $${h.spot.toFixed(4)}/h × ${h.hours.toFixed(2)} h ` +
              `(cold start ${h.coldStartMinutes.toFixed(1)} min predicted + scenarios ${matrixMinutes.toFixed(1)} min assumed + cool-down)`,
          )
          .join(" + ");
  return {
    id: "benchmark-schedule",
    label: "Scheduled benchmarks (GPU)",
    monthly: { idle: monthly("spot"), peak: monthly("spot") },
    basis: { idle: basis, peak: basis },
    onDemandEquivalent: { idle: monthly("od"), peak: monthly("od") },
  };
}

/** An estimate with one more line, its totals and SPOT saving recomputed. */
export function withLineItem(e: Estimate, item: LineItem | undefined): Estimate {
  if (!item) return e;
  const add = (x: { idle: number; peak: number }, y: { idle: number; peak: number }) => ({
    idle: x.idle + y.idle,
    peak: x.peak + y.peak,
  });
  const monthly = add(e.total.monthly, item.monthly);
  const saving = item.onDemandEquivalent
    ? {
        idle: item.onDemandEquivalent.idle - item.monthly.idle,
        peak: item.onDemandEquivalent.peak - item.monthly.peak,
      }
    : { idle: 0, peak: 0 };
  const spotSaving = add(e.spotSaving, saving);
  return {
    ...e,
    items: [...e.items, item],
    total: {
      monthly,
      hourly: { idle: monthly.idle / e.hoursPerMonth, peak: monthly.peak / e.hoursPerMonth },
    },
    spotSaving,
    allOnDemandMonthly: add(monthly, spotSaving),
  };
}
