/**
 * The Benchmarks dashboard's queries, evaluated by promtool over the record step's gauges as Argo
 * exports them (`argo_workflows_benchmark_*{variant,scenario,run_id}` plus the scrape's own labels):
 * per variant, the scenarios of its latest run only, even when that run is partial and an older,
 * complete run's series are still exported or stored.
 */
import * as assert from "node:assert/strict";
import { metricPrefix, recordedMetrics } from "../../components/benchmarks/workflowSteps";
import { dashboards } from "../../components/observability/observability";
import { findPromtool, grafanaToPromql, testRules, type RuleTest } from "../../verify/promtool";

interface Panel {
  id: number;
  title: string;
  targets: { refId: string; expr: string }[];
}

const panels = (JSON.parse(dashboards.benchmarks!) as { panels: Panel[] }).panels;
const panel = (id: number) => panels.find((p) => p.id === id)!;
const gauge = (name: string) => `argo_workflows_${metricPrefix}${name}`;
/** The gauge a dashboard query reads (the one that is not the run-selecting timestamp). */
const readGauge = (expr: string) =>
  [...expr.matchAll(/argo_workflows_benchmark_(\w+)\{/g)]
    .map((m) => m[1]!)
    .find((n) => n !== "completed_timestamp_seconds")!;

/**
 * One recorded scenario: when it was recorded and until when the controller exported it (minutes;
 * after that only Prometheus has it: the controller's metricsTTL or a restart dropped it), its figures.
 */
interface Recorded {
  variant: string;
  run: string;
  scenario: string;
  pod: string;
  from: number;
  to: number;
  completedAt: number;
  value: number;
  gpu: boolean;
}

const scenarios = ["chat-rate1", "chat-rate4", "chat-c16"];
/** Run r1 of a variant by controller-a: every scenario, exported from `from` on until minute 250. */
const completeRun = (variant: string, from: number, completedAt: number, value: number) =>
  scenarios.map((scenario, i) => ({
    variant,
    run: "r1",
    scenario,
    pod: "controller-a",
    from: from + 10 * i,
    to: 250,
    completedAt: completedAt + 100 * i,
    value: value + i,
    gpu: true,
  }));
const recorded: Recorded[] = [
  ...completeRun("baseline", 10, 1_000, 100),
  // baseline, run r2, later and partial: only chat-rate1 (lower figures, no GPU measured), recorded at
  // minute 200 by a restarted controller.
  {
    variant: "baseline",
    run: "r2",
    scenario: "chat-rate1",
    pod: "controller-b",
    from: 200,
    to: 400,
    completedAt: 13_000,
    value: 50,
    gpu: false,
  },
  // awq, run r1 only (the same run covered both variants).
  ...completeRun("awq", 40, 2_000, 300),
];

/** A gauge's value for a recorded scenario: its completion time, or a figure distinct per gauge. */
const valueOf = (r: Recorded, name: string, i: number) =>
  name === "completed_timestamp_seconds" ? r.completedAt : r.value * 1000 + i;

const inputSeries = recorded.flatMap((r) =>
  recordedMetrics
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => r.gpu || !m.gpu)
    .map(({ m, i }) => ({
      series: `${gauge(m.name)}{namespace="argo",pod="${r.pod}",variant="${r.variant}",scenario="${r.scenario}",run_id="${r.run}"}`,
      values: `_x${r.from} ${valueOf(r, m.name, i)}x${r.to - r.from}`,
    })),
);

/** What a query should return at the latest run per variant, with the labels it keeps. */
function expected(name: string, keep: readonly ("variant" | "run_id" | "scenario")[]) {
  const i = recordedMetrics.findIndex((m) => m.name === name);
  const gpu = recordedMetrics[i]!.gpu;
  const latest = recorded.filter(
    (r) => (r.variant === "baseline" && r.run === "r2") || (r.variant === "awq" && r.run === "r1"),
  );
  return latest
    .filter((r) => r.gpu || !gpu)
    .map((r) => {
      const l = { variant: r.variant, run_id: r.run, scenario: r.scenario };
      return {
        labels: `{${keep.map((k) => `${k}="${l[k]}"`).join(",")}}`,
        value: valueOf(r, name, i),
      };
    });
}

describe("observability: the Benchmarks dashboard shows each variant's latest run", function () {
  const promtool = findPromtool();
  beforeEach(function () {
    if (!promtool) {
      if (process.env.CI) assert.fail("promtool is required in CI (Debian/Ubuntu: apt-get)");
      this.skip();
    }
  });
  const run = (tests: RuleTest["promql_expr_test"]) =>
    testRules(
      promtool!,
      [],
      [{ interval: "1m", input_series: inputSeries, promql_expr_test: tests }],
    );

  it("table and bar charts: only the later partial run's scenario for baseline, awq's one run in full", () => {
    const queries = [
      ...panel(1).targets.map((t) => ({ t, keep: ["variant", "run_id", "scenario"] as const })),
      ...[2, 3].map((id) => ({ t: panel(id).targets[0]!, keep: ["variant", "scenario"] as const })),
    ];
    assert.equal(queries.length, 11, "9 table columns and 2 bar charts");
    // At 5 h the controller exports only r2 (r1's series ended at minute 250): Prometheus has r1.
    // At 220 min it exports both runs.
    const r = run(
      queries.flatMap(({ t, keep }) =>
        ["220m", "5h"].map((eval_time) => ({
          expr: grafanaToPromql(t.expr),
          eval_time,
          exp_samples: expected(readGauge(t.expr), keep),
        })),
      ),
    );
    assert.ok(r.ok, r.report);
  });

  it("over time: the latest run the controller exports at each instant", () => {
    const t = panel(4).targets[0]!;
    const name = readGauge(t.expr);
    const r = run([
      // Before r2: baseline's r1 in full.
      {
        expr: grafanaToPromql(t.expr),
        eval_time: "150m",
        exp_samples: recorded
          .filter((x) => x.run === "r1")
          .map((x) => ({
            labels: `{variant="${x.variant}",scenario="${x.scenario}"}`,
            value: valueOf(
              x,
              name,
              recordedMetrics.findIndex((m) => m.name === name),
            ),
          })),
      },
      // Both runs exported: baseline shows r2's one scenario only.
      {
        expr: grafanaToPromql(t.expr),
        eval_time: "220m",
        exp_samples: expected(name, ["variant", "scenario"]),
      },
    ]);
    assert.ok(r.ok, r.report);
  });

  it("names each variant's latest run and when it last measured", () => {
    const t = panel(6).targets[0]!;
    const r = run([
      {
        expr: grafanaToPromql(t.expr),
        eval_time: "5h",
        exp_samples: [
          { labels: '{variant="awq",run_id="r1"}', value: 2_200_000 },
          { labels: '{variant="baseline",run_id="r2"}', value: 13_000_000 },
        ],
      },
    ]);
    assert.ok(r.ok, r.report);
  });

  it("the test tells the runs apart: each scenario's latest sample, as the dashboard once read it, mixes them", () => {
    const r = run([
      {
        expr: `max by (variant, scenario) (last_over_time(${gauge("output_tokens_per_second")}[30d]))`,
        eval_time: "5h",
        exp_samples: expected("output_tokens_per_second", ["variant", "scenario"]),
      },
    ]);
    assert.equal(r.ok, false, "baseline's chat-rate4 and chat-c16 from r1 would be shown");
    assert.match(r.report, /chat-rate4/);
  });
});
