/**
 * The model store: its layout, the staging program (run by Node as the Job runs it), the staging Job,
 * and what each stack registers for it (bucket and its guard, scoped roles, one Job per model and
 * revision).
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  modelStagingPolicy,
  onlyWriterStatement,
  prefixReadPolicy,
} from "../../components/lib/aws/bucketPolicies";
import { stagingJobSpec, stageProgram } from "../../components/models/modelStaging";
import { storedModels } from "../../components/models/modelStore";
import {
  modelPrefix,
  stagedMarkerKey,
  stagingJobName,
  storeModelUri,
} from "../../components/models/modelStoreLayout";
import { images } from "../../components/platform/versions";
import { checkCluster } from "../../verify/checks";
import { verifyStack } from "../../verify/stack";
import {
  configProblems,
  repoRoot,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
  mockOidcIssuer,
} from "../../verify/program";

const mistral = "mistralai/Mistral-7B-Instruct-v0.3";
const commit = "c170c708c41dac9275d15a8fff4eca08d52bab71";

/** Node.js 22.18+ strips types by default; 22.6-22.17 need the flag (the project needs Node 22). */
const stripTypes = (process as { features?: { typescript?: string } }).features?.typescript
  ? []
  : ["--experimental-strip-types", "--no-warnings"];

describe("model store: layout", () => {
  it("keeps each revision under its own prefix, the marker outside it", () => {
    assert.equal(modelPrefix(mistral, commit), `models/${mistral}/${commit}/`);
    assert.equal(stagedMarkerKey(mistral, commit), `models/.staged/${mistral}/${commit}.json`);
    assert.ok(!stagedMarkerKey(mistral, commit).startsWith(modelPrefix(mistral, commit)));
    assert.equal(storeModelUri("b", mistral, commit), `s3://b/models/${mistral}/${commit}/`);
  });

  it("names a staging Job per model and revision: readable, a DNS label, new when either changes", () => {
    const name = stagingJobName(mistral, commit);
    assert.match(name, /^stage-mistral-7b-instruct-v0-3-[0-9a-f]{10}$/);
    assert.notEqual(stagingJobName(mistral, "v1.0"), name);
    assert.notEqual(stagingJobName("other/Mistral-7B-Instruct-v0.3", commit), name);
    const long = stagingJobName(`org/${"A_very.long-Model".repeat(8)}`, commit);
    assert.ok(long.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  });

  it("stages a model and revision once, however many variants stream it; gated if any says so", () => {
    const m = (model: string, revision: string, gated: boolean) => ({ model, revision, gated });
    assert.deepEqual(
      storedModels([m("a/x", "1", false), m("b/y", "1", false), m("a/x", "1", true)]),
      [m("a/x", "1", true), m("b/y", "1", false)],
    );
    assert.equal(storedModels([m("a/x", "1", false), m("a/x", "2", false)]).length, 2);
  });
});

/** A fake Hub: a model's refs, its file list at one commit, and the files. */
function fakeHub(
  files: Record<string, string>,
  opts: { tags?: string[]; gated?: boolean; corrupt?: string } = {},
) {
  const blob = (body: string) => ({
    size: Buffer.byteLength(body),
    lfs: {
      sha256: createHash("sha256").update(body).digest("hex"),
      size: Buffer.byteLength(body),
    },
  });
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? "-"}`);
    if (opts.gated && req.headers.authorization !== "Bearer hf_test") {
      res.writeHead(401).end();
      return;
    }
    const url = req.url ?? "";
    const json = (o: unknown) => res.writeHead(200).end(JSON.stringify(o));
    if (url.startsWith(`/api/models/${mistral}/revision/`)) {
      json({
        sha: commit,
        siblings: Object.entries(files).map(([rfilename, body]) => ({
          rfilename,
          ...(rfilename.endsWith(".safetensors") ? blob(body) : { size: Buffer.byteLength(body) }),
        })),
      });
    } else if (url === `/api/models/${mistral}/refs`) {
      json({ branches: [{ name: "main" }], tags: (opts.tags ?? []).map((name) => ({ name })) });
    } else if (url.startsWith(`/${mistral}/resolve/${commit}/`)) {
      const name = decodeURIComponent(url.split("/").pop()!);
      if (files[name] === undefined) res.writeHead(404).end();
      else res.writeHead(200).end(name === opts.corrupt ? files[name].toUpperCase() : files[name]);
    } else {
      res.writeHead(404).end();
    }
  });
  return { server, seen };
}

/**
 * Runs the staging program against a fake Hub: in this process (its module), or, with `spawned`, as the
 * Job's download step runs it: the shipped file under Node, types stripped.
 */
async function stage(
  files: Record<string, string>,
  env: Record<string, string>,
  hub: { tags?: string[]; gated?: boolean; corrupt?: string } = {},
  spawned = false,
) {
  const { server, seen } = fakeHub(files, hub);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "stage-"));
  const dir = path.join(root, "staging");
  const vars = {
    MODEL: mistral,
    REVISION: commit,
    STAGING_DIR: dir,
    HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...env,
  };
  let out = "";
  let code: number | null;
  if (spawned) {
    const script = path.join(root, "stage.mts");
    fs.writeFileSync(script, stageProgram());
    const child = spawn(process.execPath, [...stripTypes, script], { env: vars });
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  } else {
    const program = await import("../../components/models/modelStage.mjs");
    const log = { log: (l: string) => (out += `${l}\n`), error: (l: string) => (out += `${l}\n`) };
    code = await program
      .stageModel(program.settingsFromEnv(vars), fetch, log)
      .catch((e: Error) => (log.error(e.message), 1));
  }
  server.close();
  return { code, out, dir, root, seen };
}

const repo = {
  "config.json": '{"architectures":["MistralForCausalLM"]}',
  "tokenizer.json": "{}",
  "tokenizer.model.v3": "sp",
  "model.safetensors.index.json": JSON.stringify({
    weight_map: {
      "a.weight": "model-00001-of-00002.safetensors",
      "b.weight": "model-00002-of-00002.safetensors",
    },
  }),
  "model-00001-of-00002.safetensors": "shard one",
  "model-00002-of-00002.safetensors": "shard two",
  "consolidated.safetensors": "the same weights in Mistral's format",
  "pytorch_model.bin": "pickle",
  ".gitattributes": "*.safetensors filter=lfs",
  "original/params.json": "{}",
};

describe("model store: the staging program (the shipped file under Node)", () => {
  it("ships the file as written", () => {
    assert.equal(
      stageProgram(),
      fs.readFileSync(path.join(repoRoot, "components", "models", "modelStage.mts"), "utf8"),
    );
  });

  it("copies config, tokenizer and the indexed shards, verified, and writes the manifest", async () => {
    const r = await stage(repo, {}, {}, true);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(fs.readdirSync(r.dir).sort(), [
      "config.json",
      "manifest.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
      "tokenizer.json",
      "tokenizer.model.v3",
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(r.dir, "manifest.json"), "utf8"));
    assert.equal(manifest.commit, commit);
    assert.equal(manifest.files.length, 6);
    assert.ok(
      manifest.files.find((f: any) => f.name.endsWith("00001-of-00002.safetensors")).sha256,
    );
    assert.ok(
      r.seen.every((s) => s.endsWith(" -")),
      "no token sent for a public model",
    );
  });

  it("sends the token of a gated model, read from its file", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "token-"));
    fs.writeFileSync(path.join(root, "token"), "hf_test\n");
    const r = await stage(repo, { HF_TOKEN_PATH: path.join(root, "token") }, { gated: true });
    assert.equal(r.code, 0, r.out);
    assert.ok(r.seen.every((s) => s.endsWith(" Bearer hf_test")));
    const refused = await stage(repo, {}, { gated: true });
    assert.equal(refused.code, 1);
    assert.match(refused.out, /HTTP 401 \(a gated model: set llm-platform:hfToken\)/);
  });

  it("refuses a file whose bytes differ from the Hub's SHA-256, and keeps it out of place", async () => {
    const r = await stage(repo, {}, { corrupt: "model-00002-of-00002.safetensors" });
    assert.equal(r.code, 1);
    assert.match(r.out, /model-00002-of-00002\.safetensors: SHA-256 [0-9a-f]{64}, the Hub lists/);
    assert.ok(!fs.existsSync(path.join(r.dir, "model-00002-of-00002.safetensors")));
    assert.ok(!fs.existsSync(path.join(r.dir, "manifest.json")), "no marker for a broken copy");
  });

  it("does nothing when the check step found the model in the store", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "skip-"));
    fs.writeFileSync(path.join(root, "staged"), "");
    const r = await stage(repo, { SKIP_FILE: path.join(root, "staged") });
    assert.equal(r.code, 0);
    assert.match(r.out, /already in the model store/);
    assert.deepEqual(r.seen, [], "not a single request to the Hub");
  });

  it("refuses a branch, and a repository without safetensors", async () => {
    const branch = await stage(repo, { REVISION: "main" }, { tags: ["v1.0"] });
    assert.equal(branch.code, 1);
    assert.match(branch.out, /main is a branch, which moves: pin a commit hash or a tag/);
    const tag = await stage(repo, { REVISION: "v1.0" }, { tags: ["v1.0"] });
    assert.equal(tag.code, 0, tag.out);
    const {
      "model-00001-of-00002.safetensors": _a,
      "model-00002-of-00002.safetensors": _b,
      ...rest
    } = repo;
    const noWeights = await stage(
      {
        ...rest,
        "model.safetensors.index.json": '{"weight_map":{}}',
        "consolidated.safetensors": "x",
      },
      {},
    );
    assert.equal(noWeights.code, 1);
    assert.match(noWeights.out, /no safetensors weights: .*weightsFrom: hub/);
  });
});

describe("model store: the staging Job", () => {
  const spec = (gated: boolean) =>
    stagingJobSpec({
      model: mistral,
      revision: commit,
      gated,
      bucket: "store",
      region: "us-west-2",
      serviceAccount: "model-stage",
      cacheClaim: "model-cache",
      scriptsConfigMap: "model-stage-scripts",
      tokenSecret: "hf-token",
      user: { uid: 2000, gid: 0 },
    });

  it("checks the store, downloads from the Hub, then uploads: the token reaches the download step only", () => {
    const pod = (spec(true).template as any).spec;
    const steps = [...pod.initContainers, ...pod.containers];
    assert.deepEqual(
      steps.map((c: any) => [c.name, c.image, c.command.join(" ")]),
      [
        ["check", images.awsCli, "/bin/bash /scripts/check.sh"],
        ["download", images.node, "node /scripts/stage.mts"],
        ["upload", images.awsCli, "/bin/bash /scripts/upload.sh"],
      ],
    );
    const tokenMounts = steps.filter((c: any) =>
      c.volumeMounts.some((m: any) => m.name === "hf-token"),
    );
    assert.deepEqual(
      tokenMounts.map((c: any) => c.name),
      ["download"],
    );
    assert.ok(!(spec(false).template as any).spec.volumes.some((v: any) => v.name === "hf-token"));
    assert.deepEqual(pod.nodeSelector, { workload: "cpu" });
    for (const c of steps) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, c.name);
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
      assert.equal(env.MARKER_KEY, stagedMarkerKey(mistral, commit));
      assert.equal(env.MODEL_PREFIX, modelPrefix(mistral, commit));
      assert.ok(!("HF_TOKEN" in env));
    }
  });
});

for (const stack of stacks) {
  describe(`model store (${stack})`, () => {
    const bucketName = `llmplatform-${stack}-models-20261123`;
    const bucket = `arn:aws:s3:::${bucketName}`;
    const stagerArn = `arn:aws:iam::${testAccountId}:role/llmplatform-${stack}-model-stage-irsa`;

    it("keeps the store in its own private bucket that only the staging role may write", async () => {
      const run = await runStack(stack);
      const policy = JSON.parse(
        run.get("aws:s3/bucketPolicy:BucketPolicy", `llmplatform-${stack}-models`).inputs.policy,
      );
      assert.deepEqual(policy.Statement[0], onlyWriterStatement(bucket, stagerArn));
      assert.deepEqual(onlyWriterStatement(bucket, stagerArn), {
        Sid: "OnlyTheStagingRoleWrites",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: `${bucket}/*`,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": stagerArn } },
      });
      const role = run.get("aws:iam/role:Role", `llmplatform-${stack}-models-store-stage`);
      assert.equal(`arn:aws:iam::${testAccountId}:role/${role.inputs.name}`, stagerArn);
    });

    it("lets the staging Job write only under models/, and the streaming servers only read there", async () => {
      const run = await runStack(stack);
      const inline = (role: string, name: string) =>
        JSON.parse(
          run.get(
            "aws:iam/rolePolicy:RolePolicy",
            `llmplatform-${stack}-models-store-${role}-${name}`,
          ).inputs.policy,
        );
      assert.deepEqual(inline("stage", "models-stage"), modelStagingPolicy(bucket, "models/"));
      assert.deepEqual(modelStagingPolicy(bucket, "models/").Statement, [
        {
          Sid: "ListModelPrefix",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: bucket,
          Condition: { StringLike: { "s3:prefix": ["models/", "models/*"] } },
        },
        {
          Sid: "ReadModels",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `${bucket}/models/*`,
        },
        {
          Sid: "WriteModels",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
          Resource: `${bucket}/models/*`,
        },
      ]);
      assert.deepEqual(
        inline("streamer", "models-read"),
        prefixReadPolicy(bucket, "models/", "Model"),
      );
      for (const [role, account] of [
        ["stage", "model-stage"],
        ["streamer", "model-streamer"],
      ] as const) {
        const trust = JSON.parse(
          run.get("aws:iam/role:Role", `llmplatform-${stack}-models-store-${role}`).inputs
            .assumeRolePolicy,
        );
        const issuer = mockOidcIssuer(stackConfig(stack).region);
        assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
          [`${issuer}:sub`]: `system:serviceaccount:llm-baseline:${account}`,
          [`${issuer}:aud`]: "sts.amazonaws.com",
        });
      }
    });

    it("stages each streamed model and revision with one Job, never awaited by pulumi up", async () => {
      const run = await runStack(stack);
      const models = stackConfig(stack).models;
      const streamed = Object.values(models.variants).filter((v) => v.weightsFrom === "store");
      const jobs = run.ofType("kubernetes:batch/v1:Job");
      assert.deepEqual(
        jobs.map((j) => j.inputs.metadata.name).sort(),
        storedModels(streamed)
          .map((m) => stagingJobName(m.model, m.revision))
          .sort(),
      );
      for (const job of jobs) {
        const { model, revision } = {
          model: job.inputs.metadata.annotations["llmplatform.io/model"],
          revision: job.inputs.metadata.annotations["llmplatform.io/revision"],
        };
        assert.equal(job.inputs.metadata.annotations["pulumi.com/skipAwait"], "true");
        assert.equal(job.inputs.metadata.namespace, "llm-baseline");
        assert.deepEqual(job.dependsOn, [
          `llmplatform:aws:IrsaRole::llmplatform-${stack}-models-store-stage`,
        ]);
        const pod = job.inputs.spec.template.spec;
        assert.equal(pod.serviceAccountName, "model-stage");
        const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
        assert.equal(env.STORE_BUCKET, bucketName);
        assert.equal(env.MODEL, model);
        assert.equal(env.REVISION, revision);
        const gated = streamed.some((v) => v.model === model && v.gated);
        assert.equal(
          pod.volumes.some((v: any) => v.name === "hf-token"),
          gated,
          model,
        );
      }
      const egress = run.get(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "llm-baseline-allow-model-stage-https",
      ).inputs.spec;
      assert.deepEqual(egress.podSelector, { matchLabels: { app: "model-stage" } });
    });

    it("proves the flows in the whole cluster: staging and streamers reach S3, streamers nothing on the internet", async () => {
      const { model } = await verifyStack(await runStack(stack), { render: false, pull: false });
      assert.deepEqual(checkCluster(model), []);
      // The deny checks are live: open the streamers' egress and every model server is reported.
      const leak = {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "leak", namespace: "llm-baseline" },
        spec: {
          podSelector: { matchLabels: { "llmplatform.io/weights-from": "store" } },
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
        },
      };
      const leaked = checkCluster({
        ...model,
        objects: [...model.objects, { obj: leak, origin: "program" }],
      });
      const streamers = Object.entries(stackConfig(stack).models.variants)
        .filter(([, v]) => v.weightsFrom === "store")
        .map(([v]) => `Deployment llm-baseline/vllm-${v}`);
      assert.deepEqual(
        leaked.map((f) => `${f.subject}: ${f.message}`).sort(),
        [443, 80]
          .flatMap((port) =>
            streamers.map(
              (d) =>
                `streaming model servers -/-> the internet:${port}: ${d} -> the internet (e.g. huggingface.co):${port}: allowed, and must not be`,
            ),
          )
          .sort(),
      );
    });
  });
}

describe("model store: bad input is refused at preview, naming the key", () => {
  const problems = (edit: (r: Record<string, any>) => void) => configProblems("prod", edit);
  const variants = (r: Record<string, any>) => r["llm-platform:models"].variants;

  it("takes a commit hash or a release tag as a revision, and refuses branches and other refs", () => {
    for (const ok of [commit, "v1.0", "2.1.3", "v2.0-rc1"]) {
      assert.deepEqual(
        problems((r) => (variants(r).judge.revision = ok)),
        [],
        ok,
      );
    }
    for (const bad of [
      "main",
      "refs/pr/1",
      "C170C708C41DAC9275D15A8FFF4ECA08D52BAB71",
      "c170c70",
    ]) {
      assert.deepEqual(
        problems((r) => (variants(r).judge.revision = bad)),
        [
          "llm-platform:models.variants.judge.revision: expected a 40-hex commit hash or a release tag such as v1.0 (a branch such as main moves)",
        ],
        bad,
      );
    }
  });

  it("refuses a streamer concurrency of 0, and a buffer the pod's memory cannot hold", () => {
    assert.deepEqual(
      problems((r) => (r["llm-platform:models"].store = { streamer: { concurrency: 0 } })),
      ["llm-platform:models.store.streamer.concurrency: expected at least 1 reader"],
    );
    // prod: 16Gi less 2Gi of /dev/shm, halved: 7168 MiB.
    assert.deepEqual(
      problems((r) => (r["llm-platform:models"].store = { streamer: { memoryLimitMiB: 7168 } })),
      [],
    );
    const over = problems(
      (r) => (r["llm-platform:models"].store = { streamer: { memoryLimitMiB: 7169 } }),
    );
    assert.ok(over.length > 0);
    for (const p of over) {
      assert.match(
        p,
        /^llm-platform:models\.store\.streamer\.memoryLimitMiB: expected at most 7168 MiB: half of variant \w+'s memory/,
      );
    }
  });

  it("refuses a store bucket another service can write", () => {
    for (const [bucket, writer] of [
      ["adapters", "finetune-api"],
      ["results", "eval-api"],
    ]) {
      assert.deepEqual(
        problems((r) => (r["llm-platform:models"].store = { bucket })),
        [
          `llm-platform:models.store.bucket: expected a bucket only the model staging Job writes: ${writer} reads and writes the ${bucket} bucket, so it could replace the weights every model server loads`,
        ],
      );
    }
    assert.deepEqual(
      problems((r) => (r["llm-platform:models"].store = { bucket: "weights" })),
      [],
    );
  });

  it("keeps the LoRA server on the Hub fallback", () => {
    assert.deepEqual(
      problems((r) => (variants(r).lora.weightsFrom = "store")),
      [
        "llm-platform:models.variants.lora.weightsFrom: expected hub for a LoRA server: vLLM's adapter resolver compares base_model_name_or_path with the served model's path, which for a streamed s3:// model is a local temporary directory",
      ],
    );
  });
});
