/**
 * The GitHub workflows, offline: each validates against the GitHub Actions schema (action-validator),
 * and keeps the delivery rules: tests on every push/PR, previews per stack with the policy pack and
 * OIDC credentials, prod only through a protected environment, no long-lived AWS keys.
 */
import { validateWorkflow } from "@action-validator/core";
import * as assert from "node:assert/strict";
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../verify/program";

const dir = path.join(repoRoot, ".github", "workflows");
const text = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
const load = (f: string) => yaml.load(text(f)) as any;
const steps = (job: any) =>
  job.steps as {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    "working-directory"?: string;
    env?: Record<string, string>;
  }[];

describe("GitHub workflows", () => {
  it("validate against the GitHub Actions workflow schema", () => {
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, ["deploy.yml", "preview.yml", "test.yml"]);
    for (const f of files) assert.deepEqual(validateWorkflow(text(f)).errors, [], f);
  });

  it("catch a broken workflow (the validator is live)", () => {
    assert.ok(
      validateWorkflow("on: push\njobs:\n  t:\n    runz-on: ubuntu-latest\n").errors.length > 0,
    );
  });

  it("lint, render the real charts, type-check and test on every push and pull request, on Node 22, then test in another region", () => {
    const w = load("test.yml");
    assert.deepEqual(Object.keys(w.on).sort(), ["pull_request", "push"]);
    const s = steps(w.jobs.test);
    assert.equal(
      s.find((x) => x.uses?.startsWith("actions/setup-node"))!.with!["node-version"],
      22,
    );
    assert.deepEqual(
      s.filter((x) => x.run).map((x) => x.run),
      [
        "npm ci",
        "npm run lint",
        "npm run charts -- dev && npm run charts -- prod",
        "npm test",
        "npx mocha",
      ],
    );
    // The second mocha run puts both stack files in another region (verify/program.ts).
    assert.deepEqual(s.at(-1)!.env, { LLM_PLATFORM_TEST_REGION: "eu-west-1" });
  });

  it("preview both stacks on pull requests with the official Pulumi action, the policy pack, OIDC and a PR comment", () => {
    const w = load("preview.yml");
    assert.deepEqual(Object.keys(w.on), ["pull_request"]);
    assert.equal(w.permissions["id-token"], "write");
    assert.equal(w.permissions["pull-requests"], "write");
    const job = w.jobs.preview;
    assert.deepEqual(
      job.strategy.matrix.include.map((m: any) => m.stack),
      ["dev", "prod"],
    );
    const pulumi = steps(job).find((x) => x.uses?.startsWith("pulumi/actions@"))!;
    assert.equal(pulumi.uses, "pulumi/actions@v7");
    assert.deepEqual(
      [pulumi.with!.command, pulumi.with!["comment-on-pr"], pulumi.with!.policyPacks],
      ["preview", true, "policy"],
    );
    assert.equal(pulumi.with!.policyPackConfigs, "${{ matrix.policyConfig }}");
    assert.ok(
      steps(job).some(
        (x) => x.uses === "aws-actions/configure-aws-credentials@v5" && x.with!["role-to-assume"],
      ),
    );
  });

  it("post each stack's cost and its change from the base branch beside the preview, before any credentials", () => {
    const s = steps(load("preview.yml").jobs.preview);
    const at = (pred: (x: (typeof s)[number]) => boolean, what: string) => {
      const i = s.findIndex(pred);
      assert.ok(i >= 0, `no step ${what}`);
      return i;
    };
    const head = at(
      (x) =>
        x.run ===
        'npm run --silent cost -- ${{ matrix.stack }} --json $(test -f docs/benchmarks/${{ matrix.stack }}.json && echo --benchmarks docs/benchmarks/${{ matrix.stack }}.json) > "$RUNNER_TEMP/cost-head.json"',
      "costing this branch (with its committed benchmark comparison, if any)",
    );
    const checkout = at(
      (x) =>
        x.uses === "actions/checkout@v5" &&
        x.with?.ref === "${{ github.event.pull_request.base.sha }}" &&
        x.with?.path === "base",
      "checking out the base branch",
    );
    const base = at(
      (x) =>
        !!x.run?.includes(
          "cd base && npm ci && npm run --silent cost -- ${{ matrix.stack }} --json",
        ) &&
        x.run.includes('> "$RUNNER_TEMP/cost-base.json") || ') &&
        x.run.includes("rm -rf base"),
      "costing the base branch (tolerating a base without the script) and removing it",
    );
    const comment = at(
      (x) =>
        x.run ===
        'node bin/scripts/costComment.js "$RUNNER_TEMP/cost-head.json" "$RUNNER_TEMP/cost-base.json" > "$RUNNER_TEMP/cost.md"',
      "formatting the comment",
    );
    const post = at(
      (x) =>
        x.uses === "marocchino/sticky-pull-request-comment@v2" &&
        x.with?.header === "cost-${{ matrix.stack }}" &&
        x.with?.path === "${{ runner.temp }}/cost.md",
      "posting one comment per stack",
    );
    const credentials = at(
      (x) => x.uses === "aws-actions/configure-aws-credentials@v5",
      "taking AWS credentials",
    );
    assert.ok(head < checkout && checkout < base && base < comment && comment < post);
    assert.ok(post < credentials, "the estimate needs no AWS access");
    // `npm run cost` exists and builds first (the head step runs it from a fresh checkout).
    const scripts = JSON.parse(
      fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"),
    ).scripts;
    assert.match(scripts.cost, /^npm run build --silent && node bin\/scripts\/cost\.js$/);
  });

  it("deploy dev on merge to main, and prod only after dev, through the protected prod environment", () => {
    const w = load("deploy.yml");
    assert.deepEqual(w.on, { push: { branches: ["main"] } });
    assert.equal(w.jobs.dev.needs, "test");
    assert.equal(w.jobs.dev.environment, "dev");
    assert.equal(w.jobs.prod.needs, "dev");
    assert.equal(w.jobs.prod.environment, "prod");
    for (const job of ["dev", "prod"]) {
      const pulumi = steps(w.jobs[job]).find((x) => x.uses?.startsWith("pulumi/actions@"))!;
      assert.deepEqual(
        [pulumi.with!.command, pulumi.with!.policyPacks, pulumi.with!.policyPackConfigs],
        ["up", "policy", `policy/${job}.json`],
      );
    }
    assert.equal(w.concurrency["cancel-in-progress"], false, "never cancel a running deployment");
    // Prod's API endpoint has an allow-list: prod runs on the runner whose egress is on it.
    assert.equal(w.jobs.prod["runs-on"], "${{ vars.PROD_DEPLOY_RUNNER || 'ubuntu-latest' }}");
    assert.equal(
      load("preview.yml").jobs.preview["runs-on"],
      "${{ matrix.stack == 'prod' && vars.PROD_DEPLOY_RUNNER || 'ubuntu-latest' }}",
    );
  });

  it("never use long-lived AWS keys", () => {
    for (const f of fs.readdirSync(dir))
      assert.ok(!/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id/.test(text(f)), f);
  });
});
