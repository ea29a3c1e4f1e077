/**
 * Config against the cold-start budget: a startup probe shorter than the predicted first start is
 * refused, naming the key; a scale-to-zero window shorter than a cold start is a warning.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { podStartBudgets, variantColdStarts } from "../../components/config/coldStart";
import { ConfigError, parseConfig } from "../../components/config/platformConfig";
import { regionWarnings } from "../../components/config/region";
import { cloneStackConfig, repoRoot, stacks } from "../../verify/program";

function parsed(edit: (r: Record<string, any>) => void) {
  const raw = cloneStackConfig("dev") as Record<string, any>;
  edit(raw);
  try {
    return { config: parseConfig(raw, "dev"), problems: [] as string[] };
  } catch (e) {
    return { config: undefined, problems: (e as ConfigError).problems };
  }
}

describe("config: the cold-start budget", () => {
  it("predicts every variant on the group it runs on; the stack files contradict none of it", () => {
    for (const stack of stacks) {
      const c = parseConfig(cloneStackConfig(stack), stack);
      const starts = variantColdStarts(c.models, c.nodeGroups.gpu);
      assert.deepEqual(
        starts.map((s) => s.variant),
        Object.keys(c.models.variants),
      );
      for (const s of starts) {
        assert.equal(s.group.name, c.models.variants[s.variant]!.nodeGroup ?? c.models.nodeGroup);
        assert.ok(
          c.models.variants[s.variant]!.startupTimeoutSeconds >= s.budget.serverStart.first,
        );
      }
      // No warning but the region's own (an opt-in region's reminder, where the region is one).
      assert.deepEqual(c.warnings, regionWarnings(c.region), stack);
    }
  });

  it("refuses a startup probe shorter than the predicted first start, naming the key, and takes one exactly at it", () => {
    const { config } = parsed(() => {});
    const judge = variantColdStarts(config!.models, config!.nodeGroups.gpu).find(
      (s) => s.variant === "judge",
    )!;
    const need = judge.budget.serverStart.first;
    const short = parsed(
      (r) => (r["llm-platform:models"].variants.judge.startupTimeoutSeconds = need - 1),
    );
    assert.equal(short.problems.length, 1, short.problems.join("\n"));
    assert.match(
      short.problems[0]!,
      new RegExp(
        `^llm-platform:models\\.variants\\.judge\\.startupTimeoutSeconds: expected at least ${need} s: ` +
          "the predicted first start of judge on group inference \\(weights \\d+ s \\+ engine \\d+ s \\+ " +
          `compile \\d+ s \\+ cuda-graphs \\d+ s\\); the kubelet would restart the server after ${need - 1} s`,
      ),
    );
    assert.deepEqual(
      parsed((r) => (r["llm-platform:models"].variants.judge.startupTimeoutSeconds = need))
        .problems,
      [],
    );
  });

  it("warns when a variant idles to zero sooner than it can start again", () => {
    const { config } = parsed((r) => {
      r["llm-platform:models"].variants.judge.autoscaling.idleMinutes = 5;
      r["llm-platform:nodeGroups"].gpu[0].fastImagePull = false;
    });
    const judge = variantColdStarts(config!.models, config!.nodeGroups.gpu).find(
      (s) => s.variant === "judge",
    )!;
    assert.ok(judge.budget.scaleUp.restart > 300, "a plain image pull makes the start long");
    assert.deepEqual(config!.warnings, [
      ...regionWarnings(config!.region),
      `llm-platform:models.variants.judge.autoscaling.idleMinutes: judge scales to zero after 5 idle minutes, less than its predicted cold start on group inference (${judge.budget.scaleUp.restart} s with warm caches): the next request waits longer than the idle window saved; raise idleMinutes or keep a replica`,
    ]);
    // A variant that keeps a replica never idles to zero: no warning, whatever its window.
    const kept = parsed((r) => {
      const judgeCfg = r["llm-platform:models"].variants.judge;
      judgeCfg.autoscaling = { ...judgeCfg.autoscaling, minReplicas: 1, idleMinutes: 5 };
      r["llm-platform:nodeGroups"].gpu[0].fastImagePull = false;
    });
    assert.deepEqual(kept.config?.warnings, regionWarnings(config!.region));
  });

  it("gives each variant's start-time rule its predicted first pod start", () => {
    const { config } = parsed(() => {});
    const budgets = podStartBudgets(config!.models, config!.nodeGroups.gpu);
    for (const s of variantColdStarts(config!.models, config!.nodeGroups.gpu)) {
      assert.equal(budgets[s.variant], s.budget.podStart.first, s.variant);
    }
    assert.equal(config!.models.coldStart.alertMarginPercent, 50);
  });
});

describe("docs: the operations guide's cold-start table", () => {
  it("states each variant's budget as the committed stacks predict it", () => {
    const doc = fs.readFileSync(path.join(repoRoot, "docs", "operations.md"), "utf8");
    for (const stack of stacks) {
      const c = parseConfig(cloneStackConfig(stack), stack);
      for (const s of variantColdStarts(c.models, c.nodeGroups.gpu)) {
        const row = doc.split("\n").find((l) => l.startsWith(`| ${s.variant} `));
        assert.ok(row, `no row for ${s.variant}`);
        const [, , , pod, scaleUp] = row.split("|").map((x) => x.trim());
        assert.equal(
          pod,
          `${s.budget.podStart.first} / ${s.budget.podStart.restart}`,
          `${stack} ${s.variant}`,
        );
        assert.equal(
          scaleUp,
          `${s.budget.scaleUp.first} / ${s.budget.scaleUp.restart}`,
          `${stack} ${s.variant}`,
        );
      }
    }
  });
});
