/**
 * `npm run charts` offline, without a cached package: one line names the charts it could not get and
 * how to provide them (scripts/charts.ts exits 2 and claims no check result then).
 */
import * as assert from "node:assert/strict";
import { charts } from "../components/platform/versions";
import { missingChartsLine } from "../scripts/charts";
import { chartCheckSummary, chartPackagePath } from "../verify/charts";

describe("npm run charts without the network", () => {
  it("names, in one line, every chart it could not get, once, and how to provide it", () => {
    const mimir = { ...charts.mimir, name: "mimir", namespace: "o", values: {}, maxHistory: 3 };
    const loki = { ...charts.loki, name: "loki", namespace: "o", values: {}, maxHistory: 3 };
    const line = missingChartsLine("prod", [mimir, loki, { ...loki, name: "loki-2" }]);
    assert.ok(!line.includes("\n"));
    assert.match(line, /^prod: could not get 2 charts, not cached and not pullable: /);
    for (const c of [charts.mimir, charts.loki])
      assert.ok(line.includes(`${c.chart} ${c.version} (${c.repo})`), c.chart);
    assert.ok(line.endsWith(`into ${chartPackagePath("x", "0").replace(/\/x-0\.tgz$/, "")}`));
    assert.match(line, /helm pull <chart> --repo <repo> --version <version>/);
  });

  it("says in one line which chart-backed checks ran and which did not, and why", () => {
    const line = chartCheckSummary();
    assert.ok(!line.includes("\n"));
    assert.match(
      line,
      /^chart-backed checks: \d+ of \d+ pinned charts rendered with real helm and checked/,
    );
  });
});
