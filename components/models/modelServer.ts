import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { modelServerLabel, modelServerName, partOf, servicePort } from "../platform/registry";
import { type ModelDesign } from "../platform/designs";
import { replicaRange, type ModelVariantConfig } from "../config/models";
import { gpuTaint, nodeGroupLabel, workloadLabels } from "../platform/scheduling";
import { scaledObjectSpec, type Autoscaler } from "./autoscaling";
import { httpProbe, restrictedContainerSecurityContext } from "../lib/k8s/security";
import { modelProbePeriods } from "../platform/coldStart";
import { adaptersDir, hfHome, modelCacheMount, vllmUser } from "../platform/modelCacheLayout";
import { hfTokenDir, hfTokenMount, hfTokenVolume } from "./podParts";
import { vllmArgs } from "./vllmCommand";
import {
  waitForWeightsContainer,
  weightSourceArgs,
  weightSourceEnv,
  weightSourceHostAliases,
  type WeightSource,
} from "./weightSource";

/** Where things live inside a model server pod. */
const modelPaths = {
  cache: modelCacheMount,
  hfHome,
  adapters: adaptersDir,
  home: "/home/vllm",
};

/**
 * Liveness and readiness differ: liveness asks the engine (`/health`), readiness asks that the model
 * is being served (`/v1/models`). The startup probe allows the variant's `startupTimeoutSeconds`
 * (config validation holds it to at least the predicted first start: weights, engine, compilation,
 * CUDA graphs; components/platform/coldStart.ts); its period and the readiness period are the ones the
 * budget assumes.
 */
export const modelProbes = {
  startup: { path: "/health", periodSeconds: modelProbePeriods.startupSeconds, timeoutSeconds: 5 },
  liveness: { path: "/health", periodSeconds: 15, failureThreshold: 3, timeoutSeconds: 5 },
  readiness: {
    path: "/v1/models",
    periodSeconds: modelProbePeriods.readinessSeconds,
    failureThreshold: 3,
    timeoutSeconds: 5,
  },
};

/** The startup probe of a variant: its timeout in whole periods. */
export function startupProbe(v: Pick<ModelVariantConfig, "startupTimeoutSeconds">) {
  const p = modelProbes.startup;
  return { ...p, failureThreshold: Math.ceil(v.startupTimeoutSeconds / p.periodSeconds) };
}

/**
 * Spot interruptions give 2 minutes; the node is drained when the notice arrives. 10 s of preStop lets
 * endpoints drop the pod, then vLLM gets the rest of 60 s to finish in-flight requests: well inside
 * the notice.
 */
export const modelShutdown = { preStopSeconds: 10, terminationGracePeriodSeconds: 60 };

/**
 * Environment: every cache vLLM and its libraries write points into a volume, so the root filesystem
 * stays read-only; the HF token (Hub variants of gated models) is read from a mounted file, never an
 * env value; usage stats are off. With a shared `compileCacheDir`, vLLM's torch.compile cache and
 * Triton's kernel cache live on the EFS cache instead of the pod (see `compileCacheDir`).
 */
function vllmEnv(
  v: ModelVariantConfig,
  source: WeightSource,
  compileCache: string | undefined,
): { name: string; value: pulumi.Input<string> }[] {
  const env: Record<string, pulumi.Input<string>> = {
    HOME: modelPaths.home,
    HF_HOME: modelPaths.hfHome,
    XDG_CACHE_HOME: `${modelPaths.home}/.cache`,
    XDG_CONFIG_HOME: `${modelPaths.home}/.config`,
    VLLM_CACHE_ROOT: `${modelPaths.home}/.cache/vllm`,
    VLLM_CONFIG_ROOT: `${modelPaths.home}/.config/vllm`,
    TRITON_CACHE_DIR: `${modelPaths.home}/.cache/triton`,
    TORCHINDUCTOR_CACHE_DIR: `${modelPaths.home}/.cache/torchinductor`,
    OUTLINES_CACHE_DIR: `${modelPaths.home}/.cache/outlines`,
    NUMBA_CACHE_DIR: "/tmp/numba",
    TMPDIR: "/tmp",
    VLLM_NO_USAGE_STATS: "1",
    DO_NOT_TRACK: "1",
  };
  if (compileCache) {
    env.VLLM_CACHE_ROOT = compileCache;
    env.TRITON_CACHE_DIR = `${compileCache}/triton`;
  }
  if (needsToken(v, source)) env.HF_TOKEN_PATH = `${hfTokenDir}/token`;
  Object.assign(env, weightSourceEnv(source));
  if (v.lora) {
    // Adapters are loaded by name at request time from the shared cache (vLLM's filesystem resolver),
    // so a newly synced adapter needs no restart. vLLM consults resolvers only when runtime LoRA
    // updating is on (serving `_check_model`), which also opens /v1/load_lora_adapter and
    // /v1/unload_lora_adapter. A NetworkPolicy cannot filter paths, so the LoRA server admits only
    // its one client, finetune-api (registry.ts `clientOnly`), not the gateway.
    env.VLLM_ALLOW_RUNTIME_LORA_UPDATING = "True";
    env.VLLM_PLUGINS = "lora_filesystem_resolver";
    env.VLLM_LORA_RESOLVER_CACHE_DIR = modelPaths.adapters;
  }
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** Only a Hub variant of a gated model downloads with the token; a streaming server never sees it. */
function needsToken(v: ModelVariantConfig, source: WeightSource): boolean {
  return v.gated && source.kind === "hub";
}

/**
 * The variant's compile cache on the shared EFS volume: `compile-cache/<vLLM image tag>/<variant>`.
 * vLLM keys each entry by a hash of its version, the engine config (model, dtype, quantization,
 * lengths, `VLLM_*` settings) and the compiler environment, which includes the GPU's name (A10G and L4
 * never share an entry) and the CUDA and Triton versions; Triton keys its kernels by GPU architecture.
 * So one tree would be correct; the version and variant levels keep each upgrade's and each model's
 * entries apart anyway, to delete them as a unit (docs/operations.md) and to keep a bad entry from
 * reaching another variant. A pod cannot know its GPU type when it is declared (a group mixes g5 and
 * g6), so the GPU level stays inside vLLM's hash.
 */
export function compileCacheDir(image: string, variant: string): string {
  const tag = image.split(":").pop() ?? "untagged";
  return `${modelPaths.cache}/compile-cache/${tag}/${variant}`;
}

/** Label saying where a model server's weights come from (`store` or `hub`): its egress follows it. */
export const weightsFromLabel = "llmplatform.io/weights-from";

/** Labels of a model server; `llmplatform.io/model-server` is shared by all four variants. */
function modelServerLabels(p: ModelServerParams): Record<string, string> {
  return {
    app: modelServerName(p.variant),
    component: "model-server",
    team: p.design.team,
    [modelServerLabel]: "true",
    "llmplatform.io/model-variant": p.variant,
    [weightsFromLabel]: p.source.kind,
    "app.kubernetes.io/part-of": partOf,
    environment: p.stack,
  };
}

interface ModelServerParams {
  readonly variant: string;
  /** Its registry entry (registry.ts `models`). */
  readonly design: ModelDesign;
  readonly stack: string;
  readonly image: pulumi.Input<string>;
  readonly config: ModelVariantConfig;
  /** Where its weights come from: the model store, or the Hub (the fallback). */
  readonly source: WeightSource;
  /** Its compile cache on the shared volume (`compileCacheDir`); none keeps it in the pod. */
  readonly compileCache?: string;
  /** GPU node group key (label `llmplatform.io/node-group`). */
  readonly nodeGroup: string;
  readonly cacheClaim: pulumi.Input<string>;
  readonly tokenSecret: pulumi.Input<string>;
  /** The store's streamer account (read-only IRSA) for `store` servers; the plain one for `hub`. */
  readonly serviceAccount: pulumi.Input<string>;
}

/**
 * The LoRA server's init step: vLLM exits at startup when its resolver directory is missing, and
 * nothing else creates it before the first adapter sync. Runs the vLLM image itself (already on the
 * node), as the same user, and only creates the directory.
 */
function adapterDirInitContainer(image: pulumi.Input<string>) {
  return {
    name: "adapters-dir",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["python3", "-c", `import os; os.makedirs("${modelPaths.adapters}", exist_ok=True)`],
    resources: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "100m", memory: "128Mi" },
    },
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [{ name: "model-cache", mountPath: modelPaths.cache }],
  };
}

/**
 * Deployment spec of one vLLM variant: one GPU (limit = request), Guaranteed QoS, SPOT GPU nodes only,
 * never two model pods on one node, non-root with a read-only root filesystem.
 * Updates replace pods in place (maxSurge 0): the GPU pool holds one node per model, and a surge pod
 * could only wait for a node the autoscaler may not be allowed to add.
 * `replicas` is left out when KEDA owns the count (its HPA scales the Deployment; a value here would
 * fight it on every `pulumi up`, and server-side apply reports the field conflict).
 */
function modelServerDeploymentSpec(p: ModelServerParams): k8s.types.input.apps.v1.DeploymentSpec {
  const v = p.config;
  const labels = modelServerLabels(p);
  const compute = { cpu: v.resources.cpu, memory: v.resources.memory, "nvidia.com/gpu": "1" };
  const env = vllmEnv(v, p.source, p.compileCache);
  const { model, flags } = weightSourceArgs(p.source);
  const token = needsToken(v, p.source);
  const initContainers = [
    ...(p.source.kind === "store"
      ? [waitForWeightsContainer(p.image, p.source, modelPaths.home)]
      : []),
    ...(v.lora ? [adapterDirInitContainer(p.image)] : []),
  ];
  const hostAliases = weightSourceHostAliases(p.source);
  return {
    ...(v.autoscaling ? {} : { replicas: v.replicas ?? 0 }),
    revisionHistoryLimit: 3,
    selector: { matchLabels: { app: labels.app! } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    template: {
      metadata: {
        labels,
        annotations: {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(servicePort),
          "prometheus.io/path": "/metrics",
        },
      },
      spec: {
        serviceAccountName: p.serviceAccount,
        automountServiceAccountToken: false,
        // No `<SERVICE>_PORT=tcp://...` variables: vLLM reads VLLM_* ones as its own settings.
        enableServiceLinks: false,
        // A streaming server resolves the regional STS name to the VPC's interface endpoint.
        ...(hostAliases ? { hostAliases } : {}),
        terminationGracePeriodSeconds: modelShutdown.terminationGracePeriodSeconds,
        nodeSelector: { ...workloadLabels.gpu, [nodeGroupLabel]: p.nodeGroup },
        tolerations: [{ key: gpuTaint.key, operator: "Exists", effect: "NoSchedule" }],
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchLabels: { [modelServerLabel]: "true" } },
              },
            ],
          },
        },
        securityContext: {
          runAsNonRoot: true,
          runAsUser: vllmUser.uid,
          runAsGroup: vllmUser.gid,
          seccompProfile: { type: "RuntimeDefault" },
        },
        ...(initContainers.length > 0 ? { initContainers } : {}),
        containers: [
          {
            name: "vllm",
            image: p.image,
            imagePullPolicy: "IfNotPresent",
            args: vllmArgs(v, model, flags),
            env,
            ports: [{ name: "http", containerPort: servicePort, protocol: "TCP" }],
            resources: { requests: compute, limits: compute },
            startupProbe: httpProbe(startupProbe(v)),
            livenessProbe: httpProbe(modelProbes.liveness),
            readinessProbe: httpProbe(modelProbes.readiness),
            lifecycle: { preStop: { sleep: { seconds: modelShutdown.preStopSeconds } } },
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [
              { name: "model-cache", mountPath: modelPaths.cache },
              { name: "home", mountPath: modelPaths.home },
              { name: "tmp", mountPath: "/tmp" },
              { name: "shm", mountPath: "/dev/shm" },
              ...(token ? [hfTokenMount] : []),
            ],
          },
        ],
        volumes: [
          { name: "model-cache", persistentVolumeClaim: { claimName: p.cacheClaim } },
          { name: "home", emptyDir: { sizeLimit: "20Gi" } },
          { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
          { name: "shm", emptyDir: { medium: "Memory", sizeLimit: v.shmSize } },
          ...(token ? [hfTokenVolume(p.tokenSecret)] : []),
        ],
      },
    },
  };
}

export interface ModelServerArgs extends ModelServerParams {
  readonly namespace: pulumi.Input<string>;
  /** KEDA and its Prometheus; required when the variant autoscales (its ScaledObject needs the CRD). */
  readonly autoscaler?: Autoscaler;
}

/**
 * One vLLM variant: Deployment and ClusterIP Service (80 -> http). A variant that may run a single
 * replica gets no PodDisruptionBudget on purpose: minAvailable 1 on one pod would block every node
 * drain (spot rebalancing, AMI upgrades) forever. With 2+ replicas always up, a PDB keeps all but one
 * serving.
 */
export class ModelServer extends pulumi.ComponentResource {
  constructor(name: string, args: ModelServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:k8s:ModelServer", name, {}, opts);
    // The Kubernetes provider comes from the parent's (or opts') providers.
    const o = { parent: this };
    const labels = modelServerLabels(args);
    const objectName = modelServerName(args.variant);
    const meta = { name: objectName, namespace: args.namespace, labels };
    // Model downloads and GPU capacity are never on the deploy path: `pulumi up` does not wait for a
    // SPOT node and a 15-minute cold start; the ModelServerDown alert and `kubectl rollout status` do.
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { ...meta, annotations: { "pulumi.com/skipAwait": "true" } },
        spec: modelServerDeploymentSpec(args),
      },
      o,
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta,
        spec: {
          type: "ClusterIP",
          selector: { app: objectName },
          ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
        },
      },
      o,
    );
    if (replicaRange(args.config).min >= 2) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: meta,
          spec: { maxUnavailable: 1, selector: { matchLabels: { app: objectName } } },
        },
        o,
      );
    }
    if (args.config.autoscaling) {
      if (!args.autoscaler) throw new Error(`${name}: autoscaling needs the KEDA release`);
      // KEDA creates and owns the HPA of this Deployment; the program creates none itself.
      new k8s.apiextensions.CustomResource(
        `${name}-scaler`,
        {
          apiVersion: "keda.sh/v1alpha1",
          kind: "ScaledObject",
          metadata: meta,
          spec: scaledObjectSpec(
            args.variant,
            args.config.autoscaling,
            args.autoscaler.prometheusUrl,
          ),
        },
        { ...o, dependsOn: [args.autoscaler.release, deployment] },
      );
    }
    this.registerOutputs({});
  }
}
