/**
 * The cold-start budget: how long a model server takes from a scale-up to serving, predicted from its
 * parts before anything is deployed. Like the price table (components/cost/prices.ts), every figure is
 * a named assumption with its source and the date it was read; none was measured on this platform yet
 * (`measured: false`), so replace them with the measured phases once a GPU stack has run (docs/
 * operations.md, "Cold start"). `coldStartBudget` is pure arithmetic over them and a variant's
 * settings.
 */

/** One figure the budget rests on. */
export interface Assumption {
  readonly value: number;
  readonly unit: string;
  readonly source: string;
  /** When the source was read. */
  readonly asOf: string;
  /** Measured on this platform (true), or taken from a published figure or assumed (false). */
  readonly measured: boolean;
}

const read = "2026-12-06";
const assumed = (value: number, unit: string, source: string): Assumption => ({
  value,
  unit,
  source,
  asOf: read,
  measured: false,
});

/** The figures, by name. */
export const coldStartAssumptions = {
  nodeReadySeconds: assumed(
    180,
    "s",
    "pending pod to a Ready GPU node advertising nvidia.com/gpu: cluster-autoscaler scan (10 s) + SPOT " +
      "launch + AL2023 NVIDIA boot and join (~70-80 s for CPU types, aws/karpenter-provider-aws#6128, " +
      "2024-05; GPU types boot slower, awslabs/amazon-eks-ami#1099) + device plugin; not measured here",
  ),
  vllmImageCompressedGiB: assumed(
    12,
    "GiB",
    "vllm/vllm-openai compressed size 'around 12 GB' (vllm-project/vllm#27154, 2025-10); no figure for v0.29.0",
  ),
  vllmImageUnpackedGiB: assumed(
    28.6,
    "GiB",
    "vllm/vllm-openai unpacked size 28.6 GB (vllm-project/vllm PR #22377, 2025-12); no figure for v0.29.0",
  ),
  plainPullMiBs: assumed(
    50,
    "MiB/s",
    "containerd's default pull (few layers at a time, one gzip stream each): 'standard pulls of 15-20 GB " +
      "take 4-6 minutes per instance' (AWS Machine Learning blog on SOCI for DLAMI/DLC, 2026-06)",
  ),
  networkEfficiency: assumed(
    0.8,
    "share",
    "share of an instance's nominal (burst) network bandwidth one bulk download achieves; assumed",
  ),
  streamerReaderMiBs: assumed(
    110,
    "MiB/s",
    "Run:ai Model Streamer from S3 per concurrent reader: 15 GB in 28.24 s with 4 readers, 8.45 s with 16 " +
      "(run-ai/runai-model-streamer docs/src/benchmarks.md, 2024-10, streamer 0.6.0, g5.12xlarge)",
  ),
  hubDownloadMiBs: assumed(
    60,
    "MiB/s",
    "vLLM's own Hugging Face Hub download through NAT, one file at a time; assumed, no source read",
  ),
  efsReadMiBs: assumed(
    300,
    "MiB/s",
    "safetensors load from EFS Elastic throughput by one client (the per-client maximum is 1,500 MiB/s, " +
      "docs.aws.amazon.com/efs/latest/ug/performance.html); a fifth of it assumed",
  ),
  initSeconds: assumed(
    5,
    "s",
    "the server's init container (wait for staged weights: Python start, web-identity credentials, one " +
      "S3 listing; or the LoRA server's adapter directory); assumed",
  ),
  engineStartSeconds: assumed(
    30,
    "s",
    "vLLM engine start without compilation (imports, workers, memory profiling, KV cache): a warm 0.5B " +
      "engine start took 30.5 s with vLLM 0.28.0 (NovaSky-AI/SkyRL PR #2138, 2026-09)",
  ),
  compileMissSeconds: assumed(
    52,
    "s",
    "torch.compile without a cache hit: Dynamo 10 s + Inductor 42 s for Llama-3.1-8B on L40S " +
      "(tensorfuse blog, 2025-09-01); A10G and L4 assumed no faster",
  ),
  compileHitSeconds: assumed(
    23,
    "s",
    "torch.compile with the compile cache hit: Dynamo 10 s + cached Inductor 13 s (same source); vLLM's " +
      "AOT cache (torch >= 2.10) also skips Dynamo, not counted",
  ),
  cudaGraphSeconds: assumed(
    54,
    "s",
    "CUDA graph capture at vLLM's default capture sizes (tensorfuse blog, 2025-09-01); graphs are never " +
      "cached, every start captures them",
  ),
} as const satisfies Record<string, Assumption>;

export type ColdStartAssumptions = {
  readonly [K in keyof typeof coldStartAssumptions]: Assumption;
};

/**
 * Nominal network bandwidth in Gbit/s ("up to" figures are bursts) of the GPU instance types
 * components/platform/gpuInstances.ts allows, from the EC2 accelerated-computing instance
 * specifications as known to the author on 2026-12-06 (not re-read offline).
 */
/** G5 and G6 share one size ladder, and the same network figures on it. */
const g5g6Network = {
  xlarge: 10,
  "2xlarge": 10,
  "4xlarge": 25,
  "8xlarge": 25,
  "12xlarge": 40,
  "16xlarge": 25,
  "24xlarge": 50,
  "48xlarge": 100,
};
const networkGbpsBySize: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  g4dn: { xlarge: 25, "2xlarge": 25, "4xlarge": 25, "8xlarge": 50, "12xlarge": 50, "16xlarge": 50 },
  g5: g5g6Network,
  g6: g5g6Network,
  g6e: {
    xlarge: 20,
    "2xlarge": 20,
    "4xlarge": 20,
    "8xlarge": 25,
    "12xlarge": 100,
    "16xlarge": 35,
    "24xlarge": 200,
    "48xlarge": 400,
  },
  p4d: { "24xlarge": 400 },
  p5: { "48xlarge": 3200 },
};

/** Nominal network bandwidth of an instance type in Gbit/s; an unknown type is an error naming it. */
export function networkGbps(instanceType: string): number {
  const [family, size] = instanceType.split(".");
  const gbps = networkGbpsBySize[family ?? ""]?.[size ?? ""];
  if (gbps === undefined) {
    throw new Error(`no network bandwidth for ${instanceType} in components/platform/coldStart.ts`);
  }
  return gbps;
}

/**
 * Probe periods of the model servers (components/models/modelServer.ts): the startup probe's failure
 * threshold is a variant's `startupTimeoutSeconds` over its period; Ready follows serving by up to one
 * readiness period.
 */
export const modelProbePeriods = { startupSeconds: 10, readinessSeconds: 10 } as const;

/** What a variant's start depends on, as plain values. */
export interface ColdStartInputs {
  /** Instance types of its GPU group: the slowest network among them is assumed. */
  readonly instanceTypes: readonly string[];
  /** Weights as stored (config `footprint.weightsGiB`). */
  readonly weightsGiB: number;
  /** Streamed from the model store, or downloaded from the Hub into the EFS cache. */
  readonly weightsFrom: "store" | "hub";
  readonly streamerConcurrency: number;
  /** SOCI parallel pull on the group's nodes. */
  readonly fastImagePull: boolean;
  readonly rootVolumeThroughputMiBs: number;
  /** The compile cache survives the pod (on EFS). */
  readonly compileCache: boolean;
  /** Readiness probe period: Ready follows serving by up to one period. */
  readonly readinessPeriodSeconds: number;
}

/** Seconds on a first start (nothing cached) and on a restart (caches warm). */
export interface Span {
  readonly first: number;
  readonly restart: number;
}

/** Where a phase counts: the server process, the pod, or only a start that needs a new node. */
export type PhaseScope = "server" | "pod" | "node";

export interface Phase {
  readonly name: string;
  readonly scope: PhaseScope;
  readonly seconds: Span;
  /** How it was computed, with the assumptions' values. */
  readonly basis: string;
}

export interface ColdStartBudget {
  readonly phases: readonly Phase[];
  /** Container start to `/health` answering: what the startup probe must allow. */
  readonly serverStart: Span;
  /** Pod scheduled to Ready: what the start-time recording rule measures. */
  readonly podStart: Span;
  /** Pending pod to Ready when a GPU node must be launched first (scale from zero, SPOT loss). */
  readonly scaleUp: Span;
}

const mibPerGiB = 1024;
/** MiB/s of a network link in Gbit/s. */
const mibs = (gbps: number) => (gbps * 1e9) / 8 / 2 ** 20;
const round = (s: number) => Math.ceil(s);
const same = (s: number): Span => ({ first: round(s), restart: round(s) });
const fmt = (n: number) => String(Number(n.toFixed(1)));

/** The predicted start of one variant on one GPU group, phase by phase. Pure. */
export function coldStartBudget(
  x: ColdStartInputs,
  a: ColdStartAssumptions = coldStartAssumptions,
): ColdStartBudget {
  if (x.instanceTypes.length === 0) throw new Error("cold-start budget: no instance types");
  for (const key of ["weightsGiB", "streamerConcurrency", "rootVolumeThroughputMiBs"] as const) {
    if (!(x[key] > 0)) throw new Error(`cold-start budget: ${key} must be above 0, got ${x[key]}`);
  }
  const slowest = x.instanceTypes.reduce((s, t) => (networkGbps(t) < networkGbps(s) ? t : s));
  const net = mibs(networkGbps(slowest)) * a.networkEfficiency.value;
  const phases: Phase[] = [
    {
      name: "node",
      scope: "node",
      seconds: same(a.nodeReadySeconds.value),
      basis: `GPU node launched, joined and advertising its GPU (assumed ${a.nodeReadySeconds.value} s)`,
    },
    imagePhase(x, a, net, slowest),
    {
      name: "init",
      scope: "pod",
      seconds: same(a.initSeconds.value),
      basis: `init containers (assumed ${a.initSeconds.value} s)`,
    },
    weightsPhase(x, a, net, slowest),
    {
      name: "engine",
      scope: "server",
      seconds: same(a.engineStartSeconds.value),
      basis: `vLLM engine start (assumed ${a.engineStartSeconds.value} s)`,
    },
    {
      name: "compile",
      scope: "server",
      seconds: {
        first: round(a.compileMissSeconds.value),
        restart: round(x.compileCache ? a.compileHitSeconds.value : a.compileMissSeconds.value),
      },
      basis: x.compileCache
        ? `torch.compile ${a.compileMissSeconds.value} s, ${a.compileHitSeconds.value} s from the shared cache`
        : `torch.compile ${a.compileMissSeconds.value} s on every start (no shared compile cache)`,
    },
    {
      name: "cuda-graphs",
      scope: "server",
      seconds: same(a.cudaGraphSeconds.value),
      basis: `CUDA graph capture (assumed ${a.cudaGraphSeconds.value} s, never cached)`,
    },
    {
      name: "readiness",
      scope: "pod",
      seconds: same(x.readinessPeriodSeconds),
      basis: `up to one readiness period (${x.readinessPeriodSeconds} s)`,
    },
  ];
  const total = (scopes: readonly PhaseScope[]): Span => {
    const of = phases.filter((p) => scopes.includes(p.scope));
    return {
      first: of.reduce((n, p) => n + p.seconds.first, 0),
      restart: of.reduce((n, p) => n + p.seconds.restart, 0),
    };
  };
  return {
    phases,
    serverStart: total(["server"]),
    podStart: total(["server", "pod"]),
    scaleUp: total(["server", "pod", "node"]),
  };
}

/** Image pull on a new node: parallel pull is bound by the slower of download and unpacking to disk. */
function imagePhase(x: ColdStartInputs, a: ColdStartAssumptions, net: number, type: string): Phase {
  const packed = a.vllmImageCompressedGiB.value * mibPerGiB;
  const unpacked = a.vllmImageUnpackedGiB.value * mibPerGiB;
  if (!x.fastImagePull) {
    return {
      name: "image",
      scope: "pod",
      seconds: same(packed / a.plainPullMiBs.value),
      basis: `${a.vllmImageCompressedGiB.value} GiB pulled at ${a.plainPullMiBs.value} MiB/s (plain containerd pull)`,
    };
  }
  const download = packed / net;
  const unpack = unpacked / x.rootVolumeThroughputMiBs;
  return {
    name: "image",
    scope: "pod",
    seconds: same(Math.max(download, unpack)),
    basis:
      `parallel pull: ${a.vllmImageCompressedGiB.value} GiB over ${type}'s network (${fmt(net)} MiB/s) ` +
      `and ${a.vllmImageUnpackedGiB.value} GiB unpacked to a ${x.rootVolumeThroughputMiBs} MiB/s root volume, the slower of the two`,
  };
}

/** Weights into GPU memory: streamed from S3, or (the Hub fallback) downloaded once then read from EFS. */
function weightsPhase(
  x: ColdStartInputs,
  a: ColdStartAssumptions,
  net: number,
  type: string,
): Phase {
  const mib = x.weightsGiB * mibPerGiB;
  if (x.weightsFrom === "store") {
    const readers = x.streamerConcurrency * a.streamerReaderMiBs.value;
    const rate = Math.min(net, readers);
    return {
      name: "weights",
      scope: "server",
      seconds: same(mib / rate),
      basis:
        `${x.weightsGiB} GiB streamed from S3 at ${fmt(rate)} MiB/s (the lower of ${x.streamerConcurrency} readers × ` +
        `${a.streamerReaderMiBs.value} MiB/s and ${type}'s network ${fmt(net)} MiB/s)`,
    };
  }
  const fromEfs = mib / a.efsReadMiBs.value;
  return {
    name: "weights",
    scope: "server",
    seconds: { first: round(mib / a.hubDownloadMiBs.value + fromEfs), restart: round(fromEfs) },
    basis:
      `Hub fallback: ${x.weightsGiB} GiB downloaded at ${a.hubDownloadMiBs.value} MiB/s into EFS on a first start, ` +
      `then read from EFS at ${a.efsReadMiBs.value} MiB/s`,
  };
}
