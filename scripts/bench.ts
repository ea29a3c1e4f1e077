/**
 * `npm run bench`: the speed budget. Per stack, the resource count and the whole-program run time under
 * the offline runtime (median of 5 runs after a warm-up); then `npm test` as a whole (transpile, then
 * mocha beside the strict type-check and the type-aware lint: verify/test.mjs). Targets on a 2-core machine: program run
 * <= 2 s per stack, `npm test` <= 30 s warm.
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { runProgram, stacks } from "../verify/program";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(label: string, cmd: string, args: string[]): number {
  const t = performance.now();
  execFileSync(cmd, args, { stdio: "ignore" });
  const s = (performance.now() - t) / 1000;
  console.log(`${label.padEnd(28)} ${s.toFixed(1)} s`);
  return s;
}

async function main(): Promise<void> {
  console.log("stack   resources   program run (median of 5)");
  for (const stack of stacks) {
    await runProgram(stack); // warm-up: module loading
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const run = await runProgram(stack);
      times.push(performance.now() - t);
      count = run.resources.length;
    }
    const ms = median(times);
    console.log(
      `${stack.padEnd(8)}${String(count).padEnd(12)}${(ms / 1000).toFixed(2)} s ${ms <= 2000 ? "(within 2 s)" : "(OVER the 2 s budget)"}`,
    );
  }
  // npm test rewrites bin/ with the same files this script was loaded from; nothing is loaded after.
  const total = timed("npm test", process.execPath, ["verify/test.mjs"]);
  console.log(`${"".padEnd(28)} ${total <= 30 ? "(within 30 s)" : "(OVER the 30 s budget)"}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
