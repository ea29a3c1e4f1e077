/**
 * The cold-start budget beside what it costs: per variant, its GPU group, the SPOT price of the node a
 * replica holds, its predicted starts and what one cold start costs in GPU time, then every assumption
 * with its source and date. `npm run cost` prints it under the estimate. Pure.
 */
import { coldStartAssumptions, type ColdStartAssumptions } from "../platform/coldStart";
import { variantColdStarts, type VariantColdStart } from "../config/coldStart";
import type { PlatformConfig } from "../config/platformConfig";
import { priceTableFor, spotHourly } from "./estimate";
import type { PriceTable } from "./prices";

/** One variant's start and its price. */
export interface VariantStartCost extends VariantColdStart {
  /** The type it is priced at: the group's dearest (SPOT picks by price and capacity). */
  readonly instanceType: string;
  /** SPOT USD per hour of that node. */
  readonly hourly: number;
  /** GPU time a cold start (scale-up, nothing cached) pays before serving, USD. */
  readonly coldStartUsd: number;
  /** The variant's startup probe budget (config `startupTimeoutSeconds`). */
  readonly startupTimeoutSeconds: number;
}

/** Prices each variant's start with the stack's price table. */
export function coldStartCosts(
  starts: readonly VariantColdStart[],
  timeouts: Readonly<Record<string, number>>,
  t: PriceTable,
): VariantStartCost[] {
  return starts.map((s) => {
    const [instanceType, hourly] = s.group.instanceTypes
      .map((type) => [type, spotHourly(t, type)] as const)
      .reduce((a, b) => (b[1] > a[1] ? b : a));
    return {
      ...s,
      instanceType,
      hourly,
      coldStartUsd: (s.budget.scaleUp.first / 3600) * hourly,
      startupTimeoutSeconds: timeouts[s.variant] ?? 0,
    };
  });
}

const money = (n: number) => `$${n.toFixed(n < 1 ? 3 : 2)}`;
const span = (s: { first: number; restart: number }) => `${s.first} / ${s.restart}`;

/** The terminal report: a table per variant, each variant's phases, then the assumptions. */
export function formatColdStarts(
  rows: readonly VariantStartCost[],
  a: ColdStartAssumptions = coldStartAssumptions,
): string {
  const head = [
    "variant",
    "group",
    "node (SPOT $/h)",
    "pod start s",
    "scale-up s",
    "probe s",
    "a cold start",
  ];
  const cells = rows.map((r) => [
    r.variant,
    r.group.name,
    `${r.instanceType} ${money(r.hourly)}`,
    span(r.budget.podStart),
    span(r.budget.scaleUp),
    String(r.startupTimeoutSeconds),
    money(r.coldStartUsd),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [
    "Cold start per variant (components/platform/coldStart.ts): seconds on a first start (nothing",
    "cached) / a restart (warm caches). Pod start = scheduled -> Ready (the recording rule",
    "llmplatform:model_pod_start_seconds measures it); scale-up adds a new GPU node. A cold start's",
    "price is the GPU time of one scale-up before the replica serves.",
    "",
    line(head),
    ...cells.map(line),
    "",
    ...rows.flatMap((r) => [
      `${r.variant}:`,
      ...r.budget.phases.map(
        (p) => `  ${p.name.padEnd(11)} ${span(p.seconds).padStart(9)} s  ${p.basis}`,
      ),
    ]),
    "",
    "Assumptions (none measured on this platform yet; replace them with measured phases):",
    ...Object.entries(a).map(
      ([name, x]) => `  ${name} = ${x.value} ${x.unit} (read ${x.asOf}): ${x.source}`,
    ),
  ].join("\n");
}

/** The report of a validated stack config, priced in its region. */
export function coldStartText(c: Pick<PlatformConfig, "region" | "models" | "nodeGroups">): string {
  const timeouts = Object.fromEntries(
    Object.entries(c.models.variants).map(([v, x]) => [v, x.startupTimeoutSeconds]),
  );
  return formatColdStarts(
    coldStartCosts(
      variantColdStarts(c.models, c.nodeGroups.gpu),
      timeouts,
      priceTableFor(c.region),
    ),
  );
}
