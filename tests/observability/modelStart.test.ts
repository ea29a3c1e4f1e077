/**
 * The measured cold start: the recording rules and the alert, evaluated by promtool over
 * kube-state-metrics series shaped as v2.20.0 exports them, and their place in each stack.
 */
import * as assert from "node:assert/strict";
import {
  modelStartAlert,
  modelStartRuleSpec,
  podStartMetric,
  startBudgetMetric,
} from "../../components/observability/modelStart";
import { podStartBudgets } from "../../components/config/coldStart";
import { dashboards } from "../../components/observability/observability";
import { findPromtool, testRules } from "../../verify/promtool";
import { runStack, stackConfig, stacks } from "../../verify/program";

const budgets = { budgets: { baseline: 200, awq: 200 }, marginPercent: 50 };
const ns = 'namespace="llm-baseline"';
/**
 * A pod's kube-state-metrics series: scheduled and Ready timestamps, its app label. The Ready time is
 * constant, or a promtool value sequence (a later transition when readiness flaps).
 */
const pod = (name: string, app: string, scheduled: number, ready: number | string) => [
  {
    series: `kube_pod_status_scheduled_time{${ns},pod="${name}",uid="${name}"}`,
    values: `${scheduled}x200`,
  },
  {
    series: `kube_pod_status_ready_time{${ns},pod="${name}",uid="${name}"}`,
    values: typeof ready === "number" ? `${ready}x200` : ready,
  },
  {
    series: `kube_pod_labels{${ns},pod="${name}",uid="${name}",label_app="${app}"}`,
    values: "1x200",
  },
];

describe("observability: model start time", function () {
  const promtool = findPromtool();

  it("records scheduled -> Ready per model pod with its variant, and alerts past budget + margin for an hour", function () {
    if (!promtool) {
      if (process.env.CI) assert.fail("promtool is required in CI (Debian/Ubuntu: apt-get)");
      this.skip();
    }
    const alert = modelStartAlert(budgets);
    const slow = { namespace: "llm-baseline", pod: "vllm-baseline-1", variant: "baseline" };
    const r = testRules(promtool, modelStartRuleSpec(budgets).groups, [
      {
        interval: "1m",
        input_series: [
          // baseline took 400 s (over 200 × 1.5), awq 250 s (within), adapter-sync is no model server.
          ...pod("vllm-baseline-1", "vllm-baseline", 100, 500),
          ...pod("vllm-awq-1", "vllm-awq", 100, 350),
          ...pod("adapter-sync-1", "adapter-sync", 100, 900),
          // awq-2 started in 150 s; at 50 min its readiness flapped (Ready again at 3000 s): not slow.
          ...pod("vllm-awq-2", "vllm-awq", 100, "250x49 3000x150"),
        ],
        promql_expr_test: [
          {
            expr: podStartMetric,
            eval_time: "5m",
            exp_samples: [
              { labels: `${podStartMetric}{${ns},pod="vllm-awq-1",variant="awq"}`, value: 250 },
              { labels: `${podStartMetric}{${ns},pod="vllm-awq-2",variant="awq"}`, value: 150 },
              {
                labels: `${podStartMetric}{${ns},pod="vllm-baseline-1",variant="baseline"}`,
                value: 400,
              },
            ],
          },
          {
            expr: startBudgetMetric,
            eval_time: "5m",
            exp_samples: [
              { labels: `${startBudgetMetric}{variant="awq"}`, value: 200 },
              { labels: `${startBudgetMetric}{variant="baseline"}`, value: 200 },
            ],
          },
        ],
        alert_rule_test: [
          {
            eval_time: "5m",
            alertname: alert.alert,
            exp_alerts: [
              {
                exp_labels: { ...slow, severity: "warning" },
                exp_annotations: {
                  summary: "baseline: vllm-baseline-1 took 6m 40s to serve",
                  description: alert.annotations.description,
                },
              },
            ],
          },
          // After awq-2's flap its "start" reads 2900 s, but its first one was 150 s: still only baseline.
          {
            eval_time: "55m",
            alertname: alert.alert,
            exp_alerts: [
              {
                exp_labels: { ...slow, severity: "warning" },
                exp_annotations: {
                  summary: "baseline: vllm-baseline-1 took 6m 40s to serve",
                  description: alert.annotations.description,
                },
              },
            ],
          },
          // An hour after the pod became Ready (time() 7200 s, Ready at 500 s), the alert has resolved.
          { eval_time: "2h", alertname: alert.alert, exp_alerts: [] },
        ],
      },
    ]);
    assert.ok(r.ok, r.report);
  });

  it("shows both series on the vLLM dashboard", () => {
    const panel = (JSON.parse(dashboards.vllm!) as { panels: any[] }).panels.find((p) =>
      p.targets.some((t: { expr: string }) => t.expr.includes(podStartMetric)),
    );
    assert.ok(panel, "a panel plots the measured start");
    assert.ok(panel.targets.some((t: { expr: string }) => t.expr.includes(startBudgetMetric)));
    assert.equal(panel.fieldConfig.defaults.unit, "s");
  });

  for (const stack of stacks) {
    it(`${stack}: one budget series per variant, its predicted first pod start; the margin from config`, async () => {
      const run = await runStack(stack);
      const rule = run.get(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        `llmplatform-${stack}-observability-model-start-rules`,
      ).inputs;
      assert.equal(rule.metadata.name, "model-start");
      const rules = rule.spec.groups[0].rules as { record?: string; expr: string; labels?: any }[];
      const c = stackConfig(stack);
      const expected = podStartBudgets(c.models, c.nodeGroups.gpu);
      assert.deepEqual(
        Object.fromEntries(
          rules
            .filter((x) => x.record === startBudgetMetric)
            .map((x) => [x.labels.variant, Number(/^vector\((\d+)\)$/.exec(x.expr)![1])]),
        ),
        expected,
      );
      assert.deepEqual(Object.keys(expected), Object.keys(c.models.variants));
      const factor = 1 + c.models.coldStart.alertMarginPercent / 100;
      assert.ok(rules.at(-1)!.expr.includes(`(${startBudgetMetric} * ${factor})`));
    });
  }
});
