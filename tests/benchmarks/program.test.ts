/**
 * The benchmark program (components/benchmarks/program/*.mts) as the workflow runs it: the shipped
 * files under Node, each step with the keys, paths and environment the WorkflowTemplate gives it,
 * against a fake S3 bucket (./argoSimulator.ts) and a fake Prometheus. Includes a run interrupted
 * after two of three scenarios and resumed without repeating them.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { programSources } from "../../components/benchmarks/benchmarks";
import { benchmarkSettings } from "../../components/benchmarks/settings";
import { benchmarkWorkflowSpec } from "../../components/benchmarks/workflowTemplate";
import type { Settings, VllmResult } from "../../components/benchmarks/program/results.mts";
import { stackConfig, stacks } from "../../verify/program";
import { planRun } from "../../components/benchmarks/program/plan.mjs";
import { ArgoSimulator } from "./argoSimulator";

/** A saved `vllm bench serve` result with the figures a test cares about (the rest consistent). */
export function vllmResult(p: {
  tokensPerSecond: number;
  ttftP95Ms: number;
  failed?: number;
  prompts?: number;
  date?: string;
}): VllmResult {
  const failed = p.failed ?? 0;
  const completed = (p.prompts ?? 100) - failed;
  const duration = 60;
  const latency = (metric: string, p95: number) => ({
    [`mean_${metric}_ms`]: p95 * 0.7,
    [`median_${metric}_ms`]: p95 * 0.6,
    [`std_${metric}_ms`]: p95 * 0.2,
    [`p50_${metric}_ms`]: p95 * 0.6,
    [`p95_${metric}_ms`]: p95,
    [`p99_${metric}_ms`]: p95 * 1.5,
  });
  return {
    date: p.date ?? "20261206-101500",
    backend: "openai",
    duration,
    completed,
    failed,
    request_throughput: completed / duration,
    output_throughput: p.tokensPerSecond,
    total_input_tokens: completed * 512,
    total_output_tokens: Math.round(p.tokensPerSecond * duration),
    ...latency("ttft", p.ttftP95Ms),
    ...latency("tpot", 25),
    ...latency("itl", 24),
    ...latency("e2el", p.ttftP95Ms + 127 * 25),
  };
}

/** A Prometheus that records the queries it gets and answers from `answer`. */
async function fakePrometheus(answer: (query: string) => unknown[] = () => []) {
  const queries: { query: string; time: string }[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "", "http://localhost");
    const query = u.searchParams.get("query") ?? "";
    queries.push({ query, time: u.searchParams.get("time") ?? "" });
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({ status: "success", data: { resultType: "vector", result: answer(query) } }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, queries, close: () => new Promise((r) => server.close(r)) };
}

/**
 * The dev stack's benchmarks: its config, the program's settings and the WorkflowTemplate's spec. Read
 * on first use, inside a test, so a broken stack file fails the tests that need it, by name (a
 * root-level hook would abort the whole suite instead).
 */
let devBenchmarks:
  | {
      config: ReturnType<typeof stackConfig>;
      settings: Settings;
      spec: ReturnType<typeof benchmarkWorkflowSpec>;
    }
  | undefined;
function dev(): NonNullable<typeof devBenchmarks> {
  if (!devBenchmarks) {
    const config = stackConfig("dev");
    const settings = benchmarkSettings(config.benchmarks, config.models);
    devBenchmarks = {
      config,
      settings,
      spec: benchmarkWorkflowSpec(config.benchmarks, settings),
    };
  }
  return devBenchmarks;
}
const files = (prometheusUrl: string) => ({
  ...programSources(),
  "settings.json": JSON.stringify({ ...dev().settings, prometheusUrl }),
});

/** Drives a workflow's steps in the template's order, one scenario attempt at a time. */
class Run {
  benches = 0;
  /** `recorder` runs the record step (e.g. the shipped files under Node); default `sim`. */
  constructor(
    readonly sim: ArgoSimulator,
    private readonly recorder = sim,
  ) {}

  async plan(): Promise<Record<string, string>[]> {
    const r = await this.sim.run("plan", {});
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.outputs.variants!) as Record<string, string>[];
  }

  async resume(
    v: Record<string, string>,
  ): Promise<{ items: Record<string, string>[]; log: string }> {
    const r = await this.sim.run("resume", { variant: v.variant!, "run-id": v["run-id"]! });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.outputs["pending-count"], String(JSON.parse(r.outputs.pending!).length));
    return { items: JSON.parse(r.outputs.pending!) as Record<string, string>[], log: r.stdout };
  }

  /** One attempt of a scenario: the client (whose saved result is `raw`), then the record step. */
  async attempt(
    v: Record<string, string>,
    s: Record<string, string>,
    attempt: number,
    raw: VllmResult | undefined,
    benchStatus = "Succeeded",
  ) {
    this.benches++;
    const params: Record<string, string> = { ...v, ...s, attempt: String(attempt) };
    delete params["prompt-set"];
    await this.sim.run("bench", params, (write) => {
      if (raw) write("/work/out/raw.json", JSON.stringify(raw));
      return benchStatus === "Succeeded" ? 0 : 1;
    });
    return this.recorder.run("record", {
      variant: v.variant!,
      "run-id": v["run-id"]!,
      scenario: s.scenario!,
      attempt: String(attempt),
      "bench-status": benchStatus,
      "prompt-set-bench-status": "Skipped",
    });
  }

  report(runId: string) {
    return this.sim.run("report", { "run-id": runId });
  }
}

describe("benchmark program: a run against a fake S3 bucket, step by step as the template runs it", function () {
  this.timeout(60_000);
  let prometheus: Awaited<ReturnType<typeof fakePrometheus>>;
  before(async () => (prometheus = await fakePrometheus()));
  after(() => prometheus.close());

  it("resumes an interrupted run without repeating finished scenarios, and says what was retried and why", async () => {
    const parameters = { variants: '["awq"]', "run-id": "nightly-1" };
    const first = new Run(
      new ArgoSimulator(dev().spec, files(prometheus.url), { name: "benchmark-first", parameters }),
    );
    const [awq] = await first.plan();
    assert.equal(awq!["run-id"], "nightly-1");
    const { items } = await first.resume(awq!);
    assert.deepEqual(
      items.map((s) => s.scenario),
      dev().settings.scenarios.map((s) => s.name),
    );
    const [s1, s2, s3] = items as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];

    const ok1 = await first.attempt(
      awq!,
      s1,
      0,
      vllmResult({ tokensPerSecond: 100, ttftP95Ms: 300 }),
    );
    assert.equal(ok1.status, 0, ok1.stderr);
    // The server is lost mid-scenario (SPOT interruption): requests fail, the attempt does not count.
    const lost = await first.attempt(
      awq!,
      s2,
      0,
      vllmResult({ tokensPerSecond: 40, ttftP95Ms: 250, failed: 12 }),
    );
    assert.equal(lost.status, 3, "the record step fails the attempt, so the scenario is retried");
    assert.match(lost.stderr, /12 of 100 requests failed/);
    const ok2 = await first.attempt(
      awq!,
      s2,
      1,
      vllmResult({ tokensPerSecond: 400, ttftP95Ms: 600 }),
    );
    assert.equal(ok2.status, 0, ok2.stderr);
    // ... and the workflow dies before the third scenario (its pods, its node, `argo stop`).
    const prefix = "benchmarks/awq/nightly-1";
    assert.deepEqual(
      first.sim.keys(prefix),
      [
        `${prefix}/attempts/${s2.scenario}.0.json`,
        `${prefix}/${s1.scenario}.json`,
        `${prefix}/${s2.scenario}.json`,
        `${prefix}/raw/${s1.scenario}.0.json`,
        `${prefix}/raw/${s2.scenario}.0.json`,
        `${prefix}/raw/${s2.scenario}.1.json`,
      ].sort(),
    );
    const recorded = first.sim.readJson(`${prefix}/${s1.scenario}.json`);

    // Resubmitted with the same run id: only the third scenario runs.
    const second = new Run(
      new ArgoSimulator(
        dev().spec,
        files(prometheus.url),
        { name: "benchmark-second", parameters },
        first.sim.bucket,
      ),
    );
    const [again] = await second.plan();
    const resumed = await second.resume(again!);
    assert.deepEqual(
      resumed.items.map((s) => s.scenario),
      [s3.scenario],
    );
    assert.match(resumed.log, new RegExp(`${s1.scenario}: already recorded for this run, skipped`));
    const ok3 = await second.attempt(
      again!,
      s3,
      0,
      vllmResult({ tokensPerSecond: 900, ttftP95Ms: 1500 }),
    );
    assert.equal(ok3.status, 0, ok3.stderr);
    assert.equal(second.benches, 1, "the resumed workflow ran the client once");
    assert.deepEqual(second.sim.readJson(`${prefix}/${s1.scenario}.json`), recorded);

    const report = await second.report("nightly-1");
    assert.equal(report.status, 0, report.stderr);
    assert.deepEqual(second.sim.readJson(`${prefix}/summary.json`), {
      format: "llm-platform/benchmark-run@1",
      variant: "awq",
      runId: "nightly-1",
      workflow: "benchmark-second",
      scenarios: 3,
      recorded: 3,
      resumed: [s1.scenario, s2.scenario],
      missing: [],
      retried: [
        {
          scenario: s2.scenario,
          attempts: 2,
          reasons: [
            "attempt 1: 12 of 100 requests failed: the server was unreachable or erroring during " +
              "the scenario (a SPOT interruption or a restart of the model server)",
          ],
        },
      ],
    });
    const comparison = second.sim.readJson("benchmarks/_comparisons/nightly-1/comparison.json");
    assert.equal(comparison.complete, true);
    assert.deepEqual(
      comparison.variants[0].scenarios.map((s: any) => [
        s.name,
        s.outputTokensPerSecond,
        s.attempts,
      ]),
      [
        [s1.scenario, 100, 1],
        [s2.scenario, 400, 2],
        [s3.scenario, 900, 1],
      ],
    );
    assert.ok(
      second.sim
        .keys("benchmarks/_comparisons/nightly-1")
        .includes("benchmarks/_comparisons/nightly-1/comparison.md"),
    );
  });

  it("runs again a scenario recorded with another definition (config changed between attempts)", async () => {
    const run = new Run(
      new ArgoSimulator(dev().spec, files(prometheus.url), {
        name: "benchmark-x",
        parameters: { variants: "awq", "run-id": "" },
      }),
    );
    const [awq] = await run.plan();
    assert.equal(awq!["run-id"], "benchmark-x", "no run id: the workflow's name");
    const [s1] = (await run.resume(awq!)).items;
    await run.attempt(awq!, s1!, 0, vllmResult({ tokensPerSecond: 100, ttftP95Ms: 300 }));
    const key = `benchmarks/awq/benchmark-x/${s1!.scenario}.json`;
    const record = run.sim.readJson(key);
    record.scenario.numPrompts += 1;
    fs.writeFileSync(`${run.sim.bucket}/${key}`, JSON.stringify(record));
    const again = await run.resume(awq!);
    assert.equal(again.items[0]!.scenario, s1!.scenario);
    assert.match(again.log, /recorded with another definition, runs again/);
  });

  it("reports a run with a missing scenario as failed, naming it", async () => {
    const run = new Run(
      new ArgoSimulator(dev().spec, files(prometheus.url), {
        name: "benchmark-y",
        parameters: { variants: "awq", "run-id": "partial" },
      }),
    );
    const [awq] = await run.plan();
    const [s1, s2] = (await run.resume(awq!)).items;
    await run.attempt(awq!, s1!, 0, vllmResult({ tokensPerSecond: 100, ttftP95Ms: 300 }));
    const notReady = await run.attempt(awq!, s2!, 0, undefined, "Omitted");
    assert.equal(notReady.status, 3);
    const report = await run.report("partial");
    assert.equal(report.status, 1, "an incomplete run fails its report step");
    const summary = run.sim.readJson("benchmarks/awq/partial/summary.json");
    assert.deepEqual(
      summary.missing,
      dev()
        .settings.scenarios.slice(1)
        .map((s) => s.name),
    );
    assert.deepEqual(summary.retried, [
      {
        scenario: s2!.scenario,
        attempts: 1,
        reasons: [
          `attempt 1: the variant did not serve within ${dev().config.benchmarks.readyTimeoutMinutes} minutes (its readiness step failed)`,
        ],
      },
    ]);
    const md = fs.readFileSync(
      `${run.sim.bucket}/benchmarks/_comparisons/partial/comparison.md`,
      "utf8",
    );
    assert.match(md, /\*\*Incomplete\*\*/);
    assert.match(
      md,
      new RegExp(
        `- awq: ${dev()
          .settings.scenarios.slice(1)
          .map((s) => s.name)
          .join(", ")}`,
      ),
    );
  });

  it("refuses, before holding any GPU, a variant the platform does not serve or a bad run id (the shipped files under Node)", async () => {
    const sim = new ArgoSimulator(
      dev().spec,
      files(prometheus.url),
      { name: "benchmark-z", parameters: { variants: '["awq","nope","awq"]', "run-id": "Bad_Id" } },
      undefined,
      true,
    );
    const r = await sim.run("plan", {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /run-id: expected lowercase letters, digits/);
    assert.match(
      r.stderr,
      /variants: nope is not a variant this platform serves \(baseline, awq, lora, judge\)/,
    );
    assert.match(r.stderr, /variants: awq is named twice/);
  });
});

describe("benchmark program: GPU use from DCGM over the scenario's window", function () {
  this.timeout(30_000);

  it("queries Prometheus with DCGM's exported_* labels at the window's end and records the answers (the shipped files under Node)", async () => {
    const prometheus = await fakePrometheus((q) =>
      q.includes("DCGM_FI_DEV_GPU_UTIL")
        ? [{ metric: {}, value: [0, "87.5"] }]
        : q.includes("DCGM_FI_DEV_FB_USED")
          ? [{ metric: {}, value: [0, "21504"] }]
          : [
              {
                metric: {
                  label_node_kubernetes_io_instance_type: "g6.xlarge",
                  label_eks_amazonaws_com_capacity_type: "SPOT",
                },
                value: [0, "1"],
              },
            ],
    );
    try {
      const workflow = { name: "benchmark-g", parameters: { variants: "awq", "run-id": "gpu" } };
      const sim = new ArgoSimulator(dev().spec, files(prometheus.url), workflow);
      const run = new Run(
        sim,
        new ArgoSimulator(dev().spec, files(prometheus.url), workflow, sim.bucket, true),
      );
      const [awq] = await run.plan();
      const [s1] = (await run.resume(awq!)).items;
      const r = await run.attempt(
        awq!,
        s1!,
        0,
        vllmResult({ tokensPerSecond: 100, ttftP95Ms: 300, date: "20261206-101500" }),
      );
      assert.equal(r.status, 0, r.stderr);
      const record = run.sim.readJson(`benchmarks/awq/gpu/${s1!.scenario}.json`);
      assert.deepEqual(record.gpu, { utilizationPercent: 87.5, memoryUsedMiB: 21504 });
      assert.deepEqual(record.nodes, [
        { instanceType: "g6.xlarge", capacityType: "SPOT", count: 1 },
      ]);
      assert.deepEqual(record.window, {
        start: "2026-12-06T10:14:00.000Z",
        end: "2026-12-06T10:15:00.000Z",
        seconds: 60,
      });
      assert.deepEqual(record.notes, []);
      assert.equal(prometheus.queries.length, 3);
      for (const q of prometheus.queries) assert.equal(q.time, "2026-12-06T10:15:00.000Z");
      assert.equal(
        prometheus.queries[0]!.query,
        'avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{exported_namespace="llm-baseline",exported_pod=~"vllm-awq-[a-z0-9]+-[a-z0-9]+"}[60s]))',
      );
      // The gauges Argo emits from the record step's output parameters.
      assert.equal(r.outputs["output-tokens-per-second"], "100");
      assert.equal(r.outputs["ttft-p95-seconds"], "0.3");
      assert.equal(r.outputs["gpu-measured"], "true");
      assert.equal(r.outputs["gpu-memory-used-bytes"], String(21504 * 2 ** 20));
    } finally {
      await prometheus.close();
    }
  });

  it("records the scenario anyway when Prometheus cannot answer, saying what was not measured", async () => {
    const run = new Run(
      new ArgoSimulator(dev().spec, files("http://127.0.0.1:9"), {
        name: "benchmark-h",
        parameters: { variants: "awq", "run-id": "noprom" },
      }),
    );
    const [awq] = await run.plan();
    const [s1] = (await run.resume(awq!)).items;
    const r = await run.attempt(awq!, s1!, 0, vllmResult({ tokensPerSecond: 100, ttftP95Ms: 300 }));
    assert.equal(r.status, 0, r.stderr);
    const record = run.sim.readJson(`benchmarks/awq/noprom/${s1!.scenario}.json`);
    assert.deepEqual(record.gpu, { utilizationPercent: null, memoryUsedMiB: null });
    assert.equal(record.notes.length, 3);
    assert.equal(r.outputs["gpu-measured"], "false", "no GPU gauges without a measurement");
  });
});

describe("benchmark program: its pure parts", () => {
  it("reads vLLM's result, refusing one without the latency figures", async () => {
    const { resultsFromVllm, windowOf } =
      await import("../../components/benchmarks/program/results.mjs");
    const raw = vllmResult({ tokensPerSecond: 480, ttftP95Ms: 812 });
    const r = resultsFromVllm(raw);
    assert.deepEqual(r.ttftMs, { mean: 812 * 0.7, p50: 812 * 0.6, p95: 812, p99: 812 * 1.5 });
    assert.equal(r.outputTokensPerSecond, 480);
    assert.equal(r.completed, 100);
    const { p95_itl_ms: _dropped, ...noItl } = raw;
    assert.throws(() => resultsFromVllm(noItl), /no p95_itl_ms .*--percentile-metrics itl/);
    assert.throws(() => windowOf({ ...raw, date: "yesterday" }), /no date of the form/);
  });

  it("counts an attempt only when the client finished and no request failed", async () => {
    const { attemptProblem, ranBenchStatus } =
      await import("../../components/benchmarks/program/results.mjs");
    const ok = vllmResult({ tokensPerSecond: 1, ttftP95Ms: 1 });
    assert.equal(attemptProblem("Succeeded", ok, 30), undefined);
    assert.match(attemptProblem("Failed", ok, 30)!, /client ended Failed/);
    assert.match(attemptProblem("Succeeded", undefined, 30)!, /saved no result/);
    assert.match(attemptProblem("Omitted", undefined, 30)!, /did not serve within 30 minutes/);
    assert.equal(ranBenchStatus(["Skipped", "Errored"]), "Errored");
    assert.equal(ranBenchStatus(["Skipped", "Skipped"]), "Omitted");
  });

  it("turns a scenario into the client's flag values: no rate = all at once, no limit = every prompt in flight", async () => {
    const { scenarioItem, scenarioSeed } =
      await import("../../components/benchmarks/program/results.mjs");
    const base = { name: "s", shape: "s", inputLen: 10, outputLen: 5, numPrompts: 50 };
    assert.deepEqual(
      scenarioItem(
        { ...base, requestRate: null, maxConcurrency: 8, promptSet: "p/x.jsonl" },
        "/models",
      ),
      {
        scenario: "s",
        seed: scenarioSeed("s"),
        "input-len": "10",
        "output-len": "5",
        "num-prompts": "50",
        "request-rate": "inf",
        "max-concurrency": "8",
        "prompt-set": "/models/p/x.jsonl",
      },
    );
    const rate = scenarioItem(
      { ...base, requestRate: 0.5, maxConcurrency: null, promptSet: null },
      "/m",
    );
    assert.equal(rate["request-rate"], "0.5");
    assert.equal(rate["max-concurrency"], "50");
    assert.equal(rate["prompt-set"], "");
  });

  it("sends other prompts in every scenario and every retry (seed), the same ones to every variant", async () => {
    const { scenarioItem } = await import("../../components/benchmarks/program/results.mjs");
    for (const stack of stacks) {
      const c = stackConfig(stack);
      const st = benchmarkSettings(c.benchmarks, c.models);
      const sim = new ArgoSimulator(benchmarkWorkflowSpec(c.benchmarks, st), programSources(), {
        name: "benchmark-s",
        parameters: { variants: "", "run-id": "" },
      });
      const [v1, v2] = planRun(st, "", "r", "w").items as [
        Record<string, string>,
        Record<string, string>,
      ];
      // The seed the client gets, as Argo substitutes the bench step's parameters.
      const seed = (
        v: Record<string, string>,
        scenario: (typeof st.scenarios)[number],
        n: number,
      ) => {
        const params: Record<string, string> = {
          ...v,
          ...scenarioItem(scenario, st.modelCacheRoot),
          attempt: String(n),
        };
        delete params["prompt-set"];
        const args: string[] = sim.template("bench", params).container.args;
        return args[args.indexOf("--seed") + 1]!;
      };
      const [a, b] = st.scenarios as [(typeof st.scenarios)[0], (typeof st.scenarios)[0]];
      assert.equal(a.shape, b.shape, "two scenarios of one shape");
      assert.notEqual(seed(v1, a, 0), seed(v1, b, 0), `${stack}: two scenarios of one shape`);
      assert.notEqual(seed(v1, a, 0), seed(v1, a, 1), `${stack}: two attempts of one scenario`);
      assert.equal(seed(v1, a, 0), seed(v2, a, 0), `${stack}: ${v1.variant} and ${v2.variant}`);
      // Every scenario and attempt of the stack's matrix, up to the most retries config allows.
      const all = st.scenarios.flatMap((s) => Array.from({ length: 11 }, (_, n) => seed(v1, s, n)));
      assert.equal(new Set(all).size, all.length, `${stack}: no seed twice`);
      for (const x of all) assert.ok(/^\d+$/.test(x) && Number(x) < 2 ** 32, x);
    }
  });

  it("plans the submission's variants, in its order, refusing a scenario beyond a variant's context", async () => {
    const { planRun, requestedVariants } =
      await import("../../components/benchmarks/program/plan.mjs");
    assert.deepEqual(requestedVariants("", ["a", "b"]), ["a", "b"]);
    assert.deepEqual(requestedVariants(" judge, awq ", []), ["judge", "awq"]);
    assert.deepEqual(requestedVariants('["awq"]', []), ["awq"]);
    assert.throws(() => requestedVariants("[1]", []), /expected a JSON list of variant names/);
    const plan = planRun(dev().settings, "judge,baseline", "", "benchmark-abc12");
    assert.equal(plan.runId, "benchmark-abc12");
    assert.deepEqual(
      plan.items.map((i: Record<string, string>) => i.variant),
      ["judge", "baseline"],
    );
    const short = {
      ...dev().settings,
      variants: {
        ...dev().settings.variants,
        awq: { ...dev().settings.variants.awq!, maxModelLen: 256 },
      },
    };
    assert.throws(
      () => planRun(short, "awq", "r", "w"),
      /scenario chat-rate1: input 512 \+ output 128 tokens exceed the max context of awq \(maxModelLen 256\)/,
    );
    // A variant outside the defaults (preview checks those) whose floor is above the held replicas.
    const floor = {
      ...dev().settings,
      variants: {
        ...dev().settings.variants,
        judge: { ...dev().settings.variants.judge!, minReplicas: 2 },
      },
    };
    assert.throws(
      () => planRun(floor, "judge", "r", "w"),
      /variants: judge always runs 2 replicas; a run would hold it at 1 \(benchmarks.replicas\) and take capacity from its users/,
    );
  });
});
