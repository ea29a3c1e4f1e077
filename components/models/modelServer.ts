import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { modelServerLabel, modelServerName, partOf, servicePort } from "../platform/registry";
import { type ModelDesign } from "../platform/designs";
import { replicaRange, type ModelVariantConfig } from "../config/models";
import { gpuTaint, nodeGroupLabel, workloadLabels } from "../platform/scheduling";
import { scaledObjectSpec, type Autoscaler } from "./autoscaling";
import { httpProbe, restrictedContainerSecurityContext } from "../lib/k8s/security";

/** UID of the `vllm` user the vLLM image ships (GID 0, OpenShift-style group-writable image files). */
export const vllmUser = { uid: 2000, gid: 0 };

/** Where things live inside a model server pod. */
const modelPaths = {
  cache: "/models",
  hfHome: "/models/huggingface",
  adapters: "/models/adapters",
  home: "/home/vllm",
  tokenDir: "/var/run/secrets/huggingface",
};

/**
 * Startup allows a cold start: download of a 7B model (~15 GiB) into the shared cache, load to GPU and
 * CUDA-graph capture. 10 s x 90 = 15 minutes. Liveness and readiness differ: liveness asks the engine
 * (`/health`), readiness asks that the model is being served (`/v1/models`).
 */
export const modelProbes = {
  startup: { path: "/health", periodSeconds: 10, failureThreshold: 90, timeoutSeconds: 5 },
  liveness: { path: "/health", periodSeconds: 15, failureThreshold: 3, timeoutSeconds: 5 },
  readiness: { path: "/v1/models", periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
};

/**
 * Spot interruptions give 2 minutes; the node is drained when the notice arrives. 10 s of preStop lets
 * endpoints drop the pod, then vLLM gets the rest of 60 s to finish in-flight requests: well inside
 * the notice.
 */
export const modelShutdown = { preStopSeconds: 10, terminationGracePeriodSeconds: 60 };

/**
 * `--quantization` for each config value, or none. A pre-quantized AWQ or GPTQ checkpoint declares its
 * method in its config.json (`quantization_config.quant_method`), and with no flag vLLM picks the Marlin
 * kernel for it on CUDA GPUs that Marlin supports (compute capability 8.0+: A10G 8.6, L4 and L40S 8.9).
 * Naming the method is what can go wrong: before vLLM unified its AWQ configs (PR #42727, mid-2026),
 * `--quantization awq` logged "forcing awq" and ran the legacy GEMM kernel, roughly 9x slower than
 * Marlin, and `--quantization gptq` did the same for GPTQ; after it, both spellings reach Marlin too.
 * Leaving the flag out is right on both sides of that change (read in vLLM's `awq_marlin.py` before it
 * and `auto_awq.py` after it; the v0.29.0 source itself was not readable offline, so the startup log
 * line `Using ... for AutoAWQMarlinLinearMethod` or `Using awq_marlin kernel` is what to check on a
 * GPU). `fp8` quantizes a 16-bit checkpoint while loading, which only the flag asks for.
 */
export const quantizationFlag: Readonly<
  Record<NonNullable<ModelVariantConfig["quantization"]>, string | undefined>
> = { awq: undefined, gptq: undefined, fp8: "fp8" };

/**
 * The `vllm serve` arguments of a variant (the image's entrypoint is `vllm serve`): the model first, as
 * the positional argument (`--model` is the deprecated spelling), then the engine flags. `model` is
 * where the weights come from (an `s3://` prefix of the model store, or the Hub id); `extra` holds the
 * flags of that source (load format, revision).
 */
export function vllmArgs(
  v: ModelVariantConfig,
  model: pulumi.Input<string> = v.model,
  extra: readonly string[] = [],
): pulumi.Input<string>[] {
  const args: pulumi.Input<string>[] = [
    model,
    ...extra,
    "--served-model-name",
    v.servedModelName,
    "--port",
    String(servicePort),
    "--max-model-len",
    String(v.maxModelLen),
    "--gpu-memory-utilization",
    String(v.gpuMemoryUtilization),
  ];
  const quantization = v.quantization && quantizationFlag[v.quantization];
  if (quantization) args.push("--quantization", quantization);
  if (v.lora)
    args.push(
      "--enable-lora",
      "--max-loras",
      String(v.lora.maxLoras),
      "--max-lora-rank",
      String(v.lora.maxLoraRank),
    );
  return args;
}

/**
 * Environment: every cache vLLM and its libraries write points into a volume, so the root filesystem
 * stays read-only; the HF token is read from a mounted file, never an env value; usage stats are off.
 */
function vllmEnv(v: ModelVariantConfig): { name: string; value: string }[] {
  const env: Record<string, string> = {
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
  if (v.gated) env.HF_TOKEN_PATH = `${modelPaths.tokenDir}/token`;
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

/** Labels of a model server; `llmplatform.io/model-server` is shared by all four variants. */
function modelServerLabels(
  variant: string,
  design: ModelDesign,
  stack: string,
): Record<string, string> {
  return {
    app: modelServerName(variant),
    component: "model-server",
    team: design.team,
    [modelServerLabel]: "true",
    "llmplatform.io/model-variant": variant,
    "app.kubernetes.io/part-of": partOf,
    environment: stack,
  };
}

interface ModelServerParams {
  readonly variant: string;
  /** Its registry entry (registry.ts `models`). */
  readonly design: ModelDesign;
  readonly stack: string;
  readonly image: string;
  readonly config: ModelVariantConfig;
  /** GPU node group key (label `llmplatform.io/node-group`). */
  readonly nodeGroup: string;
  readonly cacheClaim: pulumi.Input<string>;
  readonly tokenSecret: pulumi.Input<string>;
  readonly serviceAccount: pulumi.Input<string>;
}

/**
 * The LoRA server's init step: vLLM exits at startup when its resolver directory is missing, and
 * nothing else creates it before the first adapter sync. Runs the vLLM image itself (already on the
 * node), as the same user, and only creates the directory.
 */
function adapterDirInitContainer(image: string) {
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
  const labels = modelServerLabels(p.variant, p.design, p.stack);
  const compute = { cpu: v.resources.cpu, memory: v.resources.memory, "nvidia.com/gpu": "1" };
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
        ...(v.lora ? { initContainers: [adapterDirInitContainer(p.image)] } : {}),
        containers: [
          {
            name: "vllm",
            image: p.image,
            imagePullPolicy: "IfNotPresent",
            args: vllmArgs(v),
            env: vllmEnv(v),
            ports: [{ name: "http", containerPort: servicePort, protocol: "TCP" }],
            resources: { requests: compute, limits: compute },
            startupProbe: httpProbe(modelProbes.startup),
            livenessProbe: httpProbe(modelProbes.liveness),
            readinessProbe: httpProbe(modelProbes.readiness),
            lifecycle: { preStop: { sleep: { seconds: modelShutdown.preStopSeconds } } },
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [
              { name: "model-cache", mountPath: modelPaths.cache },
              { name: "home", mountPath: modelPaths.home },
              { name: "tmp", mountPath: "/tmp" },
              { name: "shm", mountPath: "/dev/shm" },
              ...(v.gated
                ? [{ name: "hf-token", mountPath: modelPaths.tokenDir, readOnly: true }]
                : []),
            ],
          },
        ],
        volumes: [
          { name: "model-cache", persistentVolumeClaim: { claimName: p.cacheClaim } },
          { name: "home", emptyDir: { sizeLimit: "20Gi" } },
          { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
          { name: "shm", emptyDir: { medium: "Memory", sizeLimit: v.shmSize } },
          ...(v.gated
            ? [
                {
                  name: "hf-token",
                  secret: {
                    secretName: p.tokenSecret,
                    defaultMode: 0o440,
                    items: [{ key: "token", path: "token" }],
                  },
                },
              ]
            : []),
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
    const labels = modelServerLabels(args.variant, args.design, args.stack);
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
