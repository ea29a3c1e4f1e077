/**
 * One stack's estimate as `npm run cost` reports it: the priced inventory of its run (with a scheduled
 * benchmark's GPU time where configured), and beside it the sections that compare it with something
 * else: the stack's AWS Budget, and $ per 1M output tokens from a benchmark comparison. A new section
 * is one more optional field and one more function here. Pure.
 */
import type { BudgetConfig } from "../config/budget";
import { withBenchmarks, type BenchmarkCost } from "./benchmarkCost";
import { compareWithBudget, type BudgetComparison } from "./budget";
import { estimate, type Estimate } from "./estimate";
import { inventory, type CostConfig, type ResourceRecord } from "./inventory";

/** An estimate as `npm run cost -- <stack> --json` writes it. */
export interface StackEstimate extends Estimate {
  readonly stack: string;
  /** The stack's AWS Budget beside the estimate (absent in estimates written before it existed). */
  readonly budget?: BudgetComparison;
  /** $ per 1M output tokens per variant, when a benchmark comparison was given (`--benchmarks`). */
  readonly benchmarks?: BenchmarkCost;
}

/**
 * Prices what a stack's run registered (plus its scheduled benchmarks), sets the total beside the
 * stack's budget, and prices a benchmark run's `comparison` when one is given.
 */
export function stackEstimate(
  stack: string,
  config: CostConfig & Parameters<typeof withBenchmarks>[1] & { readonly budget: BudgetConfig },
  resources: readonly ResourceRecord[],
  comparison?: unknown,
): StackEstimate {
  const e = withBenchmarks(estimate(inventory(config, resources)), config, comparison);
  return { stack, ...e, budget: compareWithBudget(e.total.monthly, config.budget.monthlyLimitUsd) };
}
