/**
 * How an estimate is shown: a fixed-width table for the terminal, and the Markdown a pull request
 * comment carries (the stack's cost beside the change from the base branch). Pure.
 */
import { budgetShares, budgetWarning } from "./budget";
import type { Amount, Estimate } from "./estimate";
import type { StackEstimate } from "./stackEstimate";
import { formatBenchmarkCostMarkdown, formatBenchmarkCostText } from "./benchmarkCost";

export type { StackEstimate } from "./stackEstimate";

const money = (n: number) =>
  `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const signed = (n: number) =>
  Math.abs(n) < 0.005 ? "±$0.00" : `${n > 0 ? "+" : "−"}${money(Math.abs(n))}`;
const pct = (part: number, whole: number) =>
  whole > 0 ? `${Math.round((100 * part) / whole)} %` : "n/a";

/** The terminal report: every line at idle and at peak, what drives it, totals and SPOT saving. */
export function formatText(e: StackEstimate): string {
  const w = Math.max(...e.items.map((i) => i.label.length), 28);
  const row = (label: string, a: Amount, note = "") =>
    `${label.padEnd(w)}  ${money(a.idle).padStart(12)}  ${money(a.peak).padStart(12)}${note ? `  ${note}` : ""}`;
  const lines = [
    `Cost estimate of stack ${e.stack} (${e.region}, list prices as of ${e.pricesAsOf}; ${e.hoursPerMonth} h/month)`,
    ...borrowedLines(e),
    "",
    `${"".padEnd(w)}  ${"idle $/month".padStart(12)}  ${"peak $/month".padStart(12)}`,
    ...e.items.flatMap((i) => [
      row(i.label, i.monthly),
      `${"".padEnd(w)}    idle: ${i.basis.idle}`,
      ...(i.basis.peak !== i.basis.idle ? [`${"".padEnd(w)}    peak: ${i.basis.peak}`] : []),
    ]),
    "",
    row("Total per month", e.total.monthly),
    row("Total per hour", e.total.hourly),
    row("SPOT saving per month", e.spotSaving, `vs the same nodes On-Demand`),
    row(
      "All On-Demand per month",
      e.allOnDemandMonthly,
      `(SPOT stack = ${pct(e.total.monthly.peak, e.allOnDemandMonthly.peak)} of it at peak)`,
    ),
    ...budgetRows(e, row),
    "",
    "Idle: node groups at minSize (the models' GPU group at one node per model replica at rest, plus",
    "the nodes the variants' working-hours windows hold while open).",
    "Peak: every node group at maxSize. Traffic, stored data and log volumes are the assumptions",
    "printed on their lines (components/cost/assumptions.ts). Not counted: data transfer out, requests.",
    `Prices: ${e.priceSource}. Not verified for ${e.region}: ${e.unverifiedPrices.join("; ")}.`,
    ...(e.benchmarks ? ["", formatBenchmarkCostText(e.benchmarks)] : []),
  ];
  return lines.join("\n");
}

/** The header line of an estimate whose prices come (partly) from another region. */
function borrowedLines(e: Pick<Estimate, "region" | "borrowed">): string[] {
  if (!e.borrowed) return [];
  return e.borrowed.prices.includes("*")
    ? [
        `PRICES BORROWED: no ${e.region} price table; every price below is ${e.borrowed.from}'s (components/cost/prices.ts)`,
      ]
    : [
        `Prices borrowed from ${e.borrowed.from} (none read for ${e.region}): ${e.borrowed.prices.join(", ")}`,
      ];
}

/** The budget beside the totals, and its warning. */
function budgetRows(e: StackEstimate, row: (label: string, a: Amount, note?: string) => string) {
  if (!e.budget) return [];
  const limit = { idle: e.budget.monthlyLimitUsd, peak: e.budget.monthlyLimitUsd };
  const warning = budgetWarning(e.budget, money);
  return [
    row("Budget per month", limit, `llm-platform:budget (${budgetShares(e.budget)})`),
    ...(warning ? [warning] : []),
  ];
}

/**
 * The pull-request comment of one stack: idle and peak totals with the change from the base branch,
 * and the lines that moved. `base` is undefined when the base branch could not produce an estimate.
 */
export function formatComment(head: StackEstimate, base: StackEstimate | undefined): string {
  const delta = (now: number, was: number | undefined) =>
    was === undefined ? "new" : signed(now - was);
  const baseItems = new Map(base?.items.map((i) => [i.id, i]) ?? []);
  const header = [
    `### Cost of \`${head.stack}\` (estimate, ${head.region} list prices of ${head.pricesAsOf})`,
    "",
    "|  | Idle $/month | Δ vs base | Peak $/month | Δ vs base |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  const line = (label: string, now: Amount, was: Amount | undefined) =>
    `| ${label} | ${money(now.idle)} | ${base ? delta(now.idle, was?.idle) : "—"} | ${money(now.peak)} | ${base ? delta(now.peak, was?.peak) : "—"} |`;
  const removed = base ? base.items.filter((i) => !head.items.some((h) => h.id === i.id)) : [];
  const rows = [
    ...head.items.map((i) => line(i.label, i.monthly, baseItems.get(i.id)?.monthly)),
    ...removed.map((i) => line(`${i.label} (removed)`, { idle: 0, peak: 0 }, i.monthly)),
    line("**Total per month**", head.total.monthly, base?.total.monthly),
    line("SPOT saving per month", head.spotSaving, base?.spotSaving),
    ...(head.budget
      ? [
          `| Budget per month (${budgetShares(head.budget)}) | ${money(head.budget.monthlyLimitUsd)} | | ${money(head.budget.monthlyLimitUsd)} | |`,
        ]
      : []),
  ];
  const warning = head.budget && budgetWarning(head.budget, money);
  const footer = [
    ...(warning ? ["", `**${warning}**`] : []),
    ...borrowedLines(head).flatMap((l) => ["", l]),
    "",
    base
      ? `Δ is against the base branch. Per hour at peak: ${money(head.total.hourly.peak)}.`
      : "The base branch produced no estimate (no `npm run cost` there yet, or it failed), so there is no Δ.",
    "Idle = node groups at minSize; peak = at maxSize. Traffic, storage and log volumes are stated assumptions; see `npm run cost -- " +
      head.stack +
      "`.",
  ];
  const benchmarks = head.benchmarks ? ["", formatBenchmarkCostMarkdown(head.benchmarks)] : [];
  return [...header, ...rows, ...footer, ...benchmarks].join("\n") + "\n";
}
