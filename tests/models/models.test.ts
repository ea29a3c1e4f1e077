import * as assert from "node:assert/strict";
import { gpuInstanceShapes } from "../../components/platform/instanceTypes";
import { modelCallers, registry } from "../../components/platform/registry";
import {
  ConfigError,
  parseConfig,
  type PlatformConfig,
} from "../../components/config/platformConfig";
import { modelProbes, modelShutdown, startupProbe } from "../../components/models/modelServer";
import { quantizationFlag, vllmArgs } from "../../components/models/vllmCommand";
import {
  gpuGroupLoads,
  gpuMemoryShortfall,
  modelsOutsideCapacity,
} from "../../components/config/crossChecks";
import { replicaRange, variantConfig, variantNodeGroup } from "../../components/config/models";
import { efsStorageClassParameters } from "../../components/models/modelServing";
import { tlsOnlyPolicy } from "../../components/models/modelCacheFileSystem";
import { images } from "../../components/platform/versions";
import {
  cloneStackConfig,
  configProblems,
  fakeSecret,
  mockStsEndpointAddresses,
  mockResourceArn,
  runProgram,
  runStack,
  stackConfig,
  stacks,
  testS3Cidrs,
  type StackName,
  type StackRun,
} from "../../verify/program";

const D = "kubernetes:apps/v1:Deployment";

/** The STS interface endpoint's addresses the mocked EC2 reports for a run's VPC. */
function stsAddresses(run: StackRun): string[] {
  const vpc = run.ofType("awsx:ec2:Vpc")[0]!;
  return mockStsEndpointAddresses(vpc.inputs as Parameters<typeof mockStsEndpointAddresses>[0]);
}

/** A streaming pod's hostAliases: the regional STS name of the run's region at each address. */
function stsAliases(run: StackRun): { ip: string; hostnames: string[] }[] {
  const region = stackConfig(run.stack as StackName).region;
  return stsAddresses(run).map((ip) => ({ ip, hostnames: [`sts.${region}.amazonaws.com`] }));
}
/** Every registered variant, in registry order: each must be deployed, scheduled and reachable. */
const variants = Object.keys(registry.models);
/** The design's model endpoints: a registry may add variants, never drop these. */
const designVariants = ["baseline", "awq", "lora", "judge"];

describe("models: pure parts", () => {
  let dev: PlatformConfig["models"]["variants"];
  // Parsed in a hook, so a broken stack file fails these tests instead of stopping mocha at load.
  before(() => (dev = parseConfig(cloneStackConfig("dev"), "dev").models.variants));

  it("turns each variant's config into vLLM flags, the model first (positional)", () => {
    assert.deepEqual(vllmArgs(dev.baseline!), [
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
    assert.deepEqual(vllmArgs(dev.lora!).slice(-5), [
      "--enable-lora",
      "--max-loras",
      "2",
      "--max-lora-rank",
      "16",
    ]);
    assert.equal(vllmArgs(dev.judge!)[0], "Qwen/Qwen2.5-7B-Instruct");
    for (const v of Object.values(dev)) assert.ok(!vllmArgs(v).includes("--model"), "deprecated");
  });

  it("never names AWQ or GPTQ on the command line: the checkpoint's own config selects Marlin", () => {
    // `--quantization awq` (or gptq) forced vLLM's legacy kernel before its AWQ unification (~9x slower).
    for (const quantization of ["awq", "gptq"] as const) {
      assert.equal(quantizationFlag[quantization], undefined);
      const args = vllmArgs({ ...dev.awq!, quantization });
      assert.ok(!args.includes("--quantization"), `${quantization}: ${JSON.stringify(args)}`);
    }
    assert.deepEqual(vllmArgs({ ...dev.baseline!, quantization: "fp8" }).slice(-2), [
      "--quantization",
      "fp8",
    ]);
  });

  it("fits cold start in the startup budget and shutdown inside the 2-minute spot notice", () => {
    assert.equal(startupProbe({ startupTimeoutSeconds: 900 }).failureThreshold, 90);
    assert.equal(
      startupProbe({ startupTimeoutSeconds: 905 }).failureThreshold,
      91,
      "never shorter",
    );
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
    it("runs every registered variant, one GPU each, Guaranteed QoS, the replica count left to KEDA when it autoscales", async () => {
      const run = await runStack(stack);
      const models = parseConfig(cloneStackConfig(stack), stack).models.variants;
      for (const v of designVariants) assert.ok(variants.includes(v), `design variant ${v}`);
      for (const v of variants) {
        const dep = run.get(D, `vllm-${v}`).inputs;
        assert.equal(dep.metadata.name, `vllm-${v}`);
        assert.equal(
          dep.metadata.annotations["pulumi.com/skipAwait"],
          "true",
          "model downloads are never on the deploy path",
        );
        assert.equal(dep.metadata.namespace, "llm-baseline");
        const so = run
          .ofType("kubernetes:keda.sh/v1alpha1:ScaledObject")
          .find((r) => r.name === `vllm-${v}-scaler`);
        const autoscaling = models[v]!.autoscaling;
        if (autoscaling) {
          assert.equal(dep.spec.replicas, undefined, "the ScaledObject's HPA owns the count");
          assert.equal(so?.inputs.spec.minReplicaCount, autoscaling.minReplicas, v);
          assert.equal(so?.inputs.spec.maxReplicaCount, autoscaling.maxReplicas, v);
        } else {
          assert.equal(dep.spec.replicas, models[v]!.replicas, `${v}: a fixed count`);
          assert.equal(so, undefined, `${v}: no ScaledObject without autoscaling`);
        }
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

    it("serves a like-for-like AWQ build of the baseline model on the Marlin kernel", async () => {
      const run = await runStack(stack);
      const args = (v: string) =>
        run.get(D, `vllm-${v}`).inputs.spec.template.spec.containers[0].args as string[];
      const base = parseConfig(cloneStackConfig(stack), stack).models.variants;
      assert.equal(base.awq!.quantization, "awq");
      assert.equal(base.awq!.baseModel, base.baseline!.model);
      for (const v of variants) {
        const i = args(v).indexOf("--quantization");
        assert.ok(
          i < 0 || !["awq", "gptq"].includes(args(v)[i + 1]!),
          `${v}: the legacy kernel flag is back: ${args(v).join(" ")}`,
        );
        assert.ok(!args(v).includes("--model"), `${v}: the model is vLLM's positional argument`);
      }
      assert.equal(args("lora")[0], base.baseline!.model);
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
      assert.equal(pod.serviceAccountName, "model-streamer");
      assert.deepEqual(c.volumeMounts, [
        { name: "model-cache", mountPath: "/models" },
        { name: "home", mountPath: "/home/vllm" },
        { name: "tmp", mountPath: "/tmp" },
        { name: "shm", mountPath: "/dev/shm" },
      ]);
      assert.deepEqual(pod.volumes, [
        { name: "model-cache", persistentVolumeClaim: { claimName: "model-cache" } },
        { name: "home", emptyDir: { sizeLimit: "20Gi" } },
        { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } },
      ]);
      const region = stackConfig(stack).region;
      const env = Object.fromEntries(
        c.env.map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      const compile = `/models/compile-cache/${images.vllm.split(":")[1]}/baseline`;
      assert.deepEqual(env, {
        HOME: "/home/vllm",
        HF_HOME: "/models/huggingface",
        XDG_CACHE_HOME: "/home/vllm/.cache",
        XDG_CONFIG_HOME: "/home/vllm/.config",
        VLLM_CACHE_ROOT: compile,
        VLLM_CONFIG_ROOT: "/home/vllm/.config/vllm",
        TRITON_CACHE_DIR: `${compile}/triton`,
        TORCHINDUCTOR_CACHE_DIR: "/home/vllm/.cache/torchinductor",
        OUTLINES_CACHE_DIR: "/home/vllm/.cache/outlines",
        NUMBA_CACHE_DIR: "/tmp/numba",
        TMPDIR: "/tmp",
        VLLM_NO_USAGE_STATS: "1",
        DO_NOT_TRACK: "1",
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_STS_REGIONAL_ENDPOINTS: "regional",
        HF_HUB_OFFLINE: "1",
      });
      assert.ok(!("HF_TOKEN" in env), "the token is never an env value");
    });

    it("streams every store variant from its pinned revision in S3, and keeps the Hub fallback pinned too", async () => {
      const run = await runStack(stack);
      const models = parseConfig(cloneStackConfig(stack), stack).models;
      const region = stackConfig(stack).region;
      const bucket = `llmplatform-${stack}-models-20261123`;
      for (const [v, c] of Object.entries(models.variants)) {
        const dep = run.get(D, `vllm-${v}`).inputs.spec.template;
        const args = dep.spec.containers[0].args as string[];
        const mounts = dep.spec.containers[0].volumeMounts.map((m: { name: string }) => m.name);
        const env = dep.spec.containers[0].env.map((e: { name: string }) => e.name);
        assert.equal(dep.metadata.labels["llmplatform.io/weights-from"], c.weightsFrom, v);
        if (c.weightsFrom === "store") {
          assert.deepEqual(args.slice(0, 5), [
            `s3://${bucket}/models/${c.model}/${c.revision}/`,
            "--load-format",
            "runai_streamer",
            "--model-loader-extra-config",
            JSON.stringify({
              concurrency: models.store.streamer.concurrency,
              memory_limit: models.store.streamer.memoryLimitMiB * 2 ** 20,
            }),
          ]);
          assert.equal(dep.spec.serviceAccountName, "model-streamer", v);
          assert.ok(
            !mounts.includes("hf-token") && !env.includes("HF_TOKEN_PATH"),
            `${v}: no token`,
          );
          // The first init step waits for the staging Job's marker of exactly this revision.
          const wait = dep.spec.initContainers[0];
          assert.equal(wait.name, "wait-for-weights");
          assert.equal(wait.image, images.vllm);
          const waitEnv = Object.fromEntries(wait.env.map((e: any) => [e.name, e.value]));
          assert.equal(waitEnv.STORE_BUCKET, bucket);
          assert.equal(waitEnv.STAGED_MARKER, `models/.staged/${c.model}/${c.revision}.json`);
          assert.deepEqual(wait.resources.requests, wait.resources.limits, "Guaranteed QoS");
          // Both steps resolve the regional STS name of the stack's region to the VPC's STS
          // interface endpoint (the pod's hosts file), whichever SDK asks.
          assert.deepEqual(dep.spec.hostAliases, stsAliases(run), v);
          for (const container of [wait, dep.spec.containers[0]]) {
            const e = Object.fromEntries(container.env.map((x: any) => [x.name, x.value]));
            assert.deepEqual(
              [e.AWS_REGION, e.AWS_DEFAULT_REGION, e.AWS_STS_REGIONAL_ENDPOINTS],
              [region, region, "regional"],
              `${v} ${container.name}`,
            );
            assert.ok(!("AWS_ENDPOINT_URL_STS" in e), "one mechanism: the name");
          }
        } else {
          assert.deepEqual(args.slice(0, 5), [
            c.model,
            "--revision",
            c.revision,
            "--tokenizer-revision",
            c.revision,
          ]);
          assert.equal(dep.spec.serviceAccountName, "model-server", v);
          assert.equal(mounts.includes("hf-token"), c.gated, `${v}: the token only when gated`);
          assert.equal(dep.spec.hostAliases, undefined, `${v}: the public STS name, as any pod`);
        }
      }
      assert.equal(models.variants.lora!.weightsFrom, "hub", "adapters resolve against a Hub id");
    });

    it("mounts the token only on a gated Hub variant, and loads LoRA adapters from the cache", async () => {
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
      assert.equal(env.HF_TOKEN_PATH, "/var/run/secrets/huggingface/token");
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
    });

    it("keeps the HF token in Secrets Manager, synced into the Secret hf-token (key token) the servers mount", async () => {
      const run = await runStack(stack);
      const name = `llmplatform-${stack}-models-hf-token`;
      const secret = run.get("aws:secretsmanager/secretVersion:SecretVersion", name);
      assert.deepEqual(
        secret.secretPaths,
        ["secretString"],
        "the token travels as a Pulumi secret",
      );
      assert.equal(secret.inputs.secretString, fakeSecret("llm-platform:hfToken"));
      assert.equal(
        run.get("aws:secretsmanager/secret:Secret", name).inputs.name,
        `llmplatform-${stack}/llm-baseline/hf-token`,
      );
      const es = run.get("kubernetes:external-secrets.io/v1:ExternalSecret", name).inputs;
      assert.deepEqual(
        [es.metadata.namespace, es.spec.target.name, es.spec.data],
        ["llm-baseline", "hf-token", [{ secretKey: "token", remoteRef: { key: "hf-token" } }]],
      );
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
      // NFS from the nodes' security group only (the CSI node plugin mounts on the node).
      assert.deepEqual(
        sg.ingress.map((r: any) => [
          r.protocol,
          r.fromPort,
          r.toPort,
          r.cidrBlocks,
          r.securityGroups,
        ]),
        [["tcp", 2049, 2049, undefined, ["sg-0cluster0000000001"]]],
      );
      // Only TLS: without TLS everything is refused; mounts through a mount target are allowed
      // explicitly (once a policy exists nothing is allowed implicitly, and the CSI driver's mounts
      // are anonymous).
      const arn = mockResourceArn(
        stackConfig(stack).region,
        "aws:efs/fileSystem:FileSystem",
        `llmplatform-${stack}-models`,
      );
      assert.deepEqual(
        JSON.parse(
          run.get("aws:efs/fileSystemPolicy:FileSystemPolicy", `llmplatform-${stack}-models`).inputs
            .policy,
        ),
        tlsOnlyPolicy(arn),
      );
      assert.deepEqual(tlsOnlyPolicy(arn).Statement[0], {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: arn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      });
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
      // Every variant, the design's and any other: exactly the callers its registry entry names.
      const inNamespace = (svc: string) => `${registry.services[svc]!.namespace}/${svc}`;
      for (const v of variants) assert.deepEqual(callers(v), modelCallers(v).map(inNamespace), v);
      // Each caller reaches exactly the model servers it may call, in registry order.
      const egressTo = (svc: string) =>
        run
          .get(np, `${svc}-allow-${svc}-to-model-servers-8000`)
          .inputs.spec.egress[0].to.map(
            (p: any) =>
              `${p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]}/${p.podSelector.matchLabels.app}`,
          );
      const callerServices = [...new Set(variants.flatMap((v) => modelCallers(v)))];
      for (const svc of callerServices) {
        assert.deepEqual(
          egressTo(svc),
          variants
            .filter((v) => modelCallers(v).includes(svc))
            .map((v) => `llm-baseline/vllm-${v}`),
          svc,
        );
      }
      assert.ok(egressTo("quant-api").includes("llm-baseline/vllm-awq"));
      assert.ok(egressTo("gateway").includes("llm-baseline/vllm-baseline"));
      assert.ok(
        !egressTo("gateway").includes("llm-baseline/vllm-lora"),
        "the gateway never reaches the LoRA server",
      );
      // Only the Hub fallback reaches the internet; streaming servers reach S3 and STS, nothing else.
      const hub = run.get(np, "llm-baseline-allow-https-to-hugging-face-hub").inputs.spec;
      assert.deepEqual(hub.podSelector, { matchLabels: { "llmplatform.io/weights-from": "hub" } });
      assert.deepEqual(hub.egress[0].ports, [{ protocol: "TCP", port: 443 }]);
      const store = run.get(np, "llm-baseline-allow-streamers-to-s3-and-sts").inputs.spec;
      assert.deepEqual(store.podSelector, {
        matchLabels: { "llmplatform.io/weights-from": "store" },
      });
      // S3's prefix list and the STS endpoint's own addresses: no other VPC address.
      assert.deepEqual(store.egress, [
        {
          to: testS3Cidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ protocol: "TCP", port: 443 }],
        },
        {
          to: stsAddresses(run).map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })),
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ]);
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
  let prod: PlatformConfig;
  before(() => (prod = parseConfig(cloneStackConfig("prod"), "prod")));
  /** Peak replicas of a variant in the prod stack. */
  const prodPeak = (v: string) => replicaRange(variantConfig(prod.models, v)).max;

  const problems = (edit: (r: Record<string, any>) => void) => configProblems("prod", edit);

  it("requires the HF token when a gated model is configured, naming the key and the fix", () => {
    // Which variants are gated is set here, over whatever the registry and the stack say.
    const withGated = (gated: string[]) =>
      problems((r) => {
        delete r["llm-platform:hfToken"];
        for (const [v, block] of Object.entries<Record<string, any>>(
          r["llm-platform:models"].variants,
        ))
          block.gated = gated.includes(v);
      });
    assert.deepEqual(withGated(["baseline", "judge"]), [
      "llm-platform:hfToken: required: models.variants baseline, judge use gated Hugging Face models; set it with `pulumi config set --secret llm-platform:hfToken <token>`",
    ]);
    assert.deepEqual(withGated([]), [], "no gated model, no token needed");
  });

  it("stops `pulumi up` without the token before any resource", async () => {
    const raw = cloneStackConfig("dev");
    delete raw["llm-platform:hfToken"];
    const run = await runProgram("dev", raw);
    assert.ok(run.error instanceof ConfigError);
    assert.deepEqual(run.resources, []);
  });

  it("rejects peak model replicas beyond the GPU nodes (one model per node) or the GPU quota", () => {
    // Every variant on the first GPU group, each autoscaling up to 3: the peak is 3 per variant.
    const perVariant = 3;
    const peak = perVariant * variants.length;
    let group = "";
    const atCapacity = (maxSize: number, gpuQuota: number) =>
      problems((r) => {
        const g = r["llm-platform:nodeGroups"].gpu[0];
        Object.assign(g, { maxSize });
        group = g.name;
        r["llm-platform:namespaces"]["llm-baseline"].quota["requests.nvidia.com/gpu"] = gpuQuota;
        const m = r["llm-platform:models"];
        m.nodeGroup = g.name;
        for (const v of Object.values<Record<string, any>>(m.variants)) {
          delete v.nodeGroup;
          delete v.replicas;
          v.autoscaling = { ...v.autoscaling, minReplicas: 0, maxReplicas: perVariant };
        }
      });
    const over = atCapacity(peak - 1, peak - 1);
    const nodes = `llm-platform:models.variants: ${peak} model replicas at peak (${variants.join(", ")}) need ${peak} GPU nodes (one model per node), nodeGroups.gpu ${group} allows maxSize`;
    const gpus = `llm-platform:models.variants: ${peak} model replicas at peak need ${peak} GPUs, the llm-baseline quota allows`;
    assert.ok(over.includes(`${nodes} ${peak - 1}`), over.join("\n"));
    assert.ok(over.includes(`${gpus} ${peak - 1}`), over.join("\n"));
    // Exactly at capacity is enough.
    const fits = atCapacity(peak, peak);
    assert.ok(!fits.some((m) => m.startsWith(nodes) || m.startsWith(gpus)), fits.join("\n"));
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

  it("rejects a model pod larger than its node (less 1 vCPU and 4 GiB for the system), whatever the node type", () => {
    // The judge's group in the prod stack and its node shape from the instance table.
    const group = prod.nodeGroups.gpu.find(
      (g) => g.name === variantNodeGroup(prod.models, "judge"),
    )!;
    const type = group.instanceTypes[0]!;
    const shape = gpuInstanceShapes[type]!;
    const tooLarge =
      `llm-platform:models.variants.judge.resources: expected at most ${shape.vcpu - 1} CPU and ` +
      `${shape.memoryGiB - 4}Gi to fit a ${type} node of group ${group.name} ` +
      `(${shape.vcpu} vCPU / ${shape.memoryGiB} GiB) beside its system pods`;
    const judgeSized = (cpu: number, memoryGiB: number) =>
      problems(
        (r) =>
          (r["llm-platform:models"].variants.judge.resources = {
            cpu: String(cpu),
            memory: `${memoryGiB}Gi`,
          }),
      );
    const overMemory = judgeSized(shape.vcpu - 1, shape.memoryGiB - 3);
    assert.ok(overMemory.includes(tooLarge), overMemory.join("\n"));
    const overCpu = judgeSized(shape.vcpu, shape.memoryGiB - 4);
    assert.ok(overCpu.includes(tooLarge), overCpu.join("\n"));
    const fits = judgeSized(shape.vcpu - 1, shape.memoryGiB - 4);
    assert.ok(!fits.includes(tooLarge), fits.join("\n"));
  });

  it("rejects an A/B variant the LoRA server does not serve", () => {
    // Every route as the prod stack has it (the registry may add routes); only finetune's split changes.
    const routes = prod.services.gateway.routes;
    const adapters = variantConfig(prod.models, "lora").lora!.adapters;
    const p = problems(
      (r) =>
        (r["llm-platform:services"].gateway.routes = {
          ...structuredClone(routes),
          finetune: {
            timeoutMs: routes.finetune!.timeoutMs,
            variants: [
              { name: adapters[0], weight: 80 },
              { name: "not-an-adapter", weight: 20 },
            ],
          },
        }),
    );
    assert.deepEqual(p, [
      `llm-platform:services.gateway.routes.finetune.variants[1].name: expected one of the LoRA server's adapters (${adapters.join(", ")})`,
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
      // Room on the first group for exactly the peak of the variants that stay there.
      inference.maxSize = variants
        .filter((v) => v !== "judge" && variantNodeGroup(prod.models, v) === inference.name)
        .reduce((n, v) => n + prodPeak(v), 0);
      Object.assign(r["llm-platform:models"].variants.judge, {
        nodeGroup: "judge",
        resources: { cpu: "4", memory: "16Gi" },
        autoscaling: { ...r["llm-platform:models"].variants.judge.autoscaling, maxReplicas: 2 },
      });
    });
    assert.deepEqual(p, [
      "llm-platform:models.variants: 2 model replicas at peak (judge) need 2 GPU nodes (one model per node), nodeGroups.gpu judge allows maxSize 1",
      ...gpuFit("judge", "judge", "g4dn.xlarge"),
      "llm-platform:models.variants.judge.resources: expected at most 3 CPU and 12Gi to fit a g4dn.xlarge node of group judge (4 vCPU / 16 GiB) beside its system pods",
    ]);
  });

  /** The GPU-memory problem of a variant on a group's instance type, if the pure check finds one. */
  function gpuFit(variant: string, group: string, type: string): string[] {
    const shape = gpuInstanceShapes[type]!;
    const why = gpuMemoryShortfall(variantConfig(prod.models, variant), shape);
    return why
      ? [
          `llm-platform:models.variants.${variant}.footprint: ${why}: does not fit one ${shape.gpuModel} GPU of group ${group} (${type})`,
        ]
      : [];
  }

  it("rejects a GPU too small for a model: weights, runtime and one full-length sequence of KV cache", () => {
    // Prod's GPU group on 16 GiB T4s: only variants whose footprint fits may stay.
    const p = problems((r) => {
      for (const g of r["llm-platform:nodeGroups"].gpu) g.instanceTypes = ["g4dn.2xlarge"];
    });
    const footprint = p.filter((x) => x.includes(".footprint:"));
    const expected = variants.flatMap((v) =>
      gpuFit(v, variantNodeGroup(prod.models, v), "g4dn.2xlarge"),
    );
    assert.ok(expected.length > 0, "some registered model does not fit a T4");
    assert.deepEqual(footprint, expected);
  });

  it("fits a model exactly at vLLM's budget, and not a byte over", () => {
    const gpu = { gpuMemoryGiB: 24 };
    const budget = 24 * 0.93 * 0.9;
    const kv = (128 * 8192) / 2 ** 20; // 1 GiB
    const at = (weightsGiB: number) => ({
      footprint: { weightsGiB, kvCacheKiBPerToken: 128 },
      maxModelLen: 8192,
      gpuMemoryUtilization: 0.9,
    });
    assert.equal(gpuMemoryShortfall(at(budget - 2 - kv), gpu), undefined);
    assert.match(
      gpuMemoryShortfall(at(budget - 2 - kv + 0.01), gpu) ?? "",
      /vLLM may use 20\.1 GiB/,
    );
    // A longer context needs more KV cache: the same weights stop fitting.
    assert.ok(gpuMemoryShortfall({ ...at(13.5), maxModelLen: 65_536 }, gpu));
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
  let base: PlatformConfig;
  before(() => (base = parseConfig(cloneStackConfig("prod"), "prod")));
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
