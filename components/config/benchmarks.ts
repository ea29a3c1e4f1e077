/**
 * Schema of the benchmark config (`llm-platform:benchmarks`): the variants a run covers by default,
 * the scenario matrix (prompt shapes × loads), the latency target costs are quoted at, how long a run
 * waits and retries, the client's size, and an optional schedule. `benchmarkProblems` checks it
 * against the models config (max context, serving variants, replicas) before anything is registered.
 */
import { z } from "zod";
import { cpuMemory, dnsLabel, duplicates, fitsWithin, type CpuMemory } from "./primitives";
import { replicaRange, variantEntries, type ModelsConfig } from "./models";

/** One cron field: `*`, `*\/n`, `a`, `a-b`, `a-b/n`, or a comma list of those, within [min, max]. */
function cronField(text: string, min: number, max: number): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = m[1] === "*" ? min : Number(m[2]);
    const to = m[1] === "*" ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : from;
    const step = m[4] ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** A parsed five-field cron schedule (Sunday is 0 or 7). */
export interface CronSchedule {
  readonly minute: ReadonlySet<number>;
  readonly hour: ReadonlySet<number>;
  readonly dayOfMonth: ReadonlySet<number>;
  readonly month: ReadonlySet<number>;
  readonly dayOfWeek: ReadonlySet<number>;
  /** Whether day-of-month / day-of-week were `*` (cron ORs the two day fields when both are set). */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

/** Parses `minute hour day-of-month month day-of-week` (numbers only), or undefined if malformed. */
export function parseCron(expr: string): CronSchedule | undefined {
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) return undefined;
  const [minute, hour, dayOfMonth, month, dow] = [
    cronField(f[0]!, 0, 59),
    cronField(f[1]!, 0, 23),
    cronField(f[2]!, 1, 31),
    cronField(f[3]!, 1, 12),
    cronField(f[4]!, 0, 7),
  ];
  if (!minute || !hour || !dayOfMonth || !month || !dow) return undefined;
  const dayOfWeek = new Set([...dow].map((d) => d % 7));
  return {
    minute,
    hour,
    dayOfMonth,
    month,
    dayOfWeek,
    anyDayOfMonth: f[2]!.startsWith("*"),
    anyDayOfWeek: f[4]!.startsWith("*"),
  };
}

/** Whether a schedule fires at a minute (UTC fields of `t`). */
export function cronMatches(c: CronSchedule, t: Date): boolean {
  if (!c.minute.has(t.getUTCMinutes()) || !c.hour.has(t.getUTCHours())) return false;
  if (!c.month.has(t.getUTCMonth() + 1)) return false;
  const dom = c.dayOfMonth.has(t.getUTCDate());
  const dow = c.dayOfWeek.has(t.getUTCDay());
  if (c.anyDayOfMonth) return dow;
  if (c.anyDayOfWeek) return dom;
  return dom || dow;
}

const cron = z
  .string()
  .refine(
    (v) => parseCron(v) !== undefined,
    "expected a five-field cron schedule of numbers, e.g. 0 3 * * 0 (minute hour day-of-month month day-of-week)",
  );

const shapeSchema = z.strictObject({
  /** Name in scenario names, S3 keys and dashboards (`<shape>-<load>`). */
  name: dnsLabel(30),
  /**
   * Prompt tokens per request (random prompts). With `promptSet`: the longest prompt of the set, in
   * tokens, which the max-context check uses.
   */
  inputLen: z.number().int().min(1, "expected at least 1 token"),
  /** Tokens generated per request (random prompts ignore end-of-sequence, so exactly this many). */
  outputLen: z.number().int().min(1, "expected at least 1 token"),
  /**
   * A prompt set on the shared model cache, relative to its root: JSON lines `{"prompt": "..."}`
   * (vLLM's `custom` dataset). Default: random prompts of `inputLen` tokens.
   */
  promptSet: z
    .string()
    .regex(
      /^(?!\/)(?!.*\.\.)[\w./-]+\.jsonl$/,
      "expected a .jsonl file inside the model cache, e.g. prompts/chat.jsonl",
    )
    .optional(),
});

const loadSchema = z
  .strictObject({
    /** Requests per second, arriving as a Poisson process. */
    requestRate: z.number().gt(0, "expected more than 0 requests per second").optional(),
    /** Requests in flight at most (a closed loop when given alone). */
    maxConcurrency: z.number().int().min(1, "expected at least 1 request in flight").optional(),
    /** Prompts sent in this load. Default: `scenarios.numPrompts`. */
    numPrompts: z.number().int().min(1, "expected at least 1 prompt").optional(),
  })
  .refine((l) => l.requestRate !== undefined || l.maxConcurrency !== undefined, {
    message: "expected requestRate, maxConcurrency or both",
  });

const scenariosSchema = z
  .strictObject({
    /** Prompts per scenario unless a load sets its own. Default 200. */
    numPrompts: z.number().int().min(1, "expected at least 1 prompt").default(200),
    /** Prompt shapes: every shape runs at every load. */
    shapes: z.array(shapeSchema).min(1),
    /** Loads (request rates and/or concurrency levels), each run with every shape. */
    loads: z.array(loadSchema).min(1),
  })
  .superRefine((s, ctx) => {
    duplicates(s.shapes.map((x) => x.name)).forEach((i) =>
      ctx.addIssue({
        code: "custom",
        path: ["shapes", i, "name"],
        message: "expected each shape once",
      }),
    );
    duplicates(s.loads.map(loadName)).forEach((i) =>
      ctx.addIssue({ code: "custom", path: ["loads", i], message: "expected each load once" }),
    );
  });

/** Defaults: a small matrix every stack can afford (one shape, a rate sweep and a closed loop). */
const defaultScenarios: z.input<typeof scenariosSchema> = {
  numPrompts: 200,
  shapes: [{ name: "chat", inputLen: 512, outputLen: 128 }],
  loads: [{ requestRate: 1 }, { requestRate: 4 }, { maxConcurrency: 16 }],
};

export const benchmarksSchema = z.strictObject({
  /**
   * Variants a run benchmarks unless the submission names others. Default: every variant that
   * serves (autoscaled, or a fixed count above 0).
   */
  variants: z.array(z.string()).min(1).optional(),
  /**
   * Replicas an autoscaled variant is held at while its scenarios run (KEDA paused-replicas: exactly
   * this many). Between the minReplicas and maxReplicas of every benchmarked variant. Default 1.
   */
  replicas: z.number().int().min(1).max(16).default(1),
  /** The latency target costs are quoted at: p95 time to first token, in milliseconds. Default 2000. */
  slo: z
    .strictObject({
      ttftP95Ms: z.number().gt(0, "expected a latency target above 0 ms"),
    })
    .default({ ttftP95Ms: 2000 }),
  scenarios: scenariosSchema.prefault(defaultScenarios),
  /** Minutes a variant may take to serve (a SPOT node and a cold start when it was at zero). Default 30. */
  readyTimeoutMinutes: z.number().int().min(5).max(180).default(30),
  /** Minutes one scenario may run before it counts as failed. Default 30. */
  scenarioTimeoutMinutes: z.number().int().min(1).max(240).default(30),
  /** Retries of an interrupted or failed scenario (interruption, eviction, lost node). Default 3. */
  retries: z.number().int().min(0).max(10).default(3),
  /** CPU and memory of the benchmark client (`vllm bench serve`; requests = limits). Default 2 CPU, 4Gi. */
  client: cpuMemory.default({ cpu: "2", memory: "4Gi" }),
  /** A recurring run of the default variants (a CronWorkflow). Default: none, runs are on demand. */
  schedule: z
    .strictObject({
      cron,
      /** IANA time zone of `cron`. Default UTC. */
      timezone: z
        .string()
        .regex(/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/, "expected an IANA time zone")
        .default("UTC"),
    })
    .optional(),
});

export type BenchmarksInput = z.output<typeof benchmarksSchema>;
type Load = z.output<typeof loadSchema>;

/** The validated benchmark config, with the default variants resolved. */
export type BenchmarksConfig = Omit<BenchmarksInput, "variants"> & {
  readonly variants: readonly string[];
};

/** A load's part of scenario names: `rate4`, `c16`, `rate0.5-c8`. */
function loadName(l: Load): string {
  return [
    l.requestRate !== undefined ? `rate${l.requestRate}` : "",
    l.maxConcurrency !== undefined ? `c${l.maxConcurrency}` : "",
  ]
    .filter(Boolean)
    .join("-");
}

/**
 * The scenario matrix, shape by shape, each at every load: what each `vllm bench serve` run sends.
 * (The benchmark program's `Scenario` type, benchmarks/program/results.mts, must accept these: the
 * settings it is given are type-checked against it.)
 */
export function benchmarkScenarios(b: Pick<BenchmarksInput, "scenarios">) {
  const s = b.scenarios;
  return s.shapes.flatMap((shape) =>
    s.loads.map((load) => ({
      name: `${shape.name}-${loadName(load)}`,
      shape: shape.name,
      inputLen: shape.inputLen,
      outputLen: shape.outputLen,
      numPrompts: load.numPrompts ?? s.numPrompts,
      requestRate: load.requestRate ?? null,
      maxConcurrency: load.maxConcurrency ?? null,
      promptSet: shape.promptSet ?? null,
    })),
  );
}

/** One cell of the matrix. */
export type BenchmarkScenario = ReturnType<typeof benchmarkScenarios>[number];

/** Variants that serve at least one replica (and so can be benchmarked), in registry order. */
export function servingVariants(m: ModelsConfig): string[] {
  return variantEntries(m)
    .filter(([, v]) => replicaRange(v).max > 0)
    .map(([name]) => name);
}

/** The benchmark config with its default variant list resolved against the models config. */
export function resolveBenchmarks(b: BenchmarksInput, m: ModelsConfig): BenchmarksConfig {
  return { ...b, variants: b.variants ?? servingVariants(m) };
}

type Problem = { path: (string | number)[]; message: string };

/**
 * What the benchmark config asks that the models cannot do: an unknown or non-serving variant, a
 * scenario longer than a benchmarked variant's max context, more held replicas than it may run or
 * fewer than it always runs, a client larger than the model namespace's LimitRange admits
 * (`containerMax`). Paths are relative to `llm-platform:benchmarks`.
 */
export function benchmarkProblems(
  b: BenchmarksInput,
  m: ModelsConfig,
  containerMax: CpuMemory,
): Problem[] {
  const out: Problem[] = [];
  if (!fitsWithin(b.client, containerMax)) {
    out.push({
      path: ["client"],
      message: `expected at most the model namespace's container maximum (cpu ${containerMax.cpu}, memory ${containerMax.memory})`,
    });
  }
  const known = Object.keys(m.variants);
  const serving = servingVariants(m);
  (b.variants ?? []).forEach((v, i) => {
    if (!known.includes(v)) {
      out.push({
        path: ["variants", i],
        message: `expected a model variant (${known.join(", ")}), got ${v}`,
      });
    } else if (!serving.includes(v)) {
      out.push({
        path: ["variants", i],
        message: `${v} serves no replica (replicas 0, no autoscaling), so it cannot be benchmarked`,
      });
    }
  });
  duplicates(b.variants ?? []).forEach((i) =>
    out.push({ path: ["variants", i], message: "expected each variant once" }),
  );
  const benchmarked = resolveBenchmarks(b, m).variants.filter((v) => serving.includes(v));
  b.scenarios.shapes.forEach((shape, i) => {
    for (const v of benchmarked) {
      const max = m.variants[v]!.maxModelLen;
      const total = shape.inputLen + shape.outputLen;
      if (total > max) {
        out.push({
          path: ["scenarios", "shapes", i, "inputLen"],
          message:
            `input ${shape.inputLen} + output ${shape.outputLen} = ${total} tokens exceed the max ` +
            `context of variant ${v} (maxModelLen ${max})`,
        });
      }
    }
  });
  for (const v of benchmarked) {
    const a = m.variants[v]!.autoscaling;
    if (a && b.replicas > a.maxReplicas) {
      out.push({
        path: ["replicas"],
        message: `expected at most the maxReplicas of variant ${v} (${a.maxReplicas}), got ${b.replicas}`,
      });
    }
    // The hold sets the count exactly (KEDA paused-replicas): below the floor it would take serving
    // capacity away from the variant's users for the whole run.
    if (a && b.replicas < a.minReplicas) {
      out.push({
        path: ["replicas"],
        message:
          `expected at least the minReplicas of variant ${v} (${a.minReplicas}), got ${b.replicas}: ` +
          `a run holds it at exactly that many replicas`,
      });
    }
  }
  return out;
}
