/**
 * `npm run cost -- <stack> [--json] [--benchmarks <comparison.json>]`: what a stack costs a month and
 * an hour, at idle and at peak, line by line, from its real stack file and the resources the program
 * registers (run offline under the test mocks, as `npm run render` does; no AWS calls). `--json`
 * prints the estimate for machines (the pull-request workflow diffs it against the base branch with
 * scripts/costComment.ts). `--benchmarks` adds $ per 1M output tokens per variant from a benchmark
 * run's comparison (components/cost/benchmarkCost.ts).
 */
import * as fs from "node:fs";
import { parseConfig, type PlatformConfig } from "../components/config/platformConfig";
import { formatText } from "../components/cost/report";
import { stackEstimate, type StackEstimate } from "../components/cost/stackEstimate";
import { coldStartText } from "../components/cost/coldStartReport";
import { readStackConfig, runProgram } from "../verify/program";

/**
 * Runs the program for a stack and prices what it registers, beside the stack's budget (and a
 * benchmark comparison, if given).
 */
async function estimateStack(
  stack: string,
  config: PlatformConfig,
  benchmarks?: string,
): Promise<StackEstimate> {
  const run = await runProgram(stack);
  if (run.error) throw run.error;
  const comparison: unknown = benchmarks
    ? JSON.parse(fs.readFileSync(benchmarks, "utf8"))
    : undefined;
  return stackEstimate(stack, config, run.resources, comparison);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const at = args.indexOf("--benchmarks");
  const benchmarks = at >= 0 ? args[at + 1] : undefined;
  const [stack] = args.filter((a, i) => a !== "--json" && (at < 0 || (i !== at && i !== at + 1)));
  if (!stack || !fs.existsSync(`Pulumi.${stack}.yaml`) || (at >= 0 && !benchmarks)) {
    console.error(
      "usage: npm run cost -- <stack> [--json] [--benchmarks <comparison.json>]   (stack: a Pulumi.<stack>.yaml in this directory)",
    );
    process.exit(2);
  }
  const config = parseConfig(readStackConfig(stack).raw, stack);
  const e = await estimateStack(stack, config, benchmarks);
  console.log(json ? JSON.stringify(e, null, 2) : formatText(e));
  // Beside the cost: how long each variant takes to serve, and what a cold start costs (text only).
  if (!json) console.log(`\n${coldStartText(config)}`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
