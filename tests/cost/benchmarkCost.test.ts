/**
 * `npm run cost -- <stack> --benchmarks <comparison.json>`: $ per 1M output tokens per variant, worked
 * out by hand for a small comparison in exactly the format a benchmark run writes
 * (fixtures/benchmark-comparison.json, the report step's output for tests/benchmarks/comparisonFixture.ts),
 * and the GPU time a scheduled benchmark adds to the month.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { parseConfig, type PlatformConfig } from "../../components/config/platformConfig";
import {
  benchmarkCost,
  formatBenchmarkCostMarkdown,
  formatBenchmarkCostText,
  parseComparison,
  stackBenchmarkCost,
  usdPerMillion,
  withBenchmarks,
} from "../../components/cost/benchmarkCost";
import {
  runsPerYear,
  scenarioMinutes,
  scheduledBenchmarkItem,
  withLineItem,
} from "../../components/cost/benchmarkSchedule";
import { estimate, priceTableFor } from "../../components/cost/estimate";
import { inventory } from "../../components/cost/inventory";
import { usWest2 } from "../../components/cost/prices";
import { formatComment, formatText, type StackEstimate } from "../../components/cost/report";
import { benchmarkScenarios } from "../../components/config/benchmarks";
import { variantColdStarts } from "../../components/config/coldStart";
import { cloneStackConfig, runStack, stackConfig } from "../../verify/program";
import { fixtureComparison, fixtureFile } from "../benchmarks/comparisonFixture";

const fixture = () => JSON.parse(fs.readFileSync(fixtureFile, "utf8"));
/**
 * The figures worked out by hand below are us-west-2's prices (components/cost/prices.ts), so the dev
 * config they price is pinned to that region, whatever region the stack file (or
 * LLM_PLATFORM_TEST_REGION) names. `edit` changes the raw config first.
 */
const handPricedRegion = "us-west-2";
function devPricedByHand(edit: (raw: Record<string, any>) => void = () => {}): PlatformConfig {
  const raw = cloneStackConfig("dev") as Record<string, any>;
  raw["aws:region"] = handPricedRegion;
  edit(raw);
  return parseConfig(raw, "dev");
}
const close = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-6,
    `${what}: ${actual} != ${expected}`,
  );

describe("cost: $ per 1M output tokens from a benchmark comparison", () => {
  it("reads exactly what the workflow's report step writes (the fixture is its output)", async () => {
    const written = await fixtureComparison();
    assert.deepEqual({ ...written, generatedAt: "" }, { ...fixture(), generatedAt: "" });
  });

  it("prices each variant at the highest load within the SLO, SPOT and On-Demand, as worked out by hand", () => {
    // dev: SLO p95 TTFT <= 2000 ms; g5.xlarge $1.006/h On-Demand, SPOT 0.4 × = $0.4024/h;
    // g6.xlarge $0.8048/h, SPOT $0.32192/h. One replica each.
    const c = stackBenchmarkCost(fixture(), devPricedByHand());
    const row = (v: string) => c.rows.find((r) => r.variant === v && r.shape === "chat")!;
    // baseline: chat-c16 has p95 2600 ms > 2000, so chat-rate4 (360 tok/s) is the operating point.
    // SPOT 0.4024 / (360 × 3600) × 1e6 = 0.4024 / 1.296 = 0.310494; On-Demand 1.006 / 1.296 = 0.776235.
    assert.equal(row("baseline").scenario, "chat-rate4");
    assert.equal(row("baseline").instanceType, "g5.xlarge");
    close(row("baseline").usdPerMillionTokens?.spot, 0.4024 / 1.296, "baseline SPOT");
    close(row("baseline").usdPerMillionTokens?.onDemand, 1.006 / 1.296, "baseline On-Demand");
    assert.equal(row("baseline").savingVsBaseline, null);
    // awq: every load within the SLO; chat-c16 (900 tok/s) on g6.xlarge.
    // SPOT 0.32192 / 3.24 = 0.099358; On-Demand 0.8048 / 3.24 = 0.248395;
    // saving 1 − 0.099358 / 0.310494 = 1 − 0.32 = 0.68 (both capacity types).
    assert.equal(row("awq").scenario, "chat-c16");
    assert.equal(row("awq").instanceType, "g6.xlarge");
    close(row("awq").usdPerMillionTokens?.spot, 0.32192 / 3.24, "awq SPOT");
    close(row("awq").usdPerMillionTokens?.onDemand, 0.8048 / 3.24, "awq On-Demand");
    close(row("awq").savingVsBaseline?.spot, 0.68, "awq saving SPOT");
    close(row("awq").savingVsBaseline?.onDemand, 0.68, "awq saving On-Demand");
    // lora: no load within the SLO: no price, no saving.
    assert.equal(row("lora").scenario, null);
    assert.equal(row("lora").usdPerMillionTokens, null);
    assert.equal(row("lora").savingVsBaseline, null);
    // judge: chat-c16 failed 3 requests, chat-rate4 is over the SLO: chat-rate1 (100 tok/s). No node
    // recorded: its GPU group's dearest type, g5.xlarge. SPOT 0.4024 / 0.36 = 1.117778; On-Demand
    // 1.006 / 0.36 = 2.794444. Another model, so no saving against the baseline.
    assert.equal(row("judge").scenario, "chat-rate1");
    assert.equal(row("judge").instanceTypeFrom, "node group");
    close(row("judge").usdPerMillionTokens?.spot, 0.4024 / 0.36, "judge SPOT");
    close(row("judge").usdPerMillionTokens?.onDemand, 1.006 / 0.36, "judge On-Demand");
    assert.equal(row("judge").savingVsBaseline, null);
  });

  it("moves the operating point with the SLO, and scales with the replicas held", () => {
    const c = parseComparison(fixture());
    const ctx = {
      prices: usWest2,
      fallbackInstanceType: () => "g5.xlarge",
      baselineFamily: ["baseline", "awq", "lora"],
    };
    const strict = benchmarkCost(c, { ...ctx, sloTtftP95Ms: 550 });
    assert.equal(strict.rows.find((r) => r.variant === "baseline")!.scenario, "chat-rate1");
    assert.equal(strict.rows.find((r) => r.variant === "awq")!.scenario, "chat-rate1");
    assert.equal(usdPerMillion(1, 2, 1000 / 3600), (2 * 1e6) / 1000);
  });

  it("says when the run marked its scenarios against another SLO than the stack prices at", () => {
    // The fixture was recorded at dev's SLO (2000 ms); prod's is 1000 ms.
    assert.equal(fixture().slo.ttftP95Ms, stackConfig("dev").benchmarks.slo.ttftP95Ms);
    const dev = stackBenchmarkCost(fixture(), stackConfig("dev"));
    assert.equal(dev.runSloTtftP95Ms, 2000);
    assert.doesNotMatch(formatBenchmarkCostText(dev), /Note:/);
    assert.doesNotMatch(formatBenchmarkCostMarkdown(dev), /Note:/);
    const prod = stackBenchmarkCost(fixture(), stackConfig("prod"));
    assert.equal(prod.sloTtftP95Ms, stackConfig("prod").benchmarks.slo.ttftP95Ms);
    const note =
      /Note: the run marked its scenarios against p95 TTFT ≤ 2000 ms \(the ✓ in its comparison\.md\); priced here at the stack's SLO, 1000 ms/;
    assert.match(formatBenchmarkCostText(prod), note);
    assert.match(formatBenchmarkCostMarkdown(prod), note);
    // At 1000 ms awq's chat-c16 (p95 1500 ms) is out: its point moves to chat-rate4, unlike its ✓.
    assert.equal(dev.rows.find((r) => r.variant === "awq")!.scenario, "chat-c16");
    assert.equal(prod.rows.find((r) => r.variant === "awq")!.scenario, "chat-rate4");
  });

  it("refuses a file that is not a comparison, saying what it expected", () => {
    assert.throws(
      () => parseComparison({ format: "llm-platform/benchmark-run@1" }),
      /not a benchmark comparison \(benchmarks\/_comparisons\/<run id>\/comparison\.json\): format/,
    );
  });

  it("prints the table with the stack's estimate and in the pull request's cost comment", async () => {
    const config = devPricedByHand();
    // The resources of the stack file's run: the inventory takes its region from the config.
    const run = await runStack("dev");
    // What `npm run cost -- dev --benchmarks <file>` prints (scripts/cost.ts).
    const e: StackEstimate = withBenchmarks(
      { stack: "dev", ...estimate(inventory(config, run.resources)) },
      config,
      fixture(),
    );
    assert.ok(!e.items.some((i) => i.id === "benchmark-schedule"), "dev schedules no runs");
    const text = formatText(e);
    assert.match(
      text,
      /\$ per 1M output tokens \(benchmark fixture; at the SLO p95 TTFT ≤ 2000 ms/,
    );
    assert.match(text, /awq .*SPOT \$0\.0994, On-Demand \$0\.2484 vs baseline: SPOT 68 % cheaper/);
    assert.match(text, /lora .*n\/a\n\s+no scenario meets the SLO/);
    const comment = formatComment(e, undefined);
    assert.match(
      comment,
      /\| chat \| awq \| chat-c16: 900\.0 tok\/s, p95 TTFT 1500 ms \| 1 × g6\.xlarge \| \$0\.0994 \| \$0\.2484 \| SPOT 68 % cheaper, On-Demand 68 % cheaper \|/,
    );
    assert.match(
      formatBenchmarkCostText(e.benchmarks!),
      /judge.*\n.*not measured: its GPU group's/,
    );
    assert.doesNotMatch(formatComment({ ...e, benchmarks: undefined }, undefined), /per 1M/);
  });
});

describe("cost: a scheduled benchmark's GPU time", () => {
  it("counts a schedule's runs in a year", () => {
    assert.equal(runsPerYear("0 3 * * 0"), 52); // Sundays of 2026
    assert.equal(runsPerYear("*/15 * * * *"), 365 * 24 * 4);
    assert.equal(runsPerYear("30 2 1 */3 *"), 4);
    // Day of month and day of week both set: either matches (cron); 12 firsts + 52 Mondays − June 1st.
    assert.equal(runsPerYear("0 0 1 * 1"), 63);
  });

  it("estimates a scenario from its arrivals or its waves, plus one request", () => {
    // One request: (500 ms + 128 × 30 ms) = 4.34 s.
    const base = {
      name: "s",
      shape: "s",
      inputLen: 512,
      outputLen: 128,
      numPrompts: 100,
      promptSet: null,
    };
    close(
      scenarioMinutes({ ...base, requestRate: 1, maxConcurrency: null }),
      (100 + 4.34) / 60,
      "rate 1",
    );
    close(
      scenarioMinutes({ ...base, requestRate: null, maxConcurrency: 16 }),
      (7 * 4.34 + 4.34) / 60,
      "c16",
    );
  });

  it("prices the extra SPOT nodes of a weekly dev run by hand, and nothing where minReplicas covers it", () => {
    const dev = devPricedByHand(
      (raw) => (raw["llm-platform:benchmarks"].schedule = { cron: "0 3 * * 0" }),
    );
    // dev: 4 variants at min 0, held at 1: each an extra g5.xlarge (the group's dearest, SPOT
    // $0.4024/h) for its predicted cold start (scale-up with nothing cached, as `npm run cost` prints
    // it: baseline 395 s, awq 385 s, lora 657 s from the Hub, judge 396 s) + the matrix + 30 idle
    // minutes. Matrix (100 prompts, 128 out, one request 4.34 s): rate 1: 104.34 s, rate 4: 29.34 s,
    // c16: 7 waves 30.38 + 4.34 s = 34.72 s; 168.4 s = 2.806667 min. 52 runs / 12 months.
    assert.equal(dev.benchmarks.scenarios.shapes.length, 1);
    close(
      benchmarkScenarios(dev.benchmarks).reduce((n, s) => n + scenarioMinutes(s), 0),
      168.4 / 60,
      "matrix minutes",
    );
    const item = scheduledBenchmarkItem(
      { ...dev, gpuGroups: dev.nodeGroups.gpu },
      priceTableFor(dev.region),
    )!;
    assert.deepEqual(
      variantColdStarts(dev.models, dev.nodeGroups.gpu).map((x) => x.budget.scaleUp.first),
      [395, 385, 657, 396],
    );
    // Variant-hours of one run: (395 + 385 + 657 + 396) s = 30.55 min of cold starts, 4 × the matrix,
    // 4 × 30 min cool-down: (30.55 + 11.226667 + 120) / 60 = 2.696278 h.
    const hours = ((395 + 385 + 657 + 396) / 60 + (4 * 168.4) / 60 + 4 * 30) / 60;
    close(hours, 2.6962778, "variant-hours per run");
    close(item.monthly.peak, (52 / 12) * 0.4024 * hours, "monthly SPOT");
    close(item.monthly.idle, item.monthly.peak, "the same at idle");
    close(item.onDemandEquivalent!.peak, (52 / 12) * 1.006 * hours, "monthly On-Demand");
    assert.match(
      item.basis.peak,
      /^4\.33 runs\/month \(0 3 \* \* 0\) × baseline 1 × g5\.xlarge SPOT \$0\.4024\/h × 0\.66 h \(cold start 6\.6 min predicted \+ scenarios 2\.8 min assumed \+ cool-down\)/,
    );
    assert.match(
      item.basis.peak,
      /lora 1 × g5\.xlarge SPOT \$0\.4024\/h × 0\.73 h \(cold start 10\.9 min/,
    );

    const prodRaw = cloneStackConfig("prod");
    (prodRaw["llm-platform:benchmarks"] as any).schedule = { cron: "0 3 * * 0" };
    const prod = parseConfig(prodRaw, "prod");
    const none = scheduledBenchmarkItem(
      { ...prod, gpuGroups: prod.nodeGroups.gpu },
      priceTableFor(prod.region),
    )!;
    assert.deepEqual(none.monthly, { idle: 0, peak: 0 });
    assert.match(
      none.basis.idle,
      /no extra GPU: every benchmarked variant's minReplicas covers the 1/,
    );
    assert.equal(
      scheduledBenchmarkItem({ ...stackConfig("dev"), gpuGroups: [] }, usWest2),
      undefined,
      "no schedule, no line",
    );
  });

  it("adds the line to the estimate's totals and SPOT saving", async () => {
    const raw = cloneStackConfig("dev");
    (raw["llm-platform:benchmarks"] as any).schedule = { cron: "0 3 * * 0" };
    const dev = parseConfig(raw, "dev");
    const base = estimate(inventory(dev, (await runStack("dev")).resources));
    const item = scheduledBenchmarkItem(
      { ...dev, gpuGroups: dev.nodeGroups.gpu },
      priceTableFor(dev.region),
    )!;
    const e = withLineItem(base, item);
    assert.equal(e.items.at(-1)!.id, "benchmark-schedule");
    close(e.total.monthly.peak, base.total.monthly.peak + item.monthly.peak, "total");
    close(e.total.hourly.idle, e.total.monthly.idle / e.hoursPerMonth, "hourly");
    close(
      e.spotSaving.peak,
      base.spotSaving.peak + item.onDemandEquivalent!.peak - item.monthly.peak,
      "SPOT saving",
    );
    close(e.allOnDemandMonthly.peak, e.total.monthly.peak + e.spotSaving.peak, "all On-Demand");
    assert.equal(withLineItem(base, undefined), base);
  });
});
