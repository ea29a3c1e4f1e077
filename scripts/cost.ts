/**
 * `npm run cost -- <stack> [--json]`: what a stack costs a month and an hour, at idle and at peak,
 * line by line, from its real stack file and the resources the program registers (run offline under
 * the test mocks, as `npm run render` does; no AWS calls). `--json` prints the estimate for machines
 * (the pull-request workflow diffs it against the base branch with scripts/costComment.ts).
 */
import * as fs from "node:fs";
import { parseConfig } from "../components/config/platformConfig";
import { estimate } from "../components/cost/estimate";
import { inventory } from "../components/cost/inventory";
import { formatText, type StackEstimate } from "../components/cost/report";
import { coldStartText } from "../components/cost/coldStartReport";
import { readStackConfig, runProgram } from "../verify/program";

/** Runs the program for a stack and prices what it registers. */
async function estimateStack(stack: string): Promise<StackEstimate> {
  const config = parseConfig(readStackConfig(stack).raw, stack);
  const run = await runProgram(stack);
  if (run.error) throw run.error;
  return { stack, ...estimate(inventory(config, run.resources)) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const [stack] = args.filter((a) => a !== "--json");
  if (!stack || !fs.existsSync(`Pulumi.${stack}.yaml`)) {
    console.error(
      "usage: npm run cost -- <stack> [--json]   (stack: a Pulumi.<stack>.yaml in this directory)",
    );
    process.exit(2);
  }
  const e = await estimateStack(stack);
  console.log(json ? JSON.stringify(e, null, 2) : formatText(e));
  // Beside the cost: how long each variant takes to serve, and what a cold start costs (text only).
  if (!json) console.log(`\n${coldStartText(parseConfig(readStackConfig(stack).raw, stack))}`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
