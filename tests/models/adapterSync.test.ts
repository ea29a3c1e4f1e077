import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { adapterSyncPolicy } from "../../components/lib/aws/bucketPolicies";
import { adapterPublishProgram } from "../../components/models/adapterSync";
import { images } from "../../components/platform/versions";
import { mockOidcIssuer, repoRoot, runStack, stackConfig, stacks } from "../../verify/program";

const base = "mistralai/Mistral-7B-Instruct-v0.3";

/** Node.js 22.18+ strips types by default; 22.6-22.17 need the flag (the project needs Node 22). */
const stripTypes = (process as { features?: { typescript?: string } }).features?.typescript
  ? []
  : ["--experimental-strip-types", "--no-warnings"];

/** Runs the real publish script with Node against a fake mirror (what the download step leaves). */
function publish(adapters: Record<string, Record<string, unknown> | null>, names?: string[]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "adapters-"));
  const mirror = path.join(root, "mirror");
  const served = path.join(root, "adapters");
  for (const [name, config] of Object.entries(adapters)) {
    const dir = path.join(mirror, name);
    fs.mkdirSync(dir, { recursive: true });
    if (config) fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify(config));
    fs.writeFileSync(path.join(dir, "adapter_model.safetensors"), `weights of ${name}`);
  }
  // The ConfigMap's bytes, run as the CronJob runs them: TypeScript with its types stripped by Node.
  const script = path.join(root, "publish.mts");
  fs.writeFileSync(script, adapterPublishProgram());
  const run = () =>
    spawnSync(process.execPath, [...stripTypes, script], {
      env: {
        ADAPTERS: (names ?? Object.keys(adapters)).join(","),
        BASE_MODEL: base,
        MAX_LORA_RANK: "16",
        MIRROR_DIR: mirror,
        ADAPTERS_DIR: served,
      },
      encoding: "utf8",
    });
  return { root, mirror, served, run };
}

const lora = (r: number, baseModel = base) => ({
  peft_type: "LORA",
  base_model_name_or_path: baseModel,
  r,
});

describe("adapter sync: the publish program is a source file of its own", () => {
  it("ships the file as written, to a Node.js image that strips its types (22.18 or later)", () => {
    const shipped = fs.readFileSync(
      path.join(repoRoot, "components", "models", "adapterPublish.mts"),
      "utf8",
    );
    assert.equal(adapterPublishProgram(), shipped);
    const [major, minor] = /^node:(\d+)\.(\d+)\./.exec(images.node)!.slice(1).map(Number);
    assert.ok(
      major! > 22 || (major === 22 && minor! >= 18),
      `${images.node} cannot run TypeScript`,
    );
  });

  it("states each reason an adapter cannot be served", async () => {
    const { adapterProblems, settingsFromEnv } =
      await import("../../components/models/adapterPublish.mjs");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adapter-"));
    const s = settingsFromEnv({ BASE_MODEL: base, MAX_LORA_RANK: "8", ADAPTERS: "a,,b" });
    assert.deepEqual(s.adapters, ["a", "b"]);
    assert.deepEqual(adapterProblems(dir, s), ["no adapter_config.json (not in the bucket yet?)"]);
    fs.writeFileSync(path.join(dir, "adapter_config.json"), "{");
    assert.match(adapterProblems(dir, s)[0]!, /^adapter_config.json is not valid JSON: /);
    fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify(lora(9)));
    assert.deepEqual(adapterProblems(dir, s), [
      "rank r is 9, expected 1 to --max-lora-rank 8",
      "no adapter_model.safetensors or adapter_model.bin",
    ]);
  });
});

describe("adapter sync: validate and publish (the shipped program under Node)", () => {
  it("publishes a valid adapter where vLLM's resolver looks, through a link inside that directory", () => {
    const t = publish({ "lora-v1": lora(16) });
    const r = t.run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /adapter lora-v1: published/);
    const link = path.join(t.served, "lora-v1");
    assert.match(fs.readlinkSync(link), /^\.versions\/lora-v1@[0-9a-f]{16}$/);
    // vLLM's resolver refuses paths whose real path leaves its directory.
    assert.ok(fs.realpathSync(link).startsWith(fs.realpathSync(t.served) + path.sep));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(link, "adapter_config.json"), "utf8")), {
      peft_type: "LORA",
      base_model_name_or_path: base,
      r: 16,
    });
    assert.match(t.run().stdout, /adapter lora-v1: unchanged/);
  });

  it("refuses an adapter above --max-lora-rank, or for another base model, and fails the run", () => {
    const t = publish({
      "lora-v1": lora(32),
      "lora-v2": lora(8, "mistralai/Mistral-7B-Instruct-v0.2"),
      "lora-v3": { peft_type: "IA3", base_model_name_or_path: base, r: 8 },
      "lora-v4": null,
      "lora-v5": lora(8),
    });
    const r = t.run();
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      "adapter lora-v1: not published: rank r is 32, expected 1 to --max-lora-rank 16",
      'adapter lora-v2: not published: base_model_name_or_path is "mistralai/Mistral-7B-Instruct-v0.2", expected "mistralai/Mistral-7B-Instruct-v0.3" (the served --model)',
      'adapter lora-v3: not published: peft_type is "IA3", expected "LORA"',
      "adapter lora-v4: not published: no adapter_config.json (not in the bucket yet?)",
    ]);
    assert.deepEqual(fs.readdirSync(t.served).sort(), [".versions", "lora-v5"]);
  });

  it("switches a changed adapter atomically and keeps only the current and previous versions", () => {
    const t = publish({ "lora-v1": lora(8) });
    t.run();
    const first = fs.readlinkSync(path.join(t.served, "lora-v1"));
    for (const rank of [16, 12]) {
      fs.writeFileSync(
        path.join(t.mirror, "lora-v1", "adapter_config.json"),
        JSON.stringify(lora(rank)),
      );
      assert.match(t.run().stdout, /adapter lora-v1: updated/);
    }
    const current = fs.readlinkSync(path.join(t.served, "lora-v1"));
    assert.notEqual(current, first);
    assert.equal(fs.readdirSync(path.join(t.served, ".versions")).length, 2);
    assert.deepEqual(fs.readdirSync(t.served).sort(), [".versions", "lora-v1"]);
  });

  it("syncs only the configured adapters", () => {
    const t = publish({ "lora-v1": lora(8), "lora-x": lora(8) }, ["lora-v1"]);
    assert.equal(t.run().status, 0);
    assert.deepEqual(fs.readdirSync(t.served).sort(), [".versions", "lora-v1"]);
  });
});

for (const stack of stacks) {
  describe(`adapter sync (${stack})`, () => {
    it("reads only the adapters/ prefix of the adapters bucket, with a role only its service account assumes", async () => {
      const run = await runStack(stack);
      const role = run.get("aws:iam/role:Role", `llmplatform-${stack}-models-adapter-sync`);
      const trust = JSON.parse(role.inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
        [`${mockOidcIssuer(stackConfig(stack).region)}:sub`]:
          "system:serviceaccount:llm-baseline:adapter-sync",
        [`${mockOidcIssuer(stackConfig(stack).region)}:aud`]: "sts.amazonaws.com",
      });
      const policy = run.get(
        "aws:iam/rolePolicy:RolePolicy",
        `llmplatform-${stack}-models-adapter-sync-adapters-read`,
      );
      const bucket = `arn:aws:s3:::llmplatform-${stack}-adapters-20261123`;
      assert.deepEqual(JSON.parse(policy.inputs.policy), adapterSyncPolicy(bucket, "adapters/"));
      assert.deepEqual(adapterSyncPolicy(bucket, "adapters/").Statement, [
        {
          Sid: "ListAdapterPrefix",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: bucket,
          Condition: { StringLike: { "s3:prefix": ["adapters/", "adapters/*"] } },
        },
        {
          Sid: "ReadAdapters",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `${bucket}/adapters/*`,
        },
      ]);
    });

    it("runs download then validate-and-publish as the cache owner under `restricted`", async () => {
      const run = await runStack(stack);
      const cron = run.get(
        "kubernetes:batch/v1:CronJob",
        `llmplatform-${stack}-models-adapter-sync`,
      );
      assert.equal(cron.inputs.metadata.namespace, "llm-baseline");
      assert.equal(cron.inputs.spec.concurrencyPolicy, "Forbid");
      const pod = cron.inputs.spec.jobTemplate.spec.template.spec;
      assert.equal(pod.serviceAccountName, "adapter-sync");
      assert.deepEqual(pod.securityContext, {
        runAsNonRoot: true,
        runAsUser: 2000,
        runAsGroup: 0,
        seccompProfile: { type: "RuntimeDefault" },
      });
      const steps = [...pod.initContainers, ...pod.containers];
      assert.deepEqual(
        steps.map((c: any) => [c.name, c.image]),
        [
          ["download", images.awsCli],
          ["validate-and-publish", images.node],
        ],
      );
      for (const c of steps) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
        assert.equal(env.ADAPTERS, "lora-v1,lora-v2");
        assert.equal(env.BASE_MODEL, base, "validated against the LoRA server's --model");
        assert.equal(env.MAX_LORA_RANK, "16");
        assert.equal(env.ADAPTERS_DIR, "/models/adapters");
        assert.equal(env.ADAPTER_BUCKET, `llmplatform-${stack}-adapters-20261123`);
      }
      const sa = run.get(
        "kubernetes:core/v1:ServiceAccount",
        `llmplatform-${stack}-models-adapter-sync-sa`,
      );
      assert.equal(
        sa.inputs.metadata.annotations["eks.amazonaws.com/role-arn"],
        `arn:aws:iam::111122223333:role/llmplatform-${stack}-adapter-sync-irsa`,
      );
      const egress = run.get(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "llm-baseline-allow-adapter-sync-https-to-aws",
      ).inputs.spec;
      assert.deepEqual(egress.podSelector, { matchLabels: { app: "adapter-sync" } });
      assert.deepEqual(egress.egress[0].ports, [{ protocol: "TCP", port: 443 }]);
    });
  });
}
