/**
 * `npm run cost` prints each variant's cold start beside what it costs: the numbers come from the
 * budget and the price table, every assumption is listed with its source.
 */
import * as assert from "node:assert/strict";
import { variantColdStarts } from "../../components/config/coldStart";
import { parseConfig } from "../../components/config/platformConfig";
import {
  coldStartCosts,
  coldStartText,
  formatColdStarts,
} from "../../components/cost/coldStartReport";
import { spotHourly } from "../../components/cost/estimate";
import { usWest2 } from "../../components/cost/prices";
import { coldStartAssumptions } from "../../components/platform/coldStart";
import { cloneStackConfig, stacks } from "../../verify/program";

describe("cost: the cold-start report", () => {
  for (const stack of stacks) {
    it(`${stack}: prices each variant's node at its group's dearest SPOT type, a cold start as that node's time`, () => {
      const c = parseConfig(cloneStackConfig(stack), stack);
      const starts = variantColdStarts(c.models, c.nodeGroups.gpu);
      const rows = coldStartCosts(starts, { baseline: 600 }, usWest2);
      assert.equal(rows.length, Object.keys(c.models.variants).length);
      for (const r of rows) {
        const dearest = Math.max(...r.group.instanceTypes.map((t) => spotHourly(usWest2, t)));
        assert.equal(r.hourly, dearest, r.variant);
        assert.equal(spotHourly(usWest2, r.instanceType), dearest);
        assert.equal(r.coldStartUsd, (r.budget.scaleUp.first / 3600) * dearest);
      }
      assert.equal(rows.find((r) => r.variant === "baseline")!.startupTimeoutSeconds, 600);
    });
  }

  it("lists every variant with its spans, its phases, and every assumption with its source", () => {
    const c = parseConfig(cloneStackConfig("dev"), "dev");
    const text = coldStartText(c);
    for (const s of variantColdStarts(c.models, c.nodeGroups.gpu)) {
      const row = text.split("\n").find((l) => l.startsWith(`${s.variant} `))!;
      assert.ok(
        row.includes(`${s.budget.podStart.first} / ${s.budget.podStart.restart}`) &&
          row.includes(`${s.budget.scaleUp.first} / ${s.budget.scaleUp.restart}`) &&
          row.includes(String(c.models.variants[s.variant]!.startupTimeoutSeconds)),
        row,
      );
      assert.ok(text.includes(`${s.variant}:\n  node `), s.variant);
    }
    for (const [name, a] of Object.entries(coldStartAssumptions)) {
      assert.ok(text.includes(`  ${name} = ${a.value} ${a.unit} (read ${a.asOf}): ${a.source}`));
    }
    assert.equal(formatColdStarts([]).includes("Assumptions"), true);
  });
});
