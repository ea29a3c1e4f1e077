/**
 * The leaf templates of the benchmark workflow, each a pod: the program's steps (Node.js), the
 * benchmark client (`vllm bench serve` in the variant's own vLLM image), and the Kubernetes steps that
 * hold a variant, release it and wait for it to serve. workflowTemplate.ts wires them into the DAG.
 */
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { modelNamespace } from "../platform/registry";
import { images } from "../platform/versions";
import { benchmarkNames, modelCache, programPaths, resultsPrefix } from "./settings";

/** An Argo template, as plain data (validated against Argo's schema by the tests). */
export type Template = Record<string, unknown>;

const param = (name: string) => `{{inputs.parameters.${name}}}`;
const inputs = (...names: string[]) => ({ parameters: names.map((name) => ({ name })) });

/** An S3 key under one variant's run: `benchmarks/<variant>/<run id>/<file>`. */
export const runKey = (file: string) =>
  `${resultsPrefix}/${param("variant")}/${param("run-id")}/${file}`;

/** A file artifact stored as is (Argo tars and gzips artifacts unless told not to). */
const s3File = (name: string, path: string, key: string, optional = true) => ({
  name,
  path,
  optional,
  archive: { none: {} },
  s3: { key },
});

/** Labels of a step's pods: which step, and whether its executor moves S3 artifacts. */
const stepMetadata = (step: string, s3: boolean) => ({
  labels: { [benchmarkNames.stepLabel]: step, ...(s3 ? { [benchmarkNames.s3Label]: "true" } : {}) },
});

/** Retries of a step whose pod was lost (node drained, evicted): it only reads and writes files. */
const onPodLoss = { limit: 2, retryPolicy: "OnError", backoff: { duration: "10s", factor: 2 } };

const workVolume = { name: "work", emptyDir: { sizeLimit: "1Gi" } };
const programVolume = {
  name: "program",
  configMap: { name: benchmarkNames.programConfigMap, defaultMode: 0o444 },
};

/**
 * A step of the program (components/benchmarks/program/main.mts) in the pinned Node.js image, as the
 * `benchmark` service account (its IRSA role moves the S3 artifacts).
 */
function programStep(
  name: string,
  p: {
    inputs: Record<string, unknown>;
    env: Record<string, string>;
    outputs?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  },
): Template {
  return {
    name,
    metadata: stepMetadata(name, true),
    inputs: p.inputs,
    ...(p.outputs ? { outputs: p.outputs } : {}),
    ...p.extra,
    container: {
      name: "main",
      image: images.node,
      imagePullPolicy: "IfNotPresent",
      command: ["node", `${programPaths.dir}/main.mts`, name],
      env: Object.entries({
        SETTINGS_FILE: programPaths.settings,
        OUT_DIR: programPaths.out,
        WORKFLOW_NAME: "{{workflow.name}}",
        ...p.env,
      }).map(([k, value]) => ({ name: k, value })),
      resources: {
        requests: { cpu: "50m", memory: "96Mi" },
        limits: { cpu: "500m", memory: "256Mi" },
      },
      securityContext: restrictedContainerSecurityContext(),
      terminationMessagePolicy: "FallbackToLogsOnError",
      volumeMounts: [
        { name: "program", mountPath: programPaths.dir, readOnly: true },
        { name: "work", mountPath: programPaths.work },
      ],
    },
    volumes: [programVolume, workVolume],
  };
}

const fromFile = (name: string, file: string, extra: Record<string, unknown> = {}) => ({
  name,
  valueFrom: { path: `${programPaths.out}/${file}`, ...extra },
});

/** plan: checks the submission, resolves the run id, lists the variants. */
export function planStep(): Template {
  return programStep("plan", {
    inputs: {},
    env: { VARIANTS: "{{workflow.parameters.variants}}", RUN_ID: "{{workflow.parameters.run-id}}" },
    // Defaults keep a refused submission's own message as the step's failure.
    outputs: {
      parameters: [
        fromFile("run-id", "run-id", { default: "" }),
        fromFile("variants", "variants.json", { default: "[]" }),
      ],
    },
    extra: { retryStrategy: onPodLoss },
  });
}

/** resume: the variant's scenarios no earlier attempt of the run recorded (its S3 run directory). */
export function resumeStep(): Template {
  return programStep("resume", {
    inputs: {
      ...inputs("variant", "run-id"),
      artifacts: [s3File("previous", programPaths.previous, runKey("").replace(/\/$/, ""))],
    },
    env: { VARIANT: param("variant"), RUN_ID: param("run-id"), RUN_DIR: programPaths.previous },
    outputs: {
      parameters: [fromFile("pending", "pending.json"), fromFile("pending-count", "pending-count")],
    },
    extra: { retryStrategy: onPodLoss },
  });
}

/** The figures a recorded scenario reports as Prometheus gauges (record.mts `metricFiles`). */
export const recordedMetrics: readonly { name: string; file: string; help: string; gpu?: true }[] =
  [
    {
      name: "output_tokens_per_second",
      file: "output-tokens-per-second",
      help: "Output tokens per second",
    },
    {
      name: "requests_per_second",
      file: "requests-per-second",
      help: "Completed requests per second",
    },
    { name: "ttft_p50_seconds", file: "ttft-p50-seconds", help: "Median time to first token" },
    { name: "ttft_p95_seconds", file: "ttft-p95-seconds", help: "p95 time to first token" },
    { name: "ttft_p99_seconds", file: "ttft-p99-seconds", help: "p99 time to first token" },
    { name: "tpot_p95_seconds", file: "tpot-p95-seconds", help: "p95 time per output token" },
    { name: "itl_p95_seconds", file: "itl-p95-seconds", help: "p95 inter-token latency" },
    {
      name: "e2e_latency_p95_seconds",
      file: "e2e-p95-seconds",
      help: "p95 end-to-end request latency",
    },
    { name: "failed_requests", file: "failed-requests", help: "Requests that failed" },
    {
      name: "gpu_utilization_percent",
      file: "gpu-utilization-percent",
      help: "Average GPU utilisation over the scenario (DCGM)",
      gpu: true,
    },
    {
      name: "gpu_memory_used_bytes",
      file: "gpu-memory-used-bytes",
      help: "Highest GPU memory in use over the scenario (DCGM)",
      gpu: true,
    },
    {
      name: "completed_timestamp_seconds",
      file: "completed-at",
      help: "When the scenario's measurement ended (Unix time)",
    },
  ];

/** Prefix of the record step's gauges; Argo's exporter adds `argo_workflows_` in front. */
export const metricPrefix = "benchmark_";

/**
 * Labels of the record step's gauges. `run_id` lets the Benchmarks dashboard show, per variant, the
 * scenarios of its latest run only (the run whose newest `completed_timestamp_seconds` is the
 * latest), never a later partial run's scenarios mixed with an older run's. It adds one series per
 * gauge, variant and scenario for each run: runs are rare (on demand, or a CronWorkflow off by
 * default), and the controller drops a series `metricsTTL` after its last update (its `runCustomGC`
 * ticks every TTL, so 1-2 TTLs; components/addons/argoWorkflows.ts), so it exports only the runs of
 * the last week or two. Argo substitutes `{{inputs.parameters.*}}` in labels (v4.0.6
 * `computeMetrics`) and allows only alphanumerics and `_` in label keys.
 */
export const recordedMetricLabels = {
  variant: param("variant"),
  scenario: param("scenario"),
  run_id: param("run-id"),
} as const;

/**
 * record: the attempt's vLLM result becomes the scenario's record in S3 (or a note of why the attempt
 * does not count, and exit 3), with GPU use from DCGM over the scenario's window; its figures become
 * Prometheus gauges labelled by variant, scenario and run id (the Benchmarks dashboard's).
 */
export function recordStep(): Template {
  const measured = recordedMetrics.map((m) => ({
    name: `${metricPrefix}${m.name}`,
    // Unchanged since the gauges were first emitted: a running controller refuses a metric whose help
    // differs from the one it first registered under that name (v4.0.6 `matchExistingMetric`).
    help: `Benchmark: ${m.help} (latest recorded scenario)`,
    labels: Object.entries(recordedMetricLabels).map(([key, value]) => ({ key, value })),
    when: m.gpu
      ? "{{status}} == Succeeded && {{outputs.parameters.gpu-measured}} == true"
      : "{{status}} == Succeeded",
    gauge: { value: `{{outputs.parameters.${m.file}}}`, realtime: false },
  }));
  return programStep("record", {
    inputs: {
      ...inputs(
        "variant",
        "run-id",
        "scenario",
        "attempt",
        "bench-status",
        "prompt-set-bench-status",
      ),
      artifacts: [
        s3File(
          "raw",
          programPaths.raw,
          runKey(`raw/${param("scenario")}.${param("attempt")}.json`),
        ),
      ],
    },
    env: {
      VARIANT: param("variant"),
      RUN_ID: param("run-id"),
      SCENARIO: param("scenario"),
      ATTEMPT: param("attempt"),
      BENCH_STATUS: param("bench-status"),
      PROMPT_SET_BENCH_STATUS: param("prompt-set-bench-status"),
      RAW_FILE: programPaths.raw,
    },
    outputs: {
      parameters: [
        ...recordedMetrics.map((m) => fromFile(m.file, `metrics/${m.file}`, { default: "0" })),
        fromFile("gpu-measured", "metrics/gpu-measured", { default: "false" }),
      ],
      artifacts: [
        s3File("record", `${programPaths.out}/record.json`, runKey(`${param("scenario")}.json`)),
        s3File(
          "attempt-note",
          `${programPaths.out}/attempt.json`,
          runKey(`attempts/${param("scenario")}.${param("attempt")}.json`),
        ),
      ],
    },
    extra: { metrics: { prometheus: measured } },
  });
}

/**
 * report: every variant's summary and the run's comparison (JSON and Markdown), uploaded under
 * `benchmarks/` (`<variant>/<run id>/summary.json`, `_comparisons/<run id>/comparison.{json,md}`).
 * It reads each servable variant's run directory; those the run did not cover are simply absent.
 */
export function reportStep(servable: readonly string[]): Template {
  return programStep("report", {
    inputs: {
      ...inputs("run-id"),
      artifacts: servable.map((v) =>
        s3File(`run-${v}`, `${programPaths.runs}/${v}`, `${resultsPrefix}/${v}/${param("run-id")}`),
      ),
    },
    env: {
      VARIANTS: "{{workflow.parameters.variants}}",
      RUN_ID: param("run-id"),
      RUNS_DIR: programPaths.runs,
      REPORT_DIR: programPaths.report,
    },
    outputs: {
      artifacts: [
        {
          name: "report",
          path: programPaths.report,
          archive: { none: {} },
          s3: { key: resultsPrefix },
        },
      ],
    },
    extra: { retryStrategy: onPodLoss },
  });
}

/**
 * Environment of the client: vLLM's caches in writable volumes (read-only root filesystem), the
 * tokenizer from the shared model cache only (`HF_HUB_OFFLINE`: no Hugging Face token, no Hub
 * download), results timestamped in UTC.
 */
function clientEnv(): { name: string; value: string }[] {
  const home = "/home/vllm";
  return Object.entries({
    HOME: home,
    HF_HOME: modelCache.hfHome,
    HF_HUB_OFFLINE: "1",
    XDG_CACHE_HOME: `${home}/.cache`,
    XDG_CONFIG_HOME: `${home}/.config`,
    VLLM_CACHE_ROOT: `${home}/.cache/vllm`,
    VLLM_CONFIG_ROOT: `${home}/.config/vllm`,
    NUMBA_CACHE_DIR: "/tmp/numba",
    TMPDIR: "/tmp",
    TZ: "UTC",
    VLLM_NO_USAGE_STATS: "1",
    DO_NOT_TRACK: "1",
  }).map(([name, value]) => ({ name, value }));
}

/**
 * The client's flags: one scenario against the variant's Service, result saved for the record step.
 * The tokenizer comes first (`clientScript` resolves it). `--model` is the served name: with
 * `--tokenizer` given, vLLM's client uses `--model` only as the requests' `model` field (no
 * `--served-model-name`), for the prompts' alignment with the server's `/tokenize` and as the result's
 * `model_id`; a Hub id there would name no model the server knows.
 */
export function clientArgs(dataset: "random" | "prompt-set"): string[] {
  return [
    ...["--tokenizer", param("tokenizer")],
    ...["--backend", "openai", "--endpoint", "/v1/completions"],
    ...["--base-url", param("url"), "--model", param("served-model-name")],
    ...(dataset === "random"
      ? ["--dataset-name", "random"]
      : ["--dataset-name", "custom", "--dataset-path", param("prompt-set")]),
    ...["--input-len", param("input-len"), "--output-len", param("output-len")],
    ...["--num-prompts", param("num-prompts"), "--request-rate", param("request-rate")],
    // The scenario's seed, then the attempt: other prompts for every scenario and every retry.
    ...[
      "--max-concurrency",
      param("max-concurrency"),
      "--seed",
      `${param("seed")}${param("attempt")}`,
    ],
    ...["--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,95,99"],
    // The variant already serves (the readiness step); this only waits for its Service endpoint.
    ...["--ready-check-timeout-sec", "300", "--disable-tqdm"],
    ...[
      "--save-result",
      "--result-dir",
      `${programPaths.work}/out`,
      "--result-filename",
      "raw.json",
    ],
    "--metadata",
    `variant=${param("variant")}`,
    `scenario=${param("scenario")}`,
    `run_id=${param("run-id")}`,
    `attempt=${param("attempt")}`,
  ];
}

/**
 * What runs `vllm bench serve` (POSIX sh, the image's /bin/sh). Its first two arguments are
 * `--tokenizer <path>`: a directory on the model cache is passed on as it is; a file is a Hub cache ref
 * (`refs/<tag>`, a Hub variant pinned to a tag), which holds the commit whose snapshot has the files.
 * A missing tokenizer fails at once, saying who writes it. The rest are the client's flags. A variant
 * that serves LoRA adapters (`LORA_MODULES`, space-separated names) gets `--lora-modules <names>
 * --lora-assignment round-robin`: each request names an adapter in turn instead of the base model
 * (a list Argo cannot expand into separate arguments, hence the script).
 */
export const clientScript = [
  "set -eu",
  'if [ "${1:-}" != --tokenizer ] || [ $# -lt 2 ]; then',
  '  echo "usage: --tokenizer <path on the model cache> <vllm bench serve flags>" >&2',
  "  exit 2",
  "fi",
  "ref=$2",
  "shift 2",
  "tok=$ref",
  'if [ -f "$ref" ]; then tok="${ref%/refs/*}/snapshots/$(cat "$ref")"; fi',
  'if [ ! -d "$tok" ]; then',
  '  echo "no tokenizer at $tok on the model cache: the model staging Job publishes a store' +
    " variant's, a Hub variant's model server downloads it (docs/operations.md)\" >&2",
  "  exit 1",
  "fi",
  'if [ -n "${LORA_MODULES:-}" ]; then',
  "  set -f",
  '  set -- "$@" --lora-modules $LORA_MODULES --lora-assignment round-robin',
  "fi",
  'exec vllm bench serve --tokenizer "$tok" "$@"',
  "",
].join("\n");

/** The variant's facts the client steps take (the variant-level DAGs pass these down). */
export const clientVariantParams = [
  "variant",
  "run-id",
  "url",
  "served-model-name",
  "tokenizer",
  "lora-modules",
];

/**
 * The benchmark client: `vllm bench serve` from the image the variant runs (no new image; its
 * entrypoint is `vllm serve`, so the command is set), on a CPU node, with the variant's tokenizer
 * read-only from the model cache (`clientScript`). Its result is uploaded as
 * `raw/<scenario>.<attempt>.json` even when it failed.
 */
export function clientStep(
  dataset: "random" | "prompt-set",
  client: { cpu: string; memory: string },
  timeoutMinutes: number,
): Template {
  const params = [...clientVariantParams];
  params.push("scenario", "seed");
  params.push("input-len", "output-len", "num-prompts", "request-rate", "max-concurrency");
  params.push("attempt", ...(dataset === "prompt-set" ? ["prompt-set"] : []));
  const compute = { cpu: client.cpu, memory: client.memory };
  return {
    name: dataset === "random" ? "bench" : "bench-prompt-set",
    metadata: stepMetadata("bench", true),
    inputs: inputs(...params),
    outputs: {
      artifacts: [
        s3File(
          "raw",
          `${programPaths.work}/out/raw.json`,
          runKey(`raw/${param("scenario")}.${param("attempt")}.json`),
        ),
      ],
    },
    activeDeadlineSeconds: timeoutMinutes * 60,
    container: {
      name: "main",
      image: images.vllm,
      imagePullPolicy: "IfNotPresent",
      command: ["/bin/sh", "-c", clientScript, "vllm-bench-serve"],
      args: clientArgs(dataset),
      env: [...clientEnv(), { name: "LORA_MODULES", value: param("lora-modules") }],
      resources: { requests: compute, limits: compute },
      securityContext: restrictedContainerSecurityContext(),
      terminationMessagePolicy: "FallbackToLogsOnError",
      volumeMounts: [
        { name: "model-cache", mountPath: modelCache.mountPath, readOnly: true },
        { name: "work", mountPath: programPaths.work },
        { name: "home", mountPath: "/home/vllm" },
        { name: "tmp", mountPath: "/tmp" },
      ],
    },
    volumes: [
      {
        name: "model-cache",
        persistentVolumeClaim: { claimName: modelCache.claim, readOnly: true },
      },
      workVolume,
      { name: "home", emptyDir: { sizeLimit: "2Gi" } },
      { name: "tmp", emptyDir: { sizeLimit: "2Gi" } },
    ],
  };
}

/** KEDA's pause annotation (keda.sh docs: scaling-deployments "Pause autoscaling"). */
export const pausedReplicasAnnotation = "autoscaling.keda.sh/paused-replicas";
/** Which workflow holds a variant (for operators: `kubectl get scaledobject -o yaml`). */
export const heldByAnnotation = "llmplatform.io/benchmark-held-by";

/** A step that acts on one Kubernetes object, as the `benchmark-scaler` service account. */
function kubernetesStep(
  name: string,
  params: string[],
  resource: Record<string, unknown>,
  timeoutSeconds: number,
): Template {
  return {
    name,
    metadata: stepMetadata("scale", false),
    serviceAccountName: benchmarkNames.serviceAccounts.scaler,
    inputs: inputs(...params),
    activeDeadlineSeconds: timeoutSeconds,
    retryStrategy: onPodLoss,
    resource,
  };
}

const scaledObject = (annotations: Record<string, string | null>) =>
  JSON.stringify({
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: param("scaled-object"), namespace: modelNamespace, annotations },
  });

/**
 * hold: pause the variant's autoscaler at the run's replicas (KEDA scales the Deployment to exactly
 * that and stops reacting to load, so the benchmark's own traffic does not add replicas).
 */
export function holdStep(): Template {
  return kubernetesStep(
    "hold",
    ["scaled-object", "replicas"],
    {
      action: "patch",
      mergeStrategy: "merge",
      manifest: scaledObject({
        [pausedReplicasAnnotation]: param("replicas"),
        [heldByAnnotation]: "{{workflow.name}}",
      }),
    },
    120,
  );
}

/** release: remove the pause; the autoscaler takes over again (a min-0 variant idles back to zero). */
export function releaseStep(): Template {
  return kubernetesStep(
    "release",
    ["scaled-object"],
    {
      action: "patch",
      mergeStrategy: "merge",
      manifest: scaledObject({ [pausedReplicasAnnotation]: null, [heldByAnnotation]: null }),
    },
    120,
  );
}

/** ready: wait until the variant's Deployment has the replicas the run needs ready. */
export function readyStep(timeoutMinutes: number): Template {
  return kubernetesStep(
    "ready",
    ["deployment", "ready-above"],
    {
      action: "get",
      manifest: JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: param("deployment"), namespace: modelNamespace },
      }),
      successCondition: `status.readyReplicas > ${param("ready-above")}`,
    },
    timeoutMinutes * 60,
  );
}
