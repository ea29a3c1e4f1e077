/**
 * `llm-platform:benchmarks`: what a stack may ask of its benchmarks, checked at preview against the
 * models it serves, each problem naming its key.
 */
import * as assert from "node:assert/strict";
import {
  benchmarkScenarios,
  cronMatches,
  parseCron,
  servingVariants,
} from "../../components/config/benchmarks";
import { ConfigError, parseConfig } from "../../components/config/platformConfig";
import { registry } from "../../components/platform/registry";
import { cloneStackConfig, stackConfig } from "../../verify/program";

/** The problems of the dev stack file after `edit` (none when it is accepted). */
function problemsOf(edit: (b: Record<string, any>, raw: Record<string, any>) => void): string[] {
  const raw = cloneStackConfig("dev") as Record<string, any>;
  raw["llm-platform:benchmarks"] ??= {};
  edit(raw["llm-platform:benchmarks"], raw);
  try {
    parseConfig(raw, "dev");
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
}

const key = "llm-platform:benchmarks";
// Read when a test runs, not when mocha loads the file (a broken stack file fails tests by name).
const dev = () => stackConfig("dev");
const baseline = () => dev().models.variants.baseline!;
const containerMax = () => dev().namespaces["llm-baseline"].limits.max;

describe("config: benchmarks", () => {
  it("expands the matrix: every shape at every load, named by both", () => {
    const b = stackConfig("prod").benchmarks;
    const scenarios = benchmarkScenarios(b);
    assert.equal(scenarios.length, b.scenarios.shapes.length * b.scenarios.loads.length);
    assert.deepEqual(scenarios[0], {
      name: `${b.scenarios.shapes[0]!.name}-rate${b.scenarios.loads[0]!.requestRate}`,
      shape: b.scenarios.shapes[0]!.name,
      inputLen: b.scenarios.shapes[0]!.inputLen,
      outputLen: b.scenarios.shapes[0]!.outputLen,
      numPrompts: b.scenarios.numPrompts,
      requestRate: b.scenarios.loads[0]!.requestRate,
      maxConcurrency: null,
      promptSet: null,
    });
    const both = benchmarkScenarios({
      scenarios: {
        numPrompts: 10,
        shapes: [{ name: "x", inputLen: 1, outputLen: 1 }],
        loads: [{ requestRate: 0.5, maxConcurrency: 4, numPrompts: 40 }],
      },
    });
    assert.deepEqual(
      both.map((s) => [s.name, s.numPrompts]),
      [["x-rate0.5-c4", 40]],
    );
  });

  it("benchmarks every serving variant unless the stack names some, and defaults the rest", () => {
    assert.deepEqual(dev().benchmarks.variants, servingVariants(dev().models));
    const raw = cloneStackConfig("dev") as Record<string, any>;
    delete raw[key];
    const defaults = parseConfig(raw, "dev").benchmarks;
    assert.equal(defaults.slo.ttftP95Ms, 2000);
    assert.equal(defaults.replicas, 1);
    assert.equal(defaults.schedule, undefined, "off by default");
    assert.ok(benchmarkScenarios(defaults).length > 0);
  });

  const cases: { what: string; edit: Parameters<typeof problemsOf>[0]; expect: () => string }[] = [
    {
      what: "a scenario longer than a benchmarked variant's max context",
      edit: (b) =>
        (b.scenarios = {
          shapes: [{ name: "long", inputLen: baseline().maxModelLen, outputLen: 1 }],
          loads: [{ requestRate: 1 }],
        }),
      expect: () =>
        `${key}.scenarios.shapes[0].inputLen: input ${baseline().maxModelLen} + output 1 = ${baseline().maxModelLen + 1} tokens exceed the max context of variant baseline (maxModelLen ${baseline().maxModelLen})`,
    },
    {
      what: "a request rate of 0",
      edit: (b) => (b.scenarios.loads[0] = { requestRate: 0 }),
      expect: () =>
        `${key}.scenarios.loads[0].requestRate: expected more than 0 requests per second`,
    },
    {
      what: "a concurrency of 0",
      edit: (b) => (b.scenarios.loads[0] = { maxConcurrency: 0 }),
      expect: () =>
        `${key}.scenarios.loads[0].maxConcurrency: expected at least 1 request in flight`,
    },
    {
      what: "a negative prompt count",
      edit: (b) => (b.scenarios.numPrompts = -5),
      expect: () => `${key}.scenarios.numPrompts: expected at least 1 prompt`,
    },
    {
      what: "a load with neither a rate nor a concurrency",
      edit: (b) => (b.scenarios.loads[0] = { numPrompts: 10 }),
      expect: () => `${key}.scenarios.loads[0]: expected requestRate, maxConcurrency or both`,
    },
    {
      what: "an unknown variant",
      edit: (b) => (b.variants = ["awq", "nope"]),
      expect: () =>
        `${key}.variants[1]: expected a model variant (${Object.keys(registry.models).join(", ")}), got nope`,
    },
    {
      what: "a variant that serves no replica",
      edit: (b, raw) => {
        const judge = raw["llm-platform:models"].variants.judge;
        delete judge.autoscaling;
        judge.replicas = 0;
        b.variants = ["judge"];
      },
      expect: () =>
        `${key}.variants[0]: judge serves no replica (replicas 0, no autoscaling), so it cannot be benchmarked`,
    },
    {
      what: "an SLO of 0",
      edit: (b) => (b.slo = { ttftP95Ms: 0 }),
      expect: () => `${key}.slo.ttftP95Ms: expected a latency target above 0 ms`,
    },
    {
      what: "holding more replicas than a variant may run",
      edit: (b) => (b.replicas = baseline().autoscaling!.maxReplicas + 1),
      expect: () =>
        `${key}.replicas: expected at most the maxReplicas of variant baseline (${baseline().autoscaling!.maxReplicas}), got ${baseline().autoscaling!.maxReplicas + 1}`,
    },
    {
      what: "holding fewer replicas than a variant always runs (the hold would lower its capacity)",
      edit: (b, raw) => {
        const awq = raw["llm-platform:models"].variants.awq.autoscaling;
        Object.assign(awq, { minReplicas: 2, maxReplicas: 3 });
        delete awq.workingHours;
        b.replicas = 1;
      },
      expect: () =>
        `${key}.replicas: expected at least the minReplicas of variant awq (2), got 1: a run holds it at exactly that many replicas`,
    },
    {
      what: "a client larger than the model namespace admits",
      edit: (b) => (b.client = { cpu: "64", memory: "1Gi" }),
      expect: () =>
        `${key}.client: expected at most the model namespace's container maximum (cpu ${containerMax().cpu}, memory ${containerMax().memory})`,
    },
    {
      what: "a schedule that is not a five-field cron of numbers",
      edit: (b) => (b.schedule = { cron: "@weekly" }),
      expect: () => `${key}.schedule.cron: expected a five-field cron schedule of numbers`,
    },
    {
      what: "two shapes of one name",
      edit: (b) => b.scenarios.shapes.push({ ...b.scenarios.shapes[0] }),
      expect: () => `${key}.scenarios.shapes[1].name: expected each shape once`,
    },
    {
      what: "a prompt set outside the model cache",
      edit: (b) => (b.scenarios.shapes[0].promptSet = "../etc/prompts.jsonl"),
      expect: () =>
        `${key}.scenarios.shapes[0].promptSet: expected a .jsonl file inside the model cache`,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.what}, naming the key`, () => {
      const problems = problemsOf(c.edit);
      const expect = c.expect();
      assert.ok(
        problems.some((p) => p.startsWith(expect)),
        `expected a problem starting with\n  ${expect}\ngot\n  ${problems.join("\n  ")}`,
      );
    });
  }

  it("checks the max context of the benchmarked variants only (the run refuses others)", () => {
    const longForJudge = (b: Record<string, any>, raw: Record<string, any>) => {
      raw["llm-platform:models"].variants.judge.maxModelLen = 512;
      b.scenarios.shapes = [{ name: "chat", inputLen: 512, outputLen: 128 }];
    };
    assert.match(
      problemsOf(longForJudge).join("\n"),
      /exceed the max context of variant judge \(maxModelLen 512\)/,
    );
    assert.deepEqual(
      problemsOf((b, raw) => {
        longForJudge(b, raw);
        b.variants = ["baseline", "awq"];
      }),
      [],
    );
  });

  it("parses cron schedules as cron does (day of month or day of week)", () => {
    const c = parseCron("0 3 1 * 0")!;
    assert.ok(cronMatches(c, new Date("2026-03-01T03:00:00Z")), "the 1st (a Sunday)");
    assert.ok(cronMatches(c, new Date("2026-03-08T03:00:00Z")), "a Sunday");
    assert.ok(cronMatches(c, new Date("2026-04-01T03:00:00Z")), "the 1st (a Wednesday)");
    assert.ok(!cronMatches(c, new Date("2026-04-02T03:00:00Z")));
    assert.ok(cronMatches(parseCron("*/20 8-10 * * 7")!, new Date("2026-03-08T09:40:00Z")));
    for (const bad of ["0 3 * *", "60 3 * * *", "0 3 * * 8", "0 5-3 * * *", "0 3 * * MON"]) {
      assert.equal(parseCron(bad), undefined, bad);
    }
  });
});
