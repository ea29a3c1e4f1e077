/**
 * A small benchmark run whose comparison is tests/cost/fixtures/benchmark-comparison.json: the dev
 * stack's matrix over every variant, figures chosen so the cost can be worked out by hand
 * (tests/cost/benchmarkCost.test.ts). The records are written as earlier workflows of the run left
 * them; the comparison is the report step's, run as the template runs it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { programSources } from "../../components/benchmarks/benchmarks";
import { benchmarkSettings } from "../../components/benchmarks/settings";
import { benchmarkWorkflowSpec } from "../../components/benchmarks/workflowTemplate";
import type { ScenarioRecord, ServingNode } from "../../components/benchmarks/program/results.mts";
import { repoRoot, stackConfig } from "../../verify/program";
import { ArgoSimulator } from "./argoSimulator";

export const fixtureFile = path.join(
  repoRoot,
  "tests",
  "cost",
  "fixtures",
  "benchmark-comparison.json",
);

/** Per variant: output tok/s, p95 TTFT ms and failed requests of chat-rate1, chat-rate4, chat-c16. */
const measured: Record<string, { nodes: ServingNode[]; figures: [number, number, number][] }> = {
  baseline: {
    nodes: [{ instanceType: "g5.xlarge", capacityType: "SPOT", count: 1 }],
    figures: [
      [100, 500, 0],
      [360, 900, 0],
      [720, 2600, 0],
    ],
  },
  awq: {
    nodes: [{ instanceType: "g6.xlarge", capacityType: "SPOT", count: 1 }],
    figures: [
      [100, 300, 0],
      [400, 600, 0],
      [900, 1500, 0],
    ],
  },
  lora: {
    nodes: [{ instanceType: "g5.xlarge", capacityType: "SPOT", count: 1 }],
    figures: [
      [90, 2100, 0],
      [300, 2500, 0],
      [700, 3000, 0],
    ],
  },
  // No node recorded (kube-state-metrics did not answer): the cost prices its GPU group's type.
  judge: {
    nodes: [],
    figures: [
      [100, 400, 0],
      [380, 2100, 0],
      [750, 1200, 3],
    ],
  },
};

/** Runs the report step over hand-made records; returns the comparison it uploaded. */
export async function fixtureComparison(): Promise<any> {
  const config = stackConfig("dev");
  const settings = benchmarkSettings(config.benchmarks, config.models);
  const sim = new ArgoSimulator(
    benchmarkWorkflowSpec(config.benchmarks, settings),
    { ...programSources(), "settings.json": JSON.stringify(settings) },
    { name: "benchmark-fixture", parameters: { variants: "", "run-id": "fixture" } },
  );
  for (const [variant, m] of Object.entries(measured)) {
    settings.scenarios.forEach((scenario, i) => {
      const [tps, p95, failed] = m.figures[i]!;
      const lat = (x: number) => ({ mean: x * 0.7, p50: x * 0.6, p95: x, p99: x * 1.5 });
      const record: ScenarioRecord = {
        format: "llm-platform/benchmark-scenario@1",
        variant,
        runId: "fixture",
        workflow: "benchmark-earlier",
        scenario,
        attempts: 1,
        window: { start: "2026-12-06T10:14:00.000Z", end: "2026-12-06T10:15:00.000Z", seconds: 60 },
        replicas: 1,
        results: {
          completed: scenario.numPrompts - failed,
          failed,
          durationSeconds: 60,
          requestsPerSecond: (scenario.numPrompts - failed) / 60,
          outputTokensPerSecond: tps,
          totalInputTokens: (scenario.numPrompts - failed) * scenario.inputLen,
          totalOutputTokens: tps * 60,
          ttftMs: lat(p95),
          tpotMs: lat(25),
          itlMs: lat(24),
          e2eMs: lat(p95 + 3200),
        },
        gpu: { utilizationPercent: 80, memoryUsedMiB: 21000 },
        nodes: m.nodes,
        notes: [],
      };
      const file = path.join(sim.bucket, "benchmarks", variant, "fixture", `${scenario.name}.json`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(record));
    });
  }
  const r = await sim.run("report", { "run-id": "fixture" });
  if (r.status !== 0) throw new Error(`report failed: ${r.stderr}`);
  return sim.readJson("benchmarks/_comparisons/fixture/comparison.json");
}
