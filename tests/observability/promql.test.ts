/**
 * Every PromQL expression the program deploys, checked by Prometheus's own promtool (`check rules`):
 * the PrometheusRule alerts as they are registered, each KEDA ScaledObject's Prometheus queries, and
 * every panel and variable query of the dashboards in the Grafana release. Grafana's template
 * variables are replaced by what Grafana substitutes before a query reaches Prometheus.
 *
 * promtool comes from verify/promtool.ts (PATH, cache, or Debian's `prometheus` package). Where none
 * can be had the checks are pending, unless CI is set: CI must check them.
 */
import * as assert from "node:assert/strict";
import {
  checkRules,
  findPromtool,
  grafanaToPromql,
  type RuleFileRule,
} from "../../verify/promtool";
import { runStack, stacks } from "../../verify/program";
import { itUnless } from "../../verify/pending";

interface Dashboard {
  panels?: { targets?: { expr?: string }[] }[];
  templating?: { list?: { type: string; query?: { query?: string } }[] };
}

/** Panel queries, and the selector inside each `label_values(<selector>, label)` variable query. */
function dashboardQueries(name: string, json: string): [string, string][] {
  const d = JSON.parse(json) as Dashboard;
  const panels = (d.panels ?? []).flatMap((p, i) =>
    (p.targets ?? []).flatMap((t, j): [string, string][] =>
      t.expr ? [[`${name} panel ${i} target ${j}`, t.expr]] : [],
    ),
  );
  const variables = (d.templating?.list ?? []).flatMap((v, i): [string, string][] => {
    const m =
      v.type === "query" ? /^label_values\((.+),\s*\w+\)$/.exec(v.query?.query ?? "") : null;
    return m ? [[`${name} variable ${i}`, m[1]!]] : [];
  });
  return [...panels, ...variables].map(([where, expr]) => [where, grafanaToPromql(expr)]);
}

describe("PromQL: every expression the program deploys passes promtool", function () {
  const promtool = findPromtool();
  // Under CI a missing promtool fails (below); elsewhere the checks are pending, saying why.
  const it = itUnless(
    promtool || process.env.CI
      ? undefined
      : "promtool not found (set $PROMTOOL, put it on PATH, or on Debian/Ubuntu let verify/promtool.ts extract it)",
  );
  before(function () {
    if (!promtool && process.env.CI)
      assert.fail("promtool is required in CI (Debian/Ubuntu: apt-get)");
  });

  it("catches a broken expression (the checker is live)", () => {
    const bad = checkRules(promtool!, [
      { name: "t", rules: [{ record: "t:bad", expr: "sum(rate(x[5m])" }] },
    ]);
    assert.equal(bad.ok, false);
    assert.match(bad.report, /parse error|unclosed|unexpected/i);
  });

  for (const stack of stacks) {
    it(`${stack}: alert rules, KEDA scaler queries and dashboard queries`, async () => {
      const run = await runStack(stack);
      const ruleGroups = run
        .ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
        .flatMap((r) => r.inputs.spec.groups as { name: string; rules: RuleFileRule[] }[]);
      assert.ok(
        ruleGroups.some((g) => g.rules.length > 0),
        "the program deploys alert rules",
      );

      const queries: [string, string][] = run
        .ofType("kubernetes:keda.sh/v1alpha1:ScaledObject")
        .flatMap((so) =>
          (so.inputs.spec.triggers as { type: string; name?: string; metadata: any }[])
            .filter((t) => t.type === "prometheus")
            .map((t): [string, string] => [`${so.name} ${t.name}`, t.metadata.query as string]),
        );
      const grafana = run.get("kubernetes:helm.sh/v3:Release", "grafana");
      const provisioned = grafana.inputs.values.dashboards as Record<
        string,
        Record<string, { json: string }>
      >;
      for (const folder of Object.values(provisioned)) {
        for (const [name, { json }] of Object.entries(folder)) {
          queries.push(...dashboardQueries(name, json));
        }
      }
      assert.ok(queries.length > 0);

      // Standalone queries are checked as recording rules: same parser, and the report names them.
      const recorded: RuleFileRule[] = queries.map(([, expr], i) => ({ record: `q:${i}`, expr }));
      const result = checkRules(promtool!, [...ruleGroups, { name: "queries", rules: recorded }]);
      const names = queries.map(([where], i) => `q:${i} = ${where}`).join("\n");
      assert.ok(result.ok, `${result.report}\n${names}`);
    });
  }
});
