/**
 * The model store: its layout, the staging program (run by Node as the Job runs it), the staging Job,
 * and what each stack registers for it (bucket and its guard, scoped roles, one Job per model and
 * revision).
 */
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
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
import {
  checkScript,
  stagingJobSpec,
  stageProgram,
  uploadScript,
} from "../../components/models/modelStaging";
import { storedModels } from "../../components/models/modelStore";
import {
  modelPrefix,
  stagedMarkerKey,
  stagingJobName,
  storeModelUri,
} from "../../components/models/modelStoreLayout";
import { notTokenizerFiles, tokenizerDir } from "../../components/platform/modelCacheLayout";
import { images } from "../../components/platform/versions";
import { checkCluster } from "../../verify/checks";
import { checkStsResolution } from "../../verify/checks/flows";
import { denied } from "../../verify/checks/networkPolicies";
import { podInstances, selects, type ClusterModel, type PodInstance } from "../../verify/model";
import { verifyStack } from "../../verify/stack";
import {
  configProblems,
  repoRoot,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
  mockOidcIssuer,
  testS3Cidrs,
} from "../../verify/program";

const mistral = "mistralai/Mistral-7B-Instruct-v0.3";
const commit = "c170c708c41dac9275d15a8fff4eca08d52bab71";

/** IPv4 addresses in numeric order. */
const byAddress = (a: string, b: string) => {
  const n = (ip: string) => ip.split(".").reduce((x, o) => x * 256 + Number(o), 0);
  return n(a) - n(b);
};

/**
 * Where the NetworkPolicies let a pod connect on 443, as their peers say it: ipBlock CIDRs, and any
 * other peer (pods, namespaces, everything) spelled out, so a test sees every way out, sorted.
 */
function httpsEgress(model: ClusterModel, pod: PodInstance): string[] {
  const out: string[] = [];
  for (const { obj } of model.objects) {
    if (obj.kind !== "NetworkPolicy" || obj.metadata.namespace !== pod.namespace) continue;
    if (!selects(obj.spec.podSelector, pod.labels)) continue;
    for (const rule of obj.spec.egress ?? []) {
      const ports = rule.ports as { port?: number | string }[] | undefined;
      if (ports && !ports.some((p) => p.port === undefined || p.port === 443)) continue;
      const to = (rule.to ?? []) as Record<string, any>[];
      if (to.length === 0) out.push("everywhere");
      for (const peer of to)
        out.push(peer.ipBlock && !peer.ipBlock.except ? peer.ipBlock.cidr : JSON.stringify(peer));
    }
  }
  return out.sort();
}

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

/** The staging Job of the test's model (pure: a region and names the test passes). */
const stagingSpec = (gated: boolean) =>
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

describe("model store: the staging Job", () => {
  it("checks the store, downloads from the Hub, then uploads: the token reaches the download step only", () => {
    const pod = (stagingSpec(true).template as any).spec;
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
    assert.ok(
      !(stagingSpec(false).template as any).spec.volumes.some((v: any) => v.name === "hf-token"),
    );
    assert.deepEqual(pod.nodeSelector, { workload: "cpu" });
    for (const c of steps) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, c.name);
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
      assert.equal(env.MARKER_KEY, stagedMarkerKey(mistral, commit));
      assert.equal(env.MODEL_PREFIX, modelPrefix(mistral, commit));
      assert.equal(env.MODEL_FILES_DIR, tokenizerDir(mistral, commit));
      assert.ok(!("HF_TOKEN" in env));
    }
  });
});

/**
 * An `aws` stand-in for the staging scripts (bash): the bucket is a directory under `$FAKE_S3`; it
 * lists a key, copies a file, or copies the files of a prefix (top level, as the store holds them)
 * minus `--exclude` patterns. Each call is logged with whether `$MODEL_FILES_DIR` existed at that moment.
 */
const fakeAws = [
  "#!/bin/bash",
  "set -euo pipefail",
  'if [ -d "$MODEL_FILES_DIR" ]; then has=yes; else has=no; fi',
  'printf \'%s | tokenizer dir: %s\\n\' "$*" "$has" >> "$FAKE_AWS_LOG"',
  'local_path() { case "$1" in s3://*) echo "$FAKE_S3/${1#s3://}" ;; *) echo "$1" ;; esac; }',
  "excludes=(); pos=(); recursive=0; bucket=''; prefix=''",
  "while [ $# -gt 0 ]; do",
  '  case "$1" in',
  '    --exclude) excludes+=("$2"); shift 2 ;;',
  "    --recursive) recursive=1; shift ;;",
  "    --only-show-errors) shift ;;",
  "    --bucket) bucket=$2; shift 2 ;;",
  "    --prefix) prefix=$2; shift 2 ;;",
  "    --*) shift 2 ;;",
  '    *) pos+=("$1"); shift ;;',
  "  esac",
  "done",
  'case "${pos[0]} ${pos[1]}" in',
  '  "s3api list-objects-v2")',
  '    if [ -f "$FAKE_S3/$bucket/$prefix" ]; then echo "$prefix"; else echo None; fi ;;',
  '  "s3 sync" | "s3 cp")',
  '    src=$(local_path "${pos[2]}"); dst=$(local_path "${pos[3]}")',
  '    if [ "${pos[1]}" = sync ] || [ "$recursive" = 1 ]; then',
  '      [ -d "$src" ] || exit 0',
  '      mkdir -p "$dst"',
  '      for f in "$src"/*; do',
  '        [ -f "$f" ] || continue',
  '        for p in "${excludes[@]}"; do [[ "${f##*/}" == $p ]] && continue 2; done',
  '        cp "$f" "$dst/"',
  "      done",
  "    else",
  '      mkdir -p "$(dirname "$dst")"; cp "$src" "$dst"',
  "    fi ;;",
  '  *) echo "fake aws: not supported: $*" >&2; exit 2 ;;',
  "esac",
  "",
].join("\n");

/**
 * The staging Job's environment with its paths under a scratch root, the fake `aws` first on PATH,
 * and a runner for the check and upload scripts as the Job runs them (bash).
 */
function stagingScripts() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "staging-scripts-"));
  const bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "aws"), fakeAws, { mode: 0o755 });
  const pod = (stagingSpec(false).template as any).spec;
  const at = (p: string) => path.join(root, p);
  const env: Record<string, string> = Object.fromEntries(
    pod.containers[0].env.map((e: any) => [
      e.name,
      e.value.startsWith("/") ? at(e.value) : e.value,
    ]),
  );
  Object.assign(env, {
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_S3: at("s3"),
    FAKE_AWS_LOG: at("aws.log"),
  });
  fs.mkdirSync(path.dirname(env.SKIP_FILE!), { recursive: true });
  const run = (script: string) => {
    const file = at(`${Math.random().toString(36).slice(2)}.sh`);
    fs.writeFileSync(file, script);
    const r = spawnSync("bash", [file], { env, encoding: "utf8" });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const calls = () =>
    fs.existsSync(env.FAKE_AWS_LOG!)
      ? fs.readFileSync(env.FAKE_AWS_LOG!, "utf8").trim().split("\n")
      : [];
  const ls = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
  const store = at(`s3/store/${modelPrefix(mistral, commit)}`);
  return {
    env,
    run,
    calls,
    ls,
    store,
    check: () => run(checkScript),
    upload: () => run(uploadScript),
  };
}

describe("model store: the staging scripts (bash, against a fake AWS CLI)", function () {
  this.timeout(20_000);

  it("publishes a staged model's files but its weights on the shared cache, whole, before the marker", async () => {
    const s = stagingScripts();
    assert.equal(s.env.MODEL_FILES_DIR!.endsWith(tokenizerDir(mistral, commit)), true);
    const check = s.check();
    assert.equal(check.status, 0, check.out);
    assert.ok(!fs.existsSync(s.env.SKIP_FILE!), "not in the store yet: staged");
    // The real download program fills the staging directory from a fake Hub.
    const staged = await stage(repo, { STAGING_DIR: s.env.STAGING_DIR! });
    assert.equal(staged.code, 0, staged.out);
    const upload = s.upload();
    assert.equal(upload.status, 0, upload.out);
    const nonWeights = [
      "config.json",
      "model.safetensors.index.json",
      "tokenizer.json",
      "tokenizer.model.v3",
    ];
    assert.deepEqual(s.ls(s.env.MODEL_FILES_DIR!), nonWeights);
    assert.equal(
      fs.readFileSync(path.join(s.env.MODEL_FILES_DIR!, "tokenizer.json"), "utf8"),
      repo["tokenizer.json"],
    );
    assert.equal(fs.statSync(s.env.MODEL_FILES_DIR!).mode & 0o777, 0o755);
    assert.deepEqual(
      s.ls(s.store),
      [
        ...nonWeights,
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
      ].sort(),
    );
    // The marker is written once the tokenizer directory exists: "staged" implies both.
    const marker = s.calls().find((c) => c.startsWith("s3 cp") && c.includes("/.staged/"))!;
    assert.match(marker, new RegExp(`${stagedMarkerKey(mistral, commit)} \\| tokenizer dir: yes$`));
    assert.ok(!fs.existsSync(s.env.STAGING_DIR!), "the staging copy is gone");
    assert.deepEqual(
      s.ls(path.dirname(s.env.MODEL_FILES_DIR!)),
      [commit],
      "nothing but the directory itself (no temporary one)",
    );
  });

  it("fills the directory from the store for a model staged before it existed, without restaging", () => {
    const s = stagingScripts();
    fs.mkdirSync(s.store, { recursive: true });
    for (const f of ["config.json", "tokenizer.json", "tokenizer.model.v3", "model.safetensors"])
      fs.writeFileSync(path.join(s.store, f), f);
    fs.mkdirSync(
      path.dirname(path.join(s.env.FAKE_S3!, "store", stagedMarkerKey(mistral, commit))),
      {
        recursive: true,
      },
    );
    fs.writeFileSync(path.join(s.env.FAKE_S3!, "store", stagedMarkerKey(mistral, commit)), "{}");
    const check = s.check();
    assert.equal(check.status, 0, check.out);
    assert.ok(fs.existsSync(s.env.SKIP_FILE!), "the later steps do nothing");
    assert.deepEqual(s.ls(s.env.MODEL_FILES_DIR!), [
      "config.json",
      "tokenizer.json",
      "tokenizer.model.v3",
    ]);
    const [list, copy, ...rest] = s.calls();
    assert.match(list!, /^s3api list-objects-v2 /);
    assert.equal(rest.length, 0);
    // Every weight format is left in the store: only the small files are downloaded.
    for (const p of notTokenizerFiles) assert.ok(copy!.includes(`--exclude ${p} `), p);
    assert.match(copy!, new RegExp(`s3://store/${modelPrefix(mistral, commit)} `));
    const upload = s.upload();
    assert.equal(upload.status, 0, upload.out);
    assert.equal(s.calls().length, 2, "the upload step does nothing");
    // Run again (a replaced Job): the directory is kept, nothing is downloaded.
    const again = s.check();
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, /tokenizer files already in/);
    assert.equal(s.calls().filter((c) => c.startsWith("s3 cp")).length, 1);
  });

  it("leaves every weight format the staging program knows out of the tokenizer directory", async () => {
    const { otherWeights } = await import("../../components/models/modelStage.mjs");
    const formats = /\\.\((.+)\)\$/.exec(otherWeights.source)![1]!.split("|");
    assert.ok(formats.includes("safetensors") && formats.includes("bin"), otherWeights.source);
    for (const ext of formats) assert.ok(notTokenizerFiles.includes(`*.${ext}`), ext);
  });

  it("never leaves half a directory: a failed fill publishes nothing, a killed attempt's leftover goes", () => {
    const s = stagingScripts();
    fs.mkdirSync(s.store, { recursive: true });
    fs.writeFileSync(path.join(s.store, "tokenizer.json"), "{}");
    const markerFile = path.join(s.env.FAKE_S3!, "store", stagedMarkerKey(mistral, commit));
    fs.mkdirSync(path.dirname(markerFile), { recursive: true });
    fs.writeFileSync(markerFile, "{}");
    const parent = path.dirname(s.env.MODEL_FILES_DIR!);
    fs.mkdirSync(path.join(parent, `.${commit}.tmp.killed`), { recursive: true });
    const failed = s.check();
    assert.notEqual(failed.status, 0);
    assert.match(failed.out, /no config\.json among the files to publish/);
    assert.deepEqual(s.ls(parent), [], "neither the directory nor a temporary one");
    fs.writeFileSync(path.join(s.store, "config.json"), "{}");
    const ok = s.check();
    assert.equal(ok.status, 0, ok.out);
    assert.deepEqual(s.ls(parent), [commit]);
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
      const denials = [
        ...[443, 80].map((port) => [
          `streaming model servers -/-> the internet:${port}`,
          `the internet (e.g. huggingface.co):${port}`,
        ]),
        [
          "streaming model servers -/-> public AWS APIs (STS only through the VPC's endpoint)",
          "AWS APIs:443",
        ],
        [
          "streaming model servers -/-> the VPC:443 (the STS endpoint's addresses only)",
          "a VPC address (pods, the Kubernetes API):443",
        ],
      ];
      assert.deepEqual(
        leaked.map((f) => `${f.subject}: ${f.message}`).sort(),
        denials
          .flatMap(([flow, to]) =>
            streamers.map((d) => `${flow}: ${d} -> ${to}: allowed, and must not be`),
          )
          .sort(),
      );
    });

    it("resolves STS to the VPC's endpoint in every pod with an AWS identity and no internet, and opens 443 to its addresses and S3 only", async () => {
      const { model } = await verifyStack(await runStack(stack), { render: false, pull: false });
      const { region, network, models } = stackConfig(stack);
      const endpoint = model.stsEndpointAddresses;
      assert.equal(endpoint.length, network.availabilityZones, "one address per private subnet");
      const roleOf = (p: PodInstance): string | undefined =>
        model.objects.find(
          ({ obj }) =>
            obj.kind === "ServiceAccount" &&
            obj.metadata.namespace === p.namespace &&
            obj.metadata.name === (p.spec.serviceAccountName ?? "default"),
        )?.obj.metadata.annotations?.["eks.amazonaws.com/role-arn"];
      const internet = { ip: model.internetAddress, name: "the internet" };
      const offline = podInstances(model).filter((p) => {
        const role = roleOf(p)?.split(":role/")[1];
        return (
          role !== undefined &&
          model.permittedRoles.includes(role) &&
          denied(model, { pod: p }, internet, 443) !== undefined
        );
      });
      // The streaming servers are the only such pods (staging, benchmarks and the adapter sync
      // keep HTTPS to the internet, and with it the public STS name).
      assert.deepEqual(
        offline.map((p) => p.owner).sort(),
        Object.entries(models.variants)
          .filter(([, v]) => v.weightsFrom === "store")
          .map(([v]) => `Deployment llm-baseline/vllm-${v}`)
          .sort(),
      );
      for (const pod of offline) {
        assert.deepEqual(
          pod.spec.hostAliases,
          endpoint.map((ip) => ({ ip, hostnames: [`sts.${region}.amazonaws.com`] })),
          pod.owner,
        );
        assert.deepEqual(
          httpsEgress(model, pod),
          [...testS3Cidrs, ...endpoint.map((ip) => `${ip}/32`)].sort(),
          pod.owner,
        );
        for (const ip of endpoint)
          assert.equal(denied(model, { pod }, { ip, name: "STS endpoint" }, 443), undefined, ip);
        assert.equal(denied(model, { pod }, { ip: model.s3Address, name: "S3" }, 443), undefined);
        assert.ok(denied(model, { pod }, { ip: model.vpcAddress, name: "a pod" }, 443));
      }
      assert.deepEqual(checkStsResolution(model, podInstances(model)), []);
    });

    it("reports a streaming pod whose STS name leads elsewhere, or whose SDKs may ask the global name", async () => {
      const { model } = await verifyStack(await runStack(stack), { render: false, pull: false });
      const region = stackConfig(stack).region;
      const host = `sts.${region}.amazonaws.com`;
      const [first, ...rest] = model.stsEndpointAddresses;
      const broken = model.objects.map((o) => {
        if (o.obj.kind !== "Deployment" || o.obj.metadata.name !== "vllm-baseline") return o;
        const obj = structuredClone(o.obj);
        const pod = obj.spec.template.spec;
        // One AZ's address swapped for a pod's; the wait step on the SDKs' legacy default.
        pod.hostAliases = [model.vpcAddress, ...rest].map((ip) => ({ ip, hostnames: [host] }));
        pod.initContainers[0].env = pod.initContainers[0].env.filter(
          (e: { name: string }) => e.name !== "AWS_STS_REGIONAL_ENDPOINTS",
        );
        return { ...o, obj };
      });
      const found = checkStsResolution(
        { ...model, objects: broken },
        podInstances({ ...model, objects: broken }),
      );
      const owner = "Deployment llm-baseline/vllm-baseline";
      const wrong = (c: string) =>
        `${owner} container ${c}: resolves ${host} to [${[...rest, model.vpcAddress].sort(byAddress).join(", ")}], not the STS interface endpoint's addresses [${[first, ...rest].join(", ")}]`;
      assert.deepEqual(
        found.map((f) => `${f.subject}: ${f.message}`),
        [
          `${owner} container wait-for-weights: does not set AWS_STS_REGIONAL_ENDPOINTS=regional: an SDK on the legacy default calls sts.amazonaws.com, outside the aliases and the endpoint's certificate`,
          wrong("wait-for-weights"),
          wrong("vllm"),
        ],
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
