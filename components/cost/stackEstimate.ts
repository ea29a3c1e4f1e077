/**
 * One stack's estimate as `npm run cost` reports it: the priced inventory of its run, and beside it
 * the sections that compare it with something else (today: the stack's AWS Budget). A new section
 * (e.g. $ per 1M tokens from benchmarks) is one more optional field and one more function here. Pure.
 */
import type { BudgetConfig } from "../config/budget";
import { compareWithBudget, type BudgetComparison } from "./budget";
import { estimate, type Estimate } from "./estimate";
import { inventory, type CostConfig, type ResourceRecord } from "./inventory";

/** An estimate as `npm run cost -- <stack> --json` writes it. */
export interface StackEstimate extends Estimate {
  readonly stack: string;
  /** The stack's AWS Budget beside the estimate (absent in estimates written before it existed). */
  readonly budget?: BudgetComparison;
}

/** Prices what a stack's run registered and sets it beside the stack's budget. */
export function stackEstimate(
  stack: string,
  config: CostConfig & { readonly budget: BudgetConfig },
  resources: readonly ResourceRecord[],
): StackEstimate {
  const e = estimate(inventory(config, resources));
  return { stack, ...e, budget: compareWithBudget(e.total.monthly, config.budget.monthlyLimitUsd) };
}
