/**
 * The benchmark pipeline as both stacks deploy it: the WorkflowTemplate's shape (what runs where, as
 * whom, retried how, written where), its identities and their exact permissions, and its traffic:
 * the client reaches every variant's port and nothing else is opened.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { programSources } from "../../components/benchmarks/benchmarks";
import {
  benchmarkNames,
  benchmarkSettings,
  modelCache,
} from "../../components/benchmarks/settings";
import {
  clientScript,
  metricPrefix,
  recordedMetrics,
} from "../../components/benchmarks/workflowSteps";
import { planRun } from "../../components/benchmarks/program/plan.mjs";
import { tokenizerDir } from "../../components/platform/modelCacheLayout";
import { dcgmPodLabels } from "../../components/benchmarks/program/main.mjs";
import { prefixReadWritePolicy } from "../../components/lib/aws/bucketPolicies";
import { podMonitorSpecs } from "../../components/observability/prometheus";
import { dashboards } from "../../components/observability/observability";
import { modelServerName, modelUrl } from "../../components/platform/registry";
import { images } from "../../components/platform/versions";
import { replicaRange } from "../../components/config/models";
import { denied } from "../../verify/checks/networkPolicies";
import { podInstances, type PodInstance } from "../../verify/model";
import {
  cloneStackConfig,
  repoRoot,
  runProgram,
  runStack,
  stackConfig,
  stacks,
  mockOidcIssuer,
  validateKubernetesObject,
} from "../../verify/program";
import { verifyStack } from "../../verify/stack";

const template = (run: Awaited<ReturnType<typeof runStack>>, stack: string) =>
  run.get(
    "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
    `llmplatform-${stack}-benchmarks-template`,
  ).inputs;
const tmpl = (spec: any, name: string) => spec.templates.find((t: any) => t.name === name);

/** Every value under `key` anywhere in an object. */
function collect(v: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) v.forEach((x) => collect(x, key, out));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) out.push(x);
      collect(x, key, out);
    }
  }
  return out;
}

for (const stack of stacks) {
  describe(`benchmarks (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;

    it("installs one WorkflowTemplate in the model namespace after Argo, valid against Argo's schema", async () => {
      const run = await runStack(stack);
      const wt = run.get(
        "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
        `${prefix}-benchmarks-template`,
      );
      assert.equal(wt.inputs.metadata.namespace, "llm-baseline");
      assert.equal(wt.inputs.metadata.name, benchmarkNames.template);
      assert.ok(wt.dependsOn.includes("kubernetes:helm.sh/v3:Release::argo-workflows"));
      await validateKubernetesObject(wt);
      assert.deepEqual(
        run.ofType("kubernetes:argoproj.io/v1alpha1:CronWorkflow"),
        [],
        "no schedule in the stack file: runs are on demand",
      );
    });

    it("runs plan, each variant in turn (held, its pending scenarios, released on exit), then the report", async () => {
      const spec = template(await runStack(stack), stack).spec;
      const config = stackConfig(stack);
      assert.equal(spec.entrypoint, "main");
      const main = tmpl(spec, "main");
      assert.equal(main.parallelism, 1, "one variant at a time");
      assert.deepEqual(
        main.dag.tasks.map((t: any) => [t.name, t.depends ?? ""]),
        [
          ["plan", ""],
          ["variants", "plan"],
          [
            "report",
            "variants.Succeeded || variants.Failed || variants.Errored || variants.Skipped",
          ],
        ],
      );
      // The release is the exit hook of each variant's run: it runs on success, failure and stop.
      const [run] = tmpl(spec, "variant").dag.tasks;
      assert.equal(run.hooks.exit.template, "release-if-held");
      assert.equal(
        tmpl(spec, "release-if-held").dag.tasks[0].when,
        "'{{inputs.parameters.scaled-object}}' != ''",
      );
      const variantRun = tmpl(spec, "variant-run");
      assert.equal(variantRun.parallelism, 1, "one scenario at a time");
      assert.deepEqual(
        variantRun.dag.tasks.map((t: any) => t.name),
        ["resume", "hold", "scenarios"],
      );
      // A scenario is the retry unit: node loss, eviction or a lost server retry it with backoff.
      assert.deepEqual(tmpl(spec, "scenario").retryStrategy, {
        limit: config.benchmarks.retries,
        retryPolicy: "Always",
        backoff: { duration: "1m", factor: 2, cap: "10m" },
      });
      assert.deepEqual(spec.synchronization, { mutexes: [{ name: "benchmark" }] });
      assert.equal(spec.parallelism, 1);
      assert.deepEqual(spec.podGC, { strategy: "OnPodSuccess" });
      assert.equal(
        JSON.parse(spec.arguments.parameters.find((p: any) => p.name === "variants").value).join(),
        config.benchmarks.variants.join(),
      );
    });

    it("writes only under benchmarks/ of the results bucket, every object stored as is", async () => {
      const run = await runStack(stack);
      const spec = template(run, stack).spec;
      const artifacts = spec.templates.flatMap((t: any) => [
        ...(t.inputs?.artifacts ?? []),
        ...(t.outputs?.artifacts ?? []),
      ]);
      assert.ok(artifacts.length > 0);
      for (const a of artifacts) {
        assert.match(a.s3.key, /^benchmarks(\/|$)/, a.name);
        assert.deepEqual(a.archive, { none: {} }, a.name);
      }
      assert.deepEqual(collect(spec, "encryptionOptions"), []);
      const repo = run.get(
        "kubernetes:core/v1:ConfigMap",
        `${prefix}-benchmarks-artifact-repositories`,
      ).inputs;
      assert.equal(repo.metadata.name, "artifact-repositories");
      assert.equal(
        repo.metadata.annotations["workflows.argoproj.io/default-artifact-repository"],
        "default-v1",
      );
      assert.deepEqual(JSON.parse(repo.data["default-v1"]), {
        s3: {
          bucket: `${prefix}-results-20261123`,
          endpoint: `s3.${stackConfig(stack).region}.amazonaws.com`,
          region: stackConfig(stack).region,
          insecure: false,
          useSDKCreds: true,
          keyFormat: "benchmarks/_argo/{{workflow.name}}/{{pod.name}}",
        },
      });
    });

    it("benchmarks with the variants' own vLLM image on CPU nodes, offline, the model cache mounted read-only", async () => {
      const spec = template(await runStack(stack), stack).spec;
      const config = stackConfig(stack);
      for (const name of ["bench", "bench-prompt-set"]) {
        const c = tmpl(spec, name).container;
        assert.equal(c.image, images.vllm);
        assert.deepEqual(c.command, ["/bin/sh", "-c", clientScript, "vllm-bench-serve"]);
        assert.match(clientScript, /\nexec vllm bench serve --tokenizer "\$tok" "\$@"\n$/);
        const compute = {
          cpu: config.benchmarks.client.cpu,
          memory: config.benchmarks.client.memory,
        };
        assert.deepEqual(c.resources, { requests: compute, limits: compute });
        assert.deepEqual(
          c.volumeMounts.find((m: any) => m.name === "model-cache"),
          { name: "model-cache", mountPath: "/models", readOnly: true },
        );
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
        assert.equal(env.HF_HUB_OFFLINE, "1", "no download, no token");
        assert.equal(env.LORA_MODULES, "{{inputs.parameters.lora-modules}}");
        assert.equal(env.TZ, "UTC", "vLLM stamps its result in local time");
        const flag = (f: string) => c.args[c.args.indexOf(f) + 1];
        assert.deepEqual(c.args.slice(0, 2), ["--tokenizer", "{{inputs.parameters.tokenizer}}"]);
        assert.equal(flag("--base-url"), "{{inputs.parameters.url}}");
        // Requests name the served model; the tokenizer is a path, so --model is nothing else.
        assert.equal(flag("--model"), "{{inputs.parameters.served-model-name}}");
        assert.ok(!c.args.includes("--served-model-name"));
        assert.equal(flag("--percentile-metrics"), "ttft,tpot,itl,e2el");
        assert.equal(flag("--metric-percentiles"), "50,95,99");
        assert.equal(flag("--dataset-name"), name === "bench" ? "random" : "custom");
      }
      assert.deepEqual(spec.nodeSelector, { workload: "cpu" });
      assert.equal(spec.securityContext.runAsNonRoot, true);
      // The variants a run may target, and their Services, come from the registry and config.
      const settings = benchmarkSettings(config.benchmarks, config.models);
      for (const [v, t] of Object.entries(settings.variants)) {
        assert.equal(t.url, modelUrl(v));
        assert.equal(t.deployment, modelServerName(v));
        assert.equal(
          t.scaledObject,
          config.models.variants[v]!.autoscaling ? modelServerName(v) : null,
        );
      }
    });

    it("reads the model cache as the model servers lay it out (claim, mount, HF_HOME, owner)", async () => {
      const run = await runStack(stack);
      const server = run.get("kubernetes:apps/v1:Deployment", modelServerName("baseline")).inputs
        .spec.template.spec;
      const vllm = server.containers[0];
      const cache = server.volumes.find((v: any) => v.persistentVolumeClaim);
      assert.equal(cache.persistentVolumeClaim.claimName, modelCache.claim);
      assert.equal(
        vllm.volumeMounts.find((m: any) => m.name === cache.name).mountPath,
        modelCache.mountPath,
      );
      assert.equal(vllm.env.find((e: any) => e.name === "HF_HOME").value, modelCache.hfHome);
      assert.deepEqual(
        [server.securityContext.runAsUser, server.securityContext.runAsGroup],
        [modelCache.user.uid, modelCache.user.gid],
      );
    });

    it("gives every variant's client a tokenizer the platform writes, on the volume the client mounts", async () => {
      const run = await runStack(stack);
      const config = stackConfig(stack);
      const settings = benchmarkSettings(config.benchmarks, config.models);
      const spec = template(run, stack).spec;
      const client = tmpl(spec, "bench");
      const clientCache = client.volumes.find((v: any) => v.name === "model-cache");
      const clientMount = client.container.volumeMounts.find((m: any) => m.name === "model-cache");
      const user = (pod: any) => [pod.securityContext.runAsUser, pod.securityContext.runAsGroup];
      // Where a pod mounts the model-cache claim, and whether it sets an fsGroup (EFS access points
      // assign the owner; a chown by fsGroup would fail there, so no pod sets one).
      const cacheMount = (pod: any, container: any) => {
        const v = pod.volumes.find((x: any) => x.persistentVolumeClaim);
        assert.equal(
          v.persistentVolumeClaim.claimName,
          clientCache.persistentVolumeClaim.claimName,
        );
        assert.equal(pod.securityContext.fsGroup, undefined);
        return container.volumeMounts.find((m: any) => m.name === v.name).mountPath;
      };
      assert.equal(spec.securityContext.fsGroup, undefined);
      const kinds = new Set<string>();
      const plan = planRun(settings, JSON.stringify(Object.keys(settings.variants)), "r", "w");
      for (const [v, target] of Object.entries(settings.variants)) {
        const variant = config.models.variants[v]!;
        kinds.add(variant.weightsFrom);
        // The plan step hands the variant's tokenizer to the client as its --tokenizer.
        assert.equal(plan.items.find((i) => i.variant === v)!.tokenizer, target.tokenizer);
        const server = run.get("kubernetes:apps/v1:Deployment", modelServerName(v)).inputs.spec
          .template.spec;
        assert.deepEqual(user(server), user(spec), v);
        if (variant.weightsFrom === "store") {
          // The staging Job of the variant's model and revision publishes that directory.
          const job = run
            .ofType("kubernetes:batch/v1:Job")
            .find(
              (j) =>
                j.inputs.metadata.annotations["llmplatform.io/model"] === variant.model &&
                j.inputs.metadata.annotations["llmplatform.io/revision"] === variant.revision,
            );
          assert.ok(job, `${v}: a staging Job for ${variant.model}@${variant.revision}`);
          const pod = job.inputs.spec.template.spec;
          const upload = pod.containers[0];
          const env = Object.fromEntries(upload.env.map((e: any) => [e.name, e.value]));
          assert.equal(target.tokenizer, env.MODEL_FILES_DIR, v);
          assert.equal(target.tokenizer, tokenizerDir(variant.model, variant.revision));
          assert.equal(cacheMount(pod, upload), clientMount.mountPath, `${v}: same mount path`);
          assert.deepEqual(user(pod), user(spec), `${v}: the Job writes as the client reads`);
        } else {
          // The Hub cache's snapshot of the commit the server pins, under its HF_HOME.
          const vllm = server.containers[0];
          const revision = vllm.args[vllm.args.indexOf("--revision") + 1];
          assert.equal(revision, variant.revision);
          const hfHome = vllm.env.find((e: any) => e.name === "HF_HOME").value;
          assert.ok(hfHome.startsWith(`${cacheMount(server, vllm)}/`), v);
          const repo = `${hfHome}/hub/models--${variant.model.split("/").join("--")}`;
          assert.equal(
            target.tokenizer,
            /^[0-9a-f]{40}$/.test(revision)
              ? `${repo}/snapshots/${revision}`
              : `${repo}/refs/${revision}`,
            v,
          );
        }
        assert.ok(target.tokenizer.startsWith(`${clientMount.mountPath}/`), v);
      }
      assert.deepEqual([...kinds].sort(), ["hub", "store"], "both kinds of variant are checked");
    });

    it("ships the program as written, with the settings it is built from", async () => {
      const run = await runStack(stack);
      const cm = run.get("kubernetes:core/v1:ConfigMap", `${prefix}-benchmarks-program`).inputs;
      for (const [file, text] of Object.entries(programSources())) {
        assert.equal(cm.data[file], text);
        assert.equal(
          text,
          fs.readFileSync(`${repoRoot}/components/benchmarks/program/${file}`, "utf8"),
        );
      }
      const config = stackConfig(stack);
      assert.deepEqual(
        JSON.parse(cm.data["settings.json"]),
        benchmarkSettings(config.benchmarks, config.models),
      );
    });

    it("gives each scenario's figures to Prometheus under the names the Benchmarks dashboard reads", async () => {
      const spec = template(await runStack(stack), stack).spec;
      const record = tmpl(spec, "record");
      const emitted = record.metrics.prometheus.map((m: any) => `argo_workflows_${m.name}`);
      assert.deepEqual(
        emitted,
        recordedMetrics.map((m) => `argo_workflows_${metricPrefix}${m.name}`),
      );
      // Every gauge names its variant, scenario and run (the dashboard picks each variant's latest
      // run by run_id), from the record step's own inputs; label keys are Argo-valid.
      const inputNames = record.inputs.parameters.map((p: { name: string }) => p.name);
      for (const m of record.metrics.prometheus) {
        assert.deepEqual(m.labels, [
          { key: "variant", value: "{{inputs.parameters.variant}}" },
          { key: "scenario", value: "{{inputs.parameters.scenario}}" },
          { key: "run_id", value: "{{inputs.parameters.run-id}}" },
        ]);
        for (const l of m.labels) {
          assert.match(l.key, /^\w+$/, `${m.name}: label key ${l.key}`);
          const input = /^\{\{inputs\.parameters\.([\w-]+)\}\}$/.exec(l.value)![1];
          assert.ok(inputNames.includes(input), `${m.name}: ${input} is an input of record`);
        }
      }
      const queried = [...dashboards.benchmarks!.matchAll(/argo_workflows_benchmark_\w+/g)].map(
        (m) => m[0],
      );
      assert.ok(queried.length > 0);
      for (const q of queried) assert.ok(emitted.includes(q), `${q} is emitted by the record step`);
      // DCGM series are read under the exporter's PodMonitor's label names (target labels win).
      assert.ok(
        !("honorLabels" in podMonitorSpecs()["dcgm-exporter"].podMetricsEndpoints[0]!),
        "the DCGM PodMonitor does not honour the exporter's labels",
      );
      assert.deepEqual(dcgmPodLabels, { namespace: "exported_namespace", pod: "exported_pod" });
    });

    it("gives its artifacts identity exactly read-write under benchmarks/, trusted by its service account only", async () => {
      const run = await runStack(stack);
      const role = run.get("aws:iam/role:Role", `${prefix}-benchmarks`);
      assert.equal(role.inputs.name, `${prefix}-benchmark-irsa`);
      const issuer = mockOidcIssuer(stackConfig(stack).region);
      assert.deepEqual(
        JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals,
        {
          [`${issuer}:sub`]: "system:serviceaccount:llm-baseline:benchmark",
          [`${issuer}:aud`]: "sts.amazonaws.com",
        },
      );
      const bucket = `arn:aws:s3:::${prefix}-results-20261123`;
      const policy = run.get(
        "aws:iam/rolePolicy:RolePolicy",
        `${prefix}-benchmarks-results-benchmarks-readwrite`,
      );
      assert.deepEqual(
        JSON.parse(policy.inputs.policy),
        prefixReadWritePolicy(bucket, "benchmarks"),
      );
      assert.deepEqual(prefixReadWritePolicy(bucket, "benchmarks").Statement, [
        {
          Sid: "ListPrefix",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: bucket,
          Condition: { StringLikeIfExists: { "s3:prefix": ["benchmarks/", "benchmarks/*"] } },
        },
        {
          Sid: "ReadWritePrefix",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject"],
          Resource: `${bucket}/benchmarks/*`,
        },
      ]);
      const sa = (n: string) => run.get("kubernetes:core/v1:ServiceAccount", n).inputs.metadata;
      assert.equal(
        sa(`${prefix}-benchmarks-sa`).annotations["eks.amazonaws.com/role-arn"],
        `arn:aws:iam::111122223333:role/${prefix}-benchmark-irsa`,
      );
      assert.equal(sa(`${prefix}-benchmarks-scaler-sa`).annotations, undefined, "no AWS access");
    });

    it("lets its pods do in Kubernetes only what a benchmark needs", async () => {
      const run = await runStack(stack);
      const config = stackConfig(stack);
      const role = (n: string) =>
        run.get("kubernetes:rbac.authorization.k8s.io/v1:Role", `${prefix}-benchmarks-${n}`).inputs;
      const binding = (n: string) =>
        run.get("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", `${prefix}-benchmarks-${n}`)
          .inputs;
      assert.deepEqual(role("benchmark-executor").rules, [
        {
          apiGroups: ["argoproj.io"],
          resources: ["workflowtaskresults"],
          verbs: ["create", "patch"],
        },
      ]);
      assert.deepEqual(
        binding("benchmark-executor")
          .subjects.map((s: any) => s.name)
          .sort(),
        ["benchmark", "benchmark-scaler"],
      );
      const serving = Object.entries(config.models.variants).filter(
        ([, v]) => replicaRange(v).max > 0,
      );
      const autoscaled = serving.filter(([, v]) => v.autoscaling).map(([n]) => modelServerName(n));
      assert.deepEqual(role("benchmark-scaler").rules, [
        ...(autoscaled.length
          ? [
              {
                apiGroups: ["keda.sh"],
                resources: ["scaledobjects"],
                verbs: ["get", "patch"],
                resourceNames: autoscaled,
              },
            ]
          : []),
        {
          apiGroups: ["apps"],
          resources: ["deployments"],
          verbs: ["get"],
          resourceNames: serving.map(([n]) => modelServerName(n)),
        },
      ]);
      assert.deepEqual(
        binding("benchmark-scaler").subjects.map((s: any) => s.name),
        ["benchmark-scaler"],
      );
      // Only the steps that hold, release or wait for a variant run as the scaler.
      const spec = template(run, stack).spec;
      const asScaler = spec.templates.filter(
        (t: any) => t.serviceAccountName === "benchmark-scaler",
      );
      assert.deepEqual(asScaler.map((t: any) => t.name).sort(), ["hold", "ready", "release"]);
      assert.ok(asScaler.every((t: any) => t.resource));
    });

    it("opens the client's way to every variant's port and nothing else", async () => {
      const v = await verifyStack(await runStack(stack), { render: false, pull: false });
      const pods = podInstances(v.model);
      const of = (step: string) =>
        pods.filter(
          (p) => p.labels.app === "benchmark" && p.labels[benchmarkNames.stepLabel] === step,
        );
      const reachable = (from: PodInstance) =>
        pods
          .flatMap((to) =>
            (to.spec.containers ?? []).flatMap((c: any) =>
              (c.ports ?? []).map((p: any) => ({
                to,
                port: p.containerPort,
                proto: p.protocol ?? "TCP",
              })),
            ),
          )
          .filter(
            ({ to, port, proto }) =>
              denied(v.model, { pod: from }, { pod: to }, port, proto) === undefined,
          )
          .map(({ to, port }) => `${to.owner}:${port}`);
      const everyPodMay = new Set(
        reachable(pods.find((p) => p.owner === "Deployment llm-baseline/vllm-baseline")!),
      );
      // What any pod of the namespace may reach (DNS, the OTLP collector) plus, for the client,
      // each variant's server on 8000; for the record step, Prometheus.
      const extra = (step: string) => {
        const [pod] = of(step);
        assert.ok(pod, `a ${step} pod`);
        return reachable(pod)
          .filter((x) => !everyPodMay.has(x))
          .sort();
      };
      const config = stackConfig(stack);
      assert.deepEqual(
        extra("bench"),
        Object.keys(config.models.variants)
          .map((n) => `Deployment llm-baseline/${modelServerName(n)}:8000`)
          .sort(),
      );
      assert.deepEqual(extra("record"), ["Prometheus observability/kps-prometheus:9090"]);
      for (const step of ["plan", "resume", "report", "scale"])
        assert.deepEqual(extra(step), [], step);
      // The Kubernetes API for every step's executor; AWS (S3, STS) only for those moving artifacts.
      const aws = { ip: "52.94.0.10", name: "S3" };
      const apiServer = { ip: v.model.vpcAddress, name: "API server" };
      for (const step of ["plan", "resume", "bench", "record", "report", "scale"]) {
        for (const pod of of(step)) {
          assert.equal(denied(v.model, { pod }, apiServer, 443), undefined, step);
          assert.equal(denied(v.model, { pod }, aws, 443) === undefined, step !== "scale", step);
          assert.notEqual(denied(v.model, { pod }, aws, 80), undefined, `${step}: only 443`);
        }
      }
    });
  });
}

describe("benchmarks: the client's tokenizer (its sh wrapper, with a fake vllm)", () => {
  const commit = "c170c708c41dac9275d15a8fff4eca08d52bab71";
  /** Runs the client's script as its container does, `vllm` replaced by one that prints its args. */
  function client(args: string[], env: Record<string, string> = {}) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-client-"));
    fs.mkdirSync(path.join(root, "bin"));
    fs.writeFileSync(path.join(root, "bin", "vllm"), '#!/bin/sh\nprintf "%s\\n" "$@"\n', {
      mode: 0o755,
    });
    const at = (p: string) => path.join(root, p);
    const run = (a: string[] = args.map((x) => (x.startsWith("/") ? at(x) : x))) => {
      const r = spawnSync("/bin/sh", ["-c", clientScript, "vllm-bench-serve", ...a], {
        env: { PATH: `${at("bin")}:${process.env.PATH}`, ...env },
        encoding: "utf8",
      });
      return { status: r.status, argv: r.stdout.trim().split("\n"), err: r.stderr };
    };
    return { at, run };
  }

  it("passes a store variant's directory on, and says who writes it when it is missing", () => {
    const dir = tokenizerDir("mistralai/Mistral-7B-Instruct-v0.3", commit);
    const c = client(["--tokenizer", dir, "--model", "mistral-7b-instruct"]);
    const missing = c.run();
    assert.equal(missing.status, 1);
    assert.match(missing.err, /no tokenizer at .* the model staging Job publishes/);
    fs.mkdirSync(c.at(dir), { recursive: true });
    const ok = c.run();
    assert.equal(ok.status, 0, ok.err);
    assert.deepEqual(ok.argv, [
      "bench",
      "serve",
      "--tokenizer",
      c.at(dir),
      "--model",
      "mistral-7b-instruct",
    ]);
    assert.equal(c.run(["--model", "x"]).status, 2, "--tokenizer comes first");
  });

  it("reads a Hub variant's snapshot, through the cache's ref when the revision is a tag", () => {
    const config = stackConfig("dev");
    const lora = config.models.variants.lora!;
    assert.equal(lora.weightsFrom, "hub");
    const withRevision = (revision: string) =>
      benchmarkSettings(config.benchmarks, {
        ...config.models,
        variants: { ...config.models.variants, lora: { ...lora, revision } },
      }).variants.lora!.tokenizer;
    const repo = `/models/huggingface/hub/models--${lora.model.replace("/", "--")}`;
    assert.equal(withRevision(commit), `${repo}/snapshots/${commit}`);
    assert.equal(withRevision("v1.0"), `${repo}/refs/v1.0`);
    // The Hub cache as huggingface_hub leaves it after a download by tag: the snapshot is named by
    // the commit, refs/<tag> holds the commit (no newline).
    const c = client(["--tokenizer", withRevision("v1.0"), "--disable-tqdm"]);
    fs.mkdirSync(c.at(`${repo}/snapshots/${commit}`), { recursive: true });
    fs.mkdirSync(c.at(`${repo}/refs`), { recursive: true });
    fs.writeFileSync(c.at(`${repo}/refs/v1.0`), commit);
    const byTag = c.run();
    assert.equal(byTag.status, 0, byTag.err);
    assert.deepEqual(byTag.argv, [
      "bench",
      "serve",
      "--tokenizer",
      c.at(`${repo}/snapshots/${commit}`),
      "--disable-tqdm",
    ]);
    const byCommit = c.run(["--tokenizer", c.at(withRevision(commit)), "--disable-tqdm"]);
    assert.deepEqual(byCommit.argv, byTag.argv);
  });

  it("spreads a LoRA variant's requests over its adapters, round-robin; others ask the base model", () => {
    const config = stackConfig("dev");
    const settings = benchmarkSettings(config.benchmarks, config.models);
    const items = planRun(settings, JSON.stringify(Object.keys(settings.variants)), "r", "w").items;
    for (const item of items) {
      const lora = config.models.variants[item.variant!]!.lora;
      assert.equal(item["lora-modules"], (lora?.adapters ?? []).join(" "), item.variant);
    }
    const lora = items.find((i) => i.variant === "lora")!;
    assert.equal(lora["lora-modules"], "lora-v1 lora-v2");
    const dir = tokenizerDir("m/x", commit);
    const run = (modules: string) => {
      const c = client(["--tokenizer", dir, "--model", "served"], { LORA_MODULES: modules });
      fs.mkdirSync(c.at(dir), { recursive: true });
      return c.run().argv.slice(4);
    };
    assert.deepEqual(run(lora["lora-modules"]), [
      "--model",
      "served",
      "--lora-modules",
      "lora-v1",
      "lora-v2",
      "--lora-assignment",
      "round-robin",
    ]);
    assert.deepEqual(run(""), ["--model", "served"]);
  });
});

describe("benchmarks: a schedule", () => {
  it("runs the template from a CronWorkflow only when the stack schedules it", async () => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    raw["llm-platform:benchmarks"].schedule = { cron: "0 3 * * 0", timezone: "Europe/Berlin" };
    const run = await runProgram("prod", raw);
    if (run.error) throw run.error;
    const [cron] = run.ofType("kubernetes:argoproj.io/v1alpha1:CronWorkflow");
    assert.ok(cron);
    await validateKubernetesObject(cron);
    assert.deepEqual(cron.inputs.spec, {
      schedules: ["0 3 * * 0"],
      timezone: "Europe/Berlin",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      workflowSpec: { workflowTemplateRef: { name: "benchmark" } },
    });
    assert.deepEqual(cron.dependsOn, [
      "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate::llmplatform-prod-benchmarks-template",
    ]);
  });
});
