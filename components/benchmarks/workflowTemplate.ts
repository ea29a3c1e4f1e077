/**
 * The benchmark WorkflowTemplate: one parameterised template for every variant (a variant's facts are
 * data the plan step reads from settings.json, so N near-identical templates would only multiply what
 * must stay in step). A run benchmarks one variant or a list (`variants`), each with the whole
 * scenario matrix, one variant at a time:
 *
 *   plan ─ for each variant: [resume ─ hold ─ for each pending scenario: [ready ─ bench ─ record]] ─ report
 *                             └ exit hook: release
 *
 * - resume lists the scenarios the run id has no record of, so a retry or a resubmission of the same
 *   run repeats none that finished; hold pauses the variant's KEDA scaler at the run's replicas, and
 *   the exit hook of the variant's sub-DAG removes the pause on every outcome (success, failure,
 *   `argo stop`; not `argo terminate`, which skips hooks: docs/operations.md says how to release).
 * - each scenario is one retry unit (Always, with backoff): when the server is lost mid-scenario
 *   (SPOT interruption) its requests fail, record refuses the attempt (exit 3), and the retry waits
 *   for the variant to serve again before measuring anew. Each scenario's record is uploaded as soon
 *   as it completes.
 * - one pod at a time (workflow parallelism 1) and one run at a time (a mutex): runs never compete
 *   for a variant or for the namespace's quota.
 */
import type { BenchmarksConfig } from "../config/benchmarks";
import { benchmarkNames, modelCache } from "./settings";
import {
  clientStep,
  clientVariantParams,
  holdStep,
  planStep,
  readyStep,
  recordStep,
  releaseStep,
  reportStep,
  resumeStep,
  type Template,
} from "./workflowSteps";
import type { Settings } from "./program/results.mts";
import { partOf } from "../platform/registry";
import { workloadLabels } from "../platform/scheduling";

/** Passes a template's inputs of these names through to a task of the same names. */
const passInputs = (...names: string[]) => ({
  parameters: names.map((name) => ({ name, value: `{{inputs.parameters.${name}}}` })),
});
const inputs = (...names: string[]) => ({ parameters: names.map((name) => ({ name })) });

/** A variant's facts, from the plan step's item down to every step that needs them. */
const variantParams = [
  ...clientVariantParams,
  "deployment",
  "scaled-object",
  "replicas",
  "ready-above",
];
/** A scenario's values, from the resume step's item. */
const scenarioParams = [
  "scenario",
  "seed",
  "input-len",
  "output-len",
  "num-prompts",
  "request-rate",
  "max-concurrency",
  "prompt-set",
];

/** A task status that lets the record step run whatever became of a client step. */
const finished = (task: string) =>
  ["Succeeded", "Failed", "Errored", "Skipped", "Omitted"].map((s) => `${task}.${s}`).join(" || ");

/** main: plan, then each variant in turn, then the report, whatever became of the variants. */
function mainDag(): Template {
  return {
    name: "main",
    parallelism: 1,
    dag: {
      tasks: [
        { name: "plan", template: "plan" },
        {
          name: "variants",
          depends: "plan",
          template: "variant",
          withParam: "{{tasks.plan.outputs.parameters.variants}}",
          arguments: {
            parameters: variantParams.map((name) => ({ name, value: `{{item.${name}}}` })),
          },
        },
        {
          name: "report",
          depends: ["Succeeded", "Failed", "Errored", "Skipped"]
            .map((s) => `variants.${s}`)
            .join(" || "),
          template: "report",
          arguments: {
            parameters: [{ name: "run-id", value: "{{tasks.plan.outputs.parameters.run-id}}" }],
          },
        },
      ],
    },
  };
}

/**
 * variant: the variant's run with its release as an exit hook. The hook sits on a task of this
 * template (not on the loop in `main`), so its arguments are this template's resolved inputs.
 */
function variantDag(): Template {
  return {
    name: "variant",
    inputs: inputs(...variantParams),
    dag: {
      tasks: [
        {
          name: "run",
          template: "variant-run",
          arguments: passInputs(...variantParams),
          hooks: {
            exit: { template: "release-if-held", arguments: passInputs("scaled-object") },
          },
        },
      ],
    },
  };
}

/** A variant with a fixed replica count has no scaler to pause or release. */
const autoscaled = "'{{inputs.parameters.scaled-object}}' != ''";

/** release-if-held: remove the pause of an autoscaled variant. */
function releaseIfHeldDag(): Template {
  return {
    name: "release-if-held",
    inputs: inputs("scaled-object"),
    dag: {
      tasks: [
        {
          name: "release",
          template: "release",
          when: autoscaled,
          arguments: passInputs("scaled-object"),
        },
      ],
    },
  };
}

/** variant-run: what is left to do, hold the variant if anything is, then each scenario in turn. */
function variantRunDag(): Template {
  return {
    name: "variant-run",
    parallelism: 1,
    inputs: inputs(...variantParams),
    dag: {
      tasks: [
        { name: "resume", template: "resume", arguments: passInputs("variant", "run-id") },
        {
          name: "hold",
          depends: "resume",
          template: "hold",
          when: `{{tasks.resume.outputs.parameters.pending-count}} > 0 && ${autoscaled}`,
          arguments: passInputs("scaled-object", "replicas"),
        },
        {
          name: "scenarios",
          depends: "hold",
          template: "scenario",
          withParam: "{{tasks.resume.outputs.parameters.pending}}",
          arguments: {
            parameters: [
              ...passInputs(...variantParams).parameters,
              ...scenarioParams.map((name) => ({ name, value: `{{item.${name}}}` })),
            ],
          },
        },
      ],
    },
  };
}

/**
 * scenario: one retry unit. `{{retries}}` is this attempt's number (0-based), in the client's result,
 * its S3 key and the record.
 */
function scenarioDag(b: Pick<BenchmarksConfig, "retries">): Template {
  const client = (name: string, template: string, when: string) => ({
    name,
    depends: "ready",
    template,
    when,
    arguments: {
      parameters: [
        ...passInputs(
          ...clientVariantParams,
          ...scenarioParams.filter((p) => p !== "prompt-set" || template !== "bench"),
        ).parameters,
        { name: "attempt", value: "{{retries}}" },
      ],
    },
  });
  const promptSet = "'{{inputs.parameters.prompt-set}}'";
  return {
    name: "scenario",
    inputs: inputs(...variantParams, ...scenarioParams),
    retryStrategy: {
      limit: b.retries,
      retryPolicy: "Always",
      backoff: { duration: "1m", factor: 2, cap: "10m" },
    },
    dag: {
      tasks: [
        { name: "ready", template: "ready", arguments: passInputs("deployment", "ready-above") },
        client("bench", "bench", `${promptSet} == ''`),
        client("bench-prompt-set", "bench-prompt-set", `${promptSet} != ''`),
        {
          name: "record",
          depends: `(${finished("bench")}) && (${finished("bench-prompt-set")})`,
          template: "record",
          arguments: {
            parameters: [
              ...passInputs("variant", "run-id", "scenario").parameters,
              { name: "attempt", value: "{{retries}}" },
              { name: "bench-status", value: "{{tasks.bench.status}}" },
              { name: "prompt-set-bench-status", value: "{{tasks.bench-prompt-set.status}}" },
            ],
          },
        },
      ],
    },
  };
}

/** The WorkflowTemplate's spec. */
export function benchmarkWorkflowSpec(b: BenchmarksConfig, settings: Settings) {
  const servable = Object.keys(settings.variants);
  return {
    entrypoint: "main",
    arguments: {
      parameters: [
        {
          name: "variants",
          value: JSON.stringify(settings.defaultVariants),
          description: `Variants to benchmark: a JSON list or comma-separated names of ${servable.join(", ")}.`,
        },
        {
          name: "run-id",
          value: "",
          description:
            "Where results go (benchmarks/<variant>/<run id>/). Empty: the workflow's name. Submit " +
            "again with the same run id to resume a run: recorded scenarios are skipped.",
        },
      ],
    },
    serviceAccountName: benchmarkNames.serviceAccounts.artifacts,
    nodeSelector: workloadLabels.cpu,
    // Every pod runs as the model cache's owner (the vLLM user), which reads the tokenizer from it.
    securityContext: {
      runAsNonRoot: true,
      runAsUser: modelCache.user.uid,
      runAsGroup: modelCache.user.gid,
      seccompProfile: { type: "RuntimeDefault" },
    },
    podMetadata: {
      labels: {
        app: benchmarkNames.app,
        "app.kubernetes.io/component": "benchmark",
        "app.kubernetes.io/part-of": partOf,
      },
      // A benchmark pod on a CPU node keeps that node: the cluster autoscaler does not drain it.
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
    },
    parallelism: 1,
    synchronization: { mutexes: [{ name: benchmarkNames.template }] },
    podGC: { strategy: "OnPodSuccess" },
    ttlStrategy: { secondsAfterCompletion: 7 * 24 * 3600 },
    templates: [
      mainDag(),
      variantDag(),
      releaseIfHeldDag(),
      variantRunDag(),
      scenarioDag(b),
      planStep(),
      resumeStep(),
      holdStep(),
      releaseStep(),
      readyStep(b.readyTimeoutMinutes),
      clientStep("random", b.client, b.scenarioTimeoutMinutes),
      clientStep("prompt-set", b.client, b.scenarioTimeoutMinutes),
      recordStep(),
      reportStep(servable),
    ],
  };
}
