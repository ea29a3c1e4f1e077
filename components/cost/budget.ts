/**
 * The estimate beside the stack's AWS Budget (`llm-platform:budget.monthlyLimitUsd`): what share of
 * the budget idle and peak take, and a warning when peak exceeds it (the budget's alerts would fire
 * at peak). Pure; the text and comment formats call it (components/cost/report.ts).
 */
import type { Amount } from "./estimate";

export interface BudgetComparison {
  /** The budget's monthly limit, USD. */
  readonly monthlyLimitUsd: number;
  /** Estimate as a share of the limit (1 = the whole budget). */
  readonly share: Amount;
  /** USD a month by which the estimate exceeds the budget (0 when it fits). */
  readonly over: Amount;
}

/** How a monthly estimate (idle, peak) compares with a monthly budget. */
export function compareWithBudget(monthly: Amount, monthlyLimitUsd: number): BudgetComparison {
  return {
    monthlyLimitUsd,
    share: { idle: monthly.idle / monthlyLimitUsd, peak: monthly.peak / monthlyLimitUsd },
    over: {
      idle: Math.max(0, monthly.idle - monthlyLimitUsd),
      peak: Math.max(0, monthly.peak - monthlyLimitUsd),
    },
  };
}

const percent = (x: number) => `${Math.round(x * 100)} %`;

/** The warning a comparison carries, or undefined when idle and peak fit the budget. */
export function budgetWarning(
  b: BudgetComparison,
  money: (n: number) => string,
): string | undefined {
  if (b.over.idle > 0) {
    return `WARNING: even idle exceeds the budget by ${money(b.over.idle)} a month: raise llm-platform:budget.monthlyLimitUsd or shrink the stack`;
  }
  if (b.over.peak > 0) {
    return (
      `WARNING: peak exceeds the budget by ${money(b.over.peak)} a month (${percent(b.share.peak)} of it): ` +
      "at maxSize the budget's alerts fire; raise llm-platform:budget.monthlyLimitUsd or lower the node groups' maxSize"
    );
  }
  return undefined;
}

/** `idle 49 %, peak 218 % of the budget`. */
export function budgetShares(b: BudgetComparison): string {
  return `idle ${percent(b.share.idle)}, peak ${percent(b.share.peak)} of the budget`;
}
