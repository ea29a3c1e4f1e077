/**
 * What the benchmark workflow knows about the platform, decided at deploy time from the registry and
 * the stack config: the variants it may benchmark (their Services, models, replicas, max context), the
 * scenario matrix, the SLO, and where things are in its pods. The program reads it as settings.json.
 */
import { benchmarkScenarios, servingVariants, type BenchmarksConfig } from "../config/benchmarks";
import { replicaRange, variantConfig, type ModelsConfig } from "../config/models";
import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import {
  hfHome,
  hubTokenizerPath,
  modelCacheClaim,
  modelCacheMount,
  tokenizerDir,
  vllmUser,
} from "../platform/modelCacheLayout";
import { modelNamespace, modelServerName, modelUrl, serviceDesign } from "../platform/registry";
import type { Settings, VariantTarget } from "./program/results.mts";

/**
 * The bucket results go to: the eval team's `results` bucket (registry.ts, eval-api), under one prefix
 * the benchmark identity alone may write.
 */
export const resultsBucket = serviceDesign["eval-api"].bucket!.name;
export const resultsPrefix = "benchmarks";

/** Labels and names of the benchmark's objects and pods (NetworkPolicies and tests select by them). */
export const benchmarkNames = {
  app: "benchmark",
  /** The WorkflowTemplate (and the CronWorkflow running it). */
  template: "benchmark",
  /** Which step a pod runs: plan, resume, scale, bench, record, report. */
  stepLabel: "llmplatform.io/benchmark-step",
  /** Pods that read or write the results bucket (their executor moves S3 artifacts). */
  s3Label: "llmplatform.io/benchmark-s3",
  serviceAccounts: { artifacts: "benchmark", scaler: "benchmark-scaler" },
  programConfigMap: "benchmark-program",
  /** Argo's well-known name for a namespace's artifact repositories. */
  artifactRepositories: "artifact-repositories",
} as const;

/**
 * The shared model cache as the model servers mount it (models/modelServer.ts, modelServing.ts): the
 * client reads the tokenizer and prompt sets from it, read-only, as the same user. A store variant's
 * tokenizer is the directory its staging Job publishes, a Hub variant's the snapshot its server
 * downloaded (platform/modelCacheLayout.ts).
 */
export const modelCache = {
  claim: modelCacheClaim,
  mountPath: modelCacheMount,
  hfHome,
  user: vllmUser,
};

/** Where the program reads and writes inside a step's pod. */
export const programPaths = {
  dir: "/program",
  settings: "/program/settings.json",
  work: "/work",
  out: "/work/out",
  report: "/work/out/report",
  previous: "/work/previous",
  raw: "/work/in/raw.json",
  runs: "/work/runs",
};

/** The program's files, shipped as written (ConfigMap keys = file names). */
export const programFiles = ["main.mts", "plan.mts", "results.mts", "report.mts"] as const;

/** One servable variant as a run reaches it. */
function target(m: ModelsConfig, variant: string, heldReplicas: number): VariantTarget {
  const v = variantConfig(m, variant);
  return {
    url: modelUrl(variant),
    model: v.model,
    servedModelName: v.servedModelName,
    tokenizer:
      v.weightsFrom === "store"
        ? tokenizerDir(v.model, v.revision)
        : hubTokenizerPath(v.model, v.revision),
    loraModules: v.lora?.adapters ?? [],
    deployment: modelServerName(variant),
    scaledObject: v.autoscaling ? modelServerName(variant) : null,
    replicas: v.autoscaling ? heldReplicas : replicaRange(v).max,
    minReplicas: replicaRange(v).min,
    maxModelLen: v.maxModelLen,
  };
}

/** The program's settings: every serving variant may be requested; the config's list is the default. */
export function benchmarkSettings(b: BenchmarksConfig, m: ModelsConfig): Settings {
  return {
    namespace: modelNamespace,
    prometheusUrl: httpUrl(chartEndpoints.prometheus),
    slo: { ttftP95Ms: b.slo.ttftP95Ms },
    variants: Object.fromEntries(servingVariants(m).map((v) => [v, target(m, v, b.replicas)])),
    defaultVariants: [...b.variants],
    scenarios: benchmarkScenarios(b),
    modelCacheRoot: modelCache.mountPath,
    readyTimeoutMinutes: b.readyTimeoutMinutes,
  };
}
