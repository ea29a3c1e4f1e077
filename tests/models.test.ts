import * as assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../components/config";
import { modelProbes, modelShutdown, vllmArgs } from "../components/k8s/modelServer";
import { gpuGroupLoads, modelsOutsideCapacity } from "../components/schema/crossChecks";
import { replicaRange, variantNodeGroup } from "../components/schema/models";
import { efsStorageClassParameters } from "../components/modelServing";
import { images } from "../components/versions";
import { cloneStackConfig, fakeSecret, runProgram, runStack, stacks } from "./harness";

const D = "kubernetes:apps/v1:Deployment";
const variants = ["baseline", "awq", "lora", "judge"] as const;

describe("models: pure parts", () => {
  const dev = parseConfig(cloneStackConfig("dev"), "dev").models.variants;

  it("turns each variant's config into vLLM flags", () => {
    assert.deepEqual(vllmArgs(dev.baseline!), [
      "--model",
      "mistralai/Mistral-7B-Instruct-v0.3",
      "--served-model-name",
      "mistral-7b-instruct",
      "--port",
      "8000",
      "--max-model-len",
      "8192",
      "--gpu-memory-utilization",
      "0.9",
    ]);
    assert.deepEqual(vllmArgs(dev.awq!).slice(-2), ["--quantization", "awq"]);
    assert.deepEqual(vllmArgs(dev.lora!).slice(-5), [
      "--enable-lora",
      "--max-loras",
      "2",
      "--max-lora-rank",
      "16",
    ]);
    assert.equal(vllmArgs(dev.judge!)[1], "Qwen/Qwen2.5-7B-Instruct");
  });

  it("fits cold start in the startup budget and shutdown inside the 2-minute spot notice", () => {
    assert.equal(modelProbes.startup.periodSeconds * modelProbes.startup.failureThreshold, 900);
    assert.notDeepEqual(modelProbes.liveness.path, modelProbes.readiness.path);
    assert.ok(modelShutdown.terminationGracePeriodSeconds < 120);
    assert.ok(modelShutdown.preStopSeconds < modelShutdown.terminationGracePeriodSeconds);
  });

  it("provisions EFS access points owned by the vLLM user", () => {
    assert.deepEqual(efsStorageClassParameters("fs-123"), {
      provisioningMode: "efs-ap",
      fileSystemId: "fs-123",
      directoryPerms: "770",
      uid: "2000",
      gid: "0",
      basePath: "/llm-baseline",
    });
  });
});

for (const stack of stacks) {
  describe(`models (${stack})`, () => {
    it("runs the four variants, one GPU each, Guaranteed QoS, the replica count left to KEDA", async () => {
      const run = await runStack(stack);
      const models = parseConfig(cloneStackConfig(stack), stack).models.variants;
      for (const v of variants) {
        const dep = run.get(D, `vllm-${v}`).inputs;
        assert.equal(dep.metadata.name, `vllm-${v}`);
        assert.equal(
          dep.metadata.annotations["pulumi.com/skipAwait"],
          "true",
          "model downloads are never on the deploy path",
        );
        assert.equal(dep.metadata.namespace, "llm-baseline");
        const so = run.get("kubernetes:keda.sh/v1alpha1:ScaledObject", `vllm-${v}-scaler`);
        assert.equal(dep.spec.replicas, undefined, "the ScaledObject's HPA owns the count");
        assert.equal(so.inputs.spec.minReplicaCount, models[v]!.autoscaling!.minReplicas);
        assert.equal(so.inputs.spec.maxReplicaCount, models[v]!.autoscaling!.maxReplicas);
        const pod = dep.spec.template.spec;
        assert.equal(pod.enableServiceLinks, false, "no VLLM_<SERVICE>_PORT variables");
        const c = pod.containers[0];
        assert.equal(c.image, images.vllm);
        const res = models[v]!.resources;
        const compute = { cpu: res.cpu, memory: res.memory, "nvidia.com/gpu": "1" };
        assert.deepEqual(c.resources, { requests: compute, limits: compute });
        assert.deepEqual(dep.spec.strategy, {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
        });
      }
    });

    it("serves a like-for-like AWQ build of the baseline model", async () => {
      const run = await runStack(stack);
      const args = (v: string) =>
        run.get(D, `vllm-${v}`).inputs.spec.template.spec.containers[0].args;
      const awq = args("awq");
      assert.equal(awq[awq.indexOf("--model") + 1], "solidrust/Mistral-7B-Instruct-v0.3-AWQ");
      assert.equal(awq[awq.indexOf("--quantization") + 1], "awq");
      const base = parseConfig(cloneStackConfig(stack), stack).models.variants;
      assert.equal(base.awq!.baseModel, base.baseline!.model);
      assert.equal(args("lora")[1], base.baseline!.model);
    });

    it("schedules only onto each variant's SPOT GPU group, never two model pods per node", async () => {
      const run = await runStack(stack);
      const models = parseConfig(cloneStackConfig(stack), stack).models;
      for (const v of variants) {
        const pod = run.get(D, `vllm-${v}`).inputs.spec.template.spec;
        assert.deepEqual(pod.nodeSelector, {
          workload: "gpu",
          "llmplatform.io/node-group": variantNodeGroup(models, v),
        });
        assert.deepEqual(pod.tolerations, [
          { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
        ]);
        assert.deepEqual(pod.affinity, {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchLabels: { "llmplatform.io/model-server": "true" } },
              },
            ],
          },
        });
        assert.equal(
          run.get(D, `vllm-${v}`).inputs.spec.template.metadata.labels[
            "llmplatform.io/model-server"
          ],
          "true",
        );
      }
    });

    it("probes /health and /v1/models, and stops within the spot notice", async () => {
      const run = await runStack(stack);
      const pod = run.get(D, "vllm-baseline").inputs.spec.template.spec;
      const c = pod.containers[0];
      assert.deepEqual(c.startupProbe, {
        httpGet: { path: "/health", port: "http" },
        periodSeconds: 10,
        failureThreshold: 90,
        timeoutSeconds: 5,
      });
      assert.deepEqual(c.livenessProbe, {
        httpGet: { path: "/health", port: "http" },
        periodSeconds: 15,
        failureThreshold: 3,
        timeoutSeconds: 5,
      });
      assert.deepEqual(c.readinessProbe, {
        httpGet: { path: "/v1/models", port: "http" },
        periodSeconds: 10,
        failureThreshold: 3,
        timeoutSeconds: 5,
      });
      assert.deepEqual(c.lifecycle, { preStop: { sleep: { seconds: 10 } } });
      assert.equal(pod.terminationGracePeriodSeconds, 60);
      assert.deepEqual(c.ports, [{ name: "http", containerPort: 8000, protocol: "TCP" }]);
    });

    it("runs as the non-root vllm user with a read-only root and every cache on a volume", async () => {
      const run = await runStack(stack);
      const pod = run.get(D, "vllm-baseline").inputs.spec.template.spec;
      const c = pod.containers[0];
      assert.deepEqual(pod.securityContext, {
        runAsNonRoot: true,
        runAsUser: 2000,
        runAsGroup: 0,
        seccompProfile: { type: "RuntimeDefault" },
      });
      assert.deepEqual(c.securityContext, {
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.serviceAccountName, "model-server");
      assert.deepEqual(c.volumeMounts, [
        { name: "model-cache", mountPath: "/models" },
        { name: "home", mountPath: "/home/vllm" },
        { name: "tmp", mountPath: "/tmp" },
        { name: "shm", mountPath: "/dev/shm" },
        { name: "hf-token", mountPath: "/var/run/secrets/huggingface", readOnly: true },
      ]);
      assert.deepEqual(pod.volumes, [
        { name: "model-cache", persistentVolumeClaim: { claimName: "model-cache" } },
        { name: "home", emptyDir: { sizeLimit: "20Gi" } },
        { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } },
        {
          name: "hf-token",
          secret: {
            secretName: "hf-token",
            defaultMode: 0o440,
            items: [{ key: "token", path: "token" }],
          },
        },
      ]);
      const env = Object.fromEntries(
        c.env.map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      assert.deepEqual(env, {
        HOME: "/home/vllm",
        HF_HOME: "/models/huggingface",
        XDG_CACHE_HOME: "/home/vllm/.cache",
        XDG_CONFIG_HOME: "/home/vllm/.config",
        VLLM_CACHE_ROOT: "/home/vllm/.cache/vllm",
        VLLM_CONFIG_ROOT: "/home/vllm/.config/vllm",
        TRITON_CACHE_DIR: "/home/vllm/.cache/triton",
        TORCHINDUCTOR_CACHE_DIR: "/home/vllm/.cache/torchinductor",
        OUTLINES_CACHE_DIR: "/home/vllm/.cache/outlines",
        NUMBA_CACHE_DIR: "/tmp/numba",
        TMPDIR: "/tmp",
        VLLM_NO_USAGE_STATS: "1",
        DO_NOT_TRACK: "1",
        HF_TOKEN_PATH: "/var/run/secrets/huggingface/token",
      });
      assert.ok(!("HF_TOKEN" in env), "the token is never an env value");
    });

    it("mounts the token only where the model is gated, and loads LoRA adapters from the cache", async () => {
      const run = await runStack(stack);
      const awq = run.get(D, "vllm-awq").inputs.spec.template.spec;
      assert.ok(!awq.volumes.some((v: { name: string }) => v.name === "hf-token"));
      const lora = run.get(D, "vllm-lora").inputs.spec.template.spec.containers[0];
      const env = Object.fromEntries(
        lora.env.map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      assert.equal(env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, "True");
      assert.equal(env.VLLM_PLUGINS, "lora_filesystem_resolver");
      assert.equal(env.VLLM_LORA_RESOLVER_CACHE_DIR, "/models/adapters");
      // vLLM exits at startup without its resolver directory: an init step creates it first.
      const pod = run.get(D, "vllm-lora").inputs.spec.template.spec;
      assert.deepEqual(
        pod.initContainers.map((c: any) => [c.name, c.image, c.command.join(" ")]),
        [
          [
            "adapters-dir",
            images.vllm,
            'python3 -c import os; os.makedirs("/models/adapters", exist_ok=True)',
          ],
        ],
      );
      assert.deepEqual(pod.initContainers[0].volumeMounts, [
        { name: "model-cache", mountPath: "/models" },
      ]);
      assert.equal(pod.initContainers[0].securityContext.readOnlyRootFilesystem, true);
      assert.equal(run.get(D, "vllm-baseline").inputs.spec.template.spec.initContainers, undefined);
    });

    it("keeps the HF token a secret end to end", async () => {
      const run = await runStack(stack);
      const secret = run.get(
        "kubernetes:core/v1:Secret",
        "llmplatform-" + stack + "-models-hf-token",
      );
      assert.deepEqual(secret.secretPaths, ["stringData"], "the token travels as a Pulumi secret");
      assert.equal(secret.inputs.stringData.token, fakeSecret("llm-platform:hfToken"));
      assert.equal(secret.inputs.metadata.name, "hf-token");
      const leaks = run.resources.filter(
        (r) =>
          r !== secret && JSON.stringify(r.inputs).includes(fakeSecret("llm-platform:hfToken")),
      );
      assert.deepEqual(
        leaks.map((r) => r.name),
        [],
      );
    });

    it("shares one multi-AZ, encrypted EFS cache through a ReadWriteMany claim", async () => {
      const run = await runStack(stack);
      const fs = run.get("aws:efs/fileSystem:FileSystem", `llmplatform-${stack}-models`).inputs;
      assert.equal(fs.encrypted, true);
      assert.equal(fs.throughputMode, "elastic");
      assert.equal(fs.availabilityZoneName, undefined, "regional, not One Zone");
      const targets = run.ofType("aws:efs/mountTarget:MountTarget");
      assert.deepEqual(
        targets.map((t) => t.inputs.subnetId),
        ["subnet-private-1", "subnet-private-2", "subnet-private-3"],
      );
      const sg = run.get(
        "aws:ec2/securityGroup:SecurityGroup",
        `llmplatform-${stack}-models-nfs`,
      ).inputs;
      assert.deepEqual(
        sg.ingress.map((r: any) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks]),
        [["tcp", 2049, 2049, [parseConfig(cloneStackConfig(stack), stack).network.cidr]]],
      );
      const sc = run.get(
        "kubernetes:storage.k8s.io/v1:StorageClass",
        `llmplatform-${stack}-models-efs`,
      ).inputs;
      assert.equal(sc.provisioner, "efs.csi.aws.com");
      assert.equal(sc.reclaimPolicy, "Retain");
      assert.equal(sc.parameters.fileSystemId, `llmplatform-${stack}-models-id`);
      const pvc = run.get(
        "kubernetes:core/v1:PersistentVolumeClaim",
        `llmplatform-${stack}-models-cache`,
      );
      assert.deepEqual(pvc.inputs.spec, {
        accessModes: ["ReadWriteMany"],
        storageClassName: "efs-models",
        resources: { requests: { storage: "500Gi" } },
      });
      assert.deepEqual(pvc.dependsOn, [
        `aws:eks/addon:Addon::llmplatform-${stack}-compute-aws-efs-csi-driver`,
        `llmplatform:aws:ModelCacheFileSystem::llmplatform-${stack}-models`,
      ]);
    });

    it("exposes each variant on ClusterIP 80 and lets only its callers in (LoRA: finetune-api only)", async () => {
      const run = await runStack(stack);
      for (const v of variants) {
        const svc = run.get("kubernetes:core/v1:Service", `vllm-${v}-service`).inputs;
        assert.deepEqual(svc.spec, {
          type: "ClusterIP",
          selector: { app: `vllm-${v}` },
          ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
        });
      }
      const np = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
      const callers = (v: string) =>
        run
          .get(np, `llm-baseline-allow-clients-to-vllm-${v}-8000`)
          .inputs.spec.ingress[0].from.map(
            (p: any) =>
              `${p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]}/${p.podSelector.matchLabels.app}`,
          );
      assert.deepEqual(callers("baseline"), ["platform/gateway"]);
      assert.deepEqual(callers("awq"), ["platform/gateway", "quant/quant-api"]);
      assert.deepEqual(callers("judge"), ["platform/gateway", "eval/eval-api"]);
      // Runtime LoRA updating also opens /v1/load_lora_adapter and /v1/unload_lora_adapter: only
      // finetune-api, the adapters' owner, reaches the LoRA server.
      assert.deepEqual(callers("lora"), ["finetune/finetune-api"]);
      const quantEgress = run.get(np, "quant-api-allow-quant-api-to-model-servers-8000").inputs.spec
        .egress[0].to;
      assert.deepEqual(
        quantEgress.map((p: any) => p.podSelector.matchLabels.app),
        ["vllm-awq"],
      );
      const gatewayEgress = run.get(np, "gateway-allow-gateway-to-model-servers-8000").inputs.spec
        .egress[0].to;
      assert.deepEqual(
        gatewayEgress.map((p: any) => p.podSelector.matchLabels.app),
        ["vllm-baseline", "vllm-awq", "vllm-judge"],
      );
      const hub = run.get(np, "llm-baseline-allow-https-to-hugging-face-hub").inputs.spec;
      assert.deepEqual(hub.podSelector, { matchLabels: { "llmplatform.io/model-server": "true" } });
      assert.deepEqual(hub.egress[0].ports, [{ protocol: "TCP", port: 443 }]);
    });

    it("points each team API at its own model endpoint", async () => {
      const run = await runStack(stack);
      const data = (n: string) =>
        run.get("kubernetes:core/v1:ConfigMap", `${n}-config`).inputs.data;
      assert.equal(
        data("quant-api").MODEL_ENDPOINT,
        "http://vllm-awq.llm-baseline.svc.cluster.local/v1",
      );
      assert.equal(data("finetune-api").MODEL_NAME, "mistral-7b-instruct-lora");
      assert.equal(
        data("eval-api").MODEL_ENDPOINT,
        "http://vllm-judge.llm-baseline.svc.cluster.local/v1",
      );
      assert.equal(data("gateway").MODEL_ENDPOINT, undefined);
    });

    it("sets no PodDisruptionBudget on model servers that may run one replica (it would block drains forever)", async () => {
      const run = await runStack(stack);
      assert.deepEqual(
        run
          .ofType("kubernetes:policy/v1:PodDisruptionBudget")
          .filter((p) => p.inputs.metadata.namespace === "llm-baseline"),
        [],
      );
    });
  });
}

describe("models: bad input", () => {
  function problems(edit: (r: Record<string, any>) => void): string[] {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    edit(raw);
    try {
      parseConfig(raw, "prod");
    } catch (e) {
      return (e as ConfigError).problems;
    }
    return [];
  }

  it("requires the HF token when a gated model is configured, naming the key and the fix", () => {
    const p = problems((r) => delete r["llm-platform:hfToken"]);
    assert.deepEqual(p, [
      "llm-platform:hfToken: required: models.variants baseline, lora use gated Hugging Face models; set it with `pulumi config set --secret llm-platform:hfToken <token>`",
    ]);
  });

  it("stops `pulumi up` without the token before any resource", async () => {
    const raw = cloneStackConfig("dev");
    delete raw["llm-platform:hfToken"];
    const run = await runProgram("dev", raw);
    assert.ok(run.error instanceof ConfigError);
    assert.deepEqual(run.resources, []);
  });

  it("rejects peak model replicas beyond the GPU nodes (one model per node) or the GPU quota", () => {
    let group = "";
    const p = problems((r) => {
      const g = r["llm-platform:nodeGroups"].gpu[0];
      Object.assign(g, { maxSize: 8 });
      group = g.name;
      r["llm-platform:models"].variants.baseline.autoscaling.maxReplicas = 6;
    });
    assert.ok(
      p.includes(
        `llm-platform:models.variants: 12 model replicas at peak (baseline, awq, lora, judge) need 12 GPU nodes (one model per node), nodeGroups.gpu ${group} allows maxSize 8`,
      ),
      p.join("\n"),
    );
    assert.ok(
      p.includes(
        "llm-platform:models.variants: 12 model replicas at peak need 12 GPUs, the llm-baseline quota allows 8",
      ),
      p.join("\n"),
    );
  });

  it("rejects min above max replicas, naming the key", () => {
    const p = problems(
      (r) => (r["llm-platform:models"].variants.judge.autoscaling.minReplicas = 3),
    );
    assert.ok(
      p.includes(
        "llm-platform:models.variants.judge.autoscaling.minReplicas: expected at most maxReplicas (2)",
      ),
      p.join("\n"),
    );
  });

  it("rejects a scaler threshold of 0, naming the key", () => {
    const p = problems((r) => {
      r["llm-platform:models"].variants.awq.autoscaling.requestsWaitingPerReplica = 0;
      r["llm-platform:models"].variants.lora.autoscaling.kvCacheUsage = 0;
    });
    assert.deepEqual(p, [
      "llm-platform:models.variants.awq.autoscaling.requestsWaitingPerReplica: expected a threshold above 0",
      "llm-platform:models.variants.lora.autoscaling.kvCacheUsage: expected a threshold above 0",
    ]);
  });

  it("rejects a variant with both a fixed count and autoscaling, or neither", () => {
    const p = problems((r) => {
      r["llm-platform:models"].variants.baseline.replicas = 1;
      delete r["llm-platform:models"].variants.judge.autoscaling;
    });
    assert.deepEqual(p, [
      "llm-platform:models.variants.baseline.replicas: expected either replicas (a fixed count) or autoscaling, not both or neither",
      "llm-platform:models.variants.judge.replicas: expected either replicas (a fixed count) or autoscaling, not both or neither",
    ]);
  });

  it("rejects a working-hours window on a variant that never scales to zero", () => {
    const p = problems(
      (r) =>
        (r["llm-platform:models"].variants.baseline.autoscaling.workingHours = {
          timezone: "Europe/Berlin",
          start: "0 8 * * 1-5",
          end: "0 18 * * 1-5",
        }),
    );
    assert.deepEqual(p, [
      "llm-platform:models.variants.baseline.autoscaling.workingHours: only applies to a variant that scales to zero (minReplicas 0)",
    ]);
  });

  it("rejects an AWQ build of another model than the baseline (like for like)", () => {
    const p = problems(
      (r) =>
        (r["llm-platform:models"].variants.awq.baseModel = "mistralai/Mistral-7B-Instruct-v0.2"),
    );
    assert.deepEqual(p, [
      "llm-platform:models.variants.awq.baseModel: expected the baseline's model (mistralai/Mistral-7B-Instruct-v0.3): variants of one family share their base model, got mistralai/Mistral-7B-Instruct-v0.2",
    ]);
    // Quantizing a variant whose registry entry names no base model: the stack must name it.
    const q = problems((r) => (r["llm-platform:models"].variants.judge.quantization = "awq"));
    assert.ok(
      q.includes(
        "llm-platform:models.variants.judge.baseModel: required for a quantized variant: the model it is a quantization of",
      ),
      q.join("\n"),
    );
  });

  it("rejects a LoRA server on another base model; the judge may differ", () => {
    const p = problems(
      (r) => (r["llm-platform:models"].variants.lora.model = "Qwen/Qwen2.5-7B-Instruct"),
    );
    assert.deepEqual(p, [
      "llm-platform:models.variants.lora.model: expected the baseline's model (mistralai/Mistral-7B-Instruct-v0.3): variants of one family share their base model, got Qwen/Qwen2.5-7B-Instruct",
    ]);
  });

  it("rejects a model pod larger than its node", () => {
    const p = problems((r) => (r["llm-platform:models"].variants.judge.resources.memory = "30Gi"));
    assert.ok(
      p.some((x) =>
        x.startsWith(
          "llm-platform:models.variants.judge.resources: expected at most 7 CPU and 28Gi to fit a g5.2xlarge node",
        ),
      ),
      p.join("\n"),
    );
  });

  it("rejects an A/B variant the LoRA server does not serve", () => {
    const p = problems(
      (r) =>
        (r["llm-platform:services"].gateway.routes = {
          quant: { timeoutMs: 30000 },
          finetune: {
            timeoutMs: 60000,
            variants: [
              { name: "lora-v1", weight: 80 },
              { name: "lora-v3", weight: 20 },
            ],
          },
          eval: { timeoutMs: 45000 },
        }),
    );
    assert.deepEqual(p, [
      "llm-platform:services.gateway.routes.finetune.variants[1].name: expected one of the LoRA server's adapters (lora-v1, lora-v2)",
    ]);
  });

  it("rejects an unknown GPU node group, models-wide or per variant", () => {
    let names = "";
    const p = problems((r) => {
      names = r["llm-platform:nodeGroups"].gpu.map((g: { name: string }) => g.name).join(", ");
      r["llm-platform:models"].nodeGroup = "training";
    });
    assert.deepEqual(p, [
      `llm-platform:models.nodeGroup: expected one of the GPU node groups (${names})`,
    ]);
    const q = problems((r) => (r["llm-platform:models"].variants.judge.nodeGroup = "training"));
    assert.deepEqual(q, [
      `llm-platform:models.variants.judge.nodeGroup: expected one of the GPU node groups (${names})`,
    ]);
  });

  it("checks each GPU group's node shape and maxSize against the variants placed on it", () => {
    const p = problems((r) => {
      const inference = r["llm-platform:nodeGroups"].gpu[0];
      // A small single-type group for the judge: 2 replicas at peak, 1 node, 4 vCPU / 16 GiB.
      r["llm-platform:nodeGroups"].gpu.push({
        name: "judge",
        instanceTypes: ["g4dn.xlarge"],
        minSize: 0,
        maxSize: 1,
      });
      inference.maxSize = 6;
      Object.assign(r["llm-platform:models"].variants.judge, {
        nodeGroup: "judge",
        resources: { cpu: "4", memory: "16Gi" },
        autoscaling: { ...r["llm-platform:models"].variants.judge.autoscaling, maxReplicas: 2 },
      });
    });
    assert.deepEqual(p, [
      "llm-platform:models.variants: 2 model replicas at peak (judge) need 2 GPU nodes (one model per node), nodeGroups.gpu judge allows maxSize 1",
      "llm-platform:models.variants.judge.resources: expected at most 3 CPU and 12Gi to fit a g4dn.xlarge node of group judge (4 vCPU / 16 GiB) beside its system pods",
    ]);
  });

  it("rejects two variants serving the same model name", () => {
    const p = problems(
      (r) => (r["llm-platform:models"].variants.judge.servedModelName = "mistral-7b-instruct"),
    );
    assert.deepEqual(p, [
      "llm-platform:models.variants.judge.servedModelName: expected a name no other variant serves",
    ]);
  });
});

describe("models: capacity per GPU group, over every placement", () => {
  const base = parseConfig(cloneStackConfig("prod"), "prod");
  const groups = [
    { name: "inference", instanceTypes: ["g5.2xlarge", "g6.2xlarge"], maxSize: 0 },
    { name: "batch", instanceTypes: ["g6e.2xlarge"], maxSize: 0 },
  ];

  it("places every variant on exactly one group and flags a group iff its peak exceeds its maxSize", () => {
    const peak = (v: string) => replicaRange(base.models.variants[v]!).max;
    for (let placement = 0; placement < 2 ** variants.length; placement++) {
      const models = structuredClone(base.models);
      variants.forEach(
        (v, i) => (models.variants[v]!.nodeGroup = groups[(placement >> i) & 1]!.name),
      );
      for (const maxSize of [0, 1, 3, 8]) {
        const gpu = groups.map((g) => ({ ...g, maxSize }));
        const loads = gpuGroupLoads(models, gpu);
        assert.deepEqual(loads.flatMap((l) => l.variants).sort(), [...variants].sort());
        for (const l of loads) {
          assert.ok(l.variants.every((v) => variantNodeGroup(models, v) === l.group.name));
          assert.equal(
            l.peakReplicas,
            l.variants.reduce((n, v) => n + peak(v), 0),
          );
        }
        const problems = modelsOutsideCapacity({
          "llm-platform:nodeGroups": { gpu },
          "llm-platform:namespaces": base.namespaces,
          "llm-platform:services": base.services,
          "llm-platform:models": models,
          "llm-platform:hfToken": "hf_fake_token",
        }).map((p) => p.message);
        for (const l of loads) {
          const flagged = problems.some((m) =>
            m.endsWith(`nodeGroups.gpu ${l.group.name} allows maxSize ${maxSize}`),
          );
          assert.equal(
            flagged,
            l.peakReplicas > maxSize,
            `${placement}/${maxSize}/${l.group.name}`,
          );
        }
      }
    }
  });
});
