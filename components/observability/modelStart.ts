/**
 * The cold start, measured: how long each model server pod took from scheduled to Ready, beside its
 * variant's predicted budget, and an alert when a start overran the budget by more than the configured
 * margin. vLLM v0.29.0 exports no startup-time metric of its own (an engine-startup gauge was still an
 * open pull request in mid-2026), so kube-state-metrics' pod timestamps measure it:
 * `kube_pod_status_scheduled_time` (PodScheduled) and `kube_pod_status_ready_time` (Ready, present only
 * while the pod is Ready), joined to the variant through `kube_pod_labels{label_app="vllm-<variant>"}`
 * (the `pods=[app]` allowlist; kube-state-metrics v2.20.0 in kube-prometheus-stack 88.5.3).
 */
import { modelNamespace, modelServerName } from "../platform/registry";
import type { AlertRule } from "./alerts";

/** The predicted start of every variant, and how far a measured one may overrun it. */
export interface ModelStartBudgets {
  /** Seconds from scheduled to Ready on a first start, per variant (components/platform/coldStart.ts). */
  readonly budgets: Readonly<Record<string, number>>;
  /** The alert fires above budget × (1 + margin/100). */
  readonly marginPercent: number;
}

/** Per pod, labelled `variant`: seconds from scheduled to Ready (while the pod is Ready). */
export const podStartMetric = "llmplatform:model_pod_start_seconds";
/** Per variant: the predicted first start, seconds. */
export const startBudgetMetric = "llmplatform:model_start_budget_seconds";

/** A slow start alerts for this long after the pod became Ready, then resolves. */
const alertWindowSeconds = 3600;
/**
 * How far back the alert looks for a pod's shortest measured start. kube-state-metrics' Ready time is
 * the Ready condition's last transition, so a pod whose readiness flaps (overload, a restart) shows a
 * later one and a longer "start"; the minimum over the window keeps its real first start, as long as
 * the pod was Ready at some point in the window before (longer than the alert window itself).
 */
const firstStartLookback = "2h";

interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The recording rules: the measured start per pod, and one budget series per variant. */
export function modelStartRecordingRules(b: ModelStartBudgets): RecordingRule[] {
  const ns = `namespace="${modelNamespace}"`;
  const prefix = modelServerName("");
  const measured =
    `max by (namespace, pod, variant) (label_replace(` +
    `(max by (namespace, pod) (kube_pod_status_ready_time{${ns}})` +
    ` - on (namespace, pod) max by (namespace, pod) (kube_pod_status_scheduled_time{${ns}}))` +
    ` * on (namespace, pod) group_left (label_app)` +
    ` max by (namespace, pod, label_app) (kube_pod_labels{${ns}, label_app=~"${prefix}.+"}),` +
    ` "variant", "$1", "label_app", "${prefix}(.+)"))`;
  return [
    { record: podStartMetric, expr: measured },
    ...Object.entries(b.budgets).map(([variant, seconds]) => ({
      record: startBudgetMetric,
      expr: `vector(${seconds})`,
      labels: { variant },
    })),
  ];
}

/** The alert: a pod of a variant took longer than its budget plus the margin to become Ready. */
export function modelStartAlert(b: ModelStartBudgets): AlertRule {
  const factor = 1 + b.marginPercent / 100;
  const ready = `max by (namespace, pod) (kube_pod_status_ready_time{namespace="${modelNamespace}"})`;
  return {
    alert: "ModelServerSlowStart",
    expr:
      `min_over_time(${podStartMetric}[${firstStartLookback}])` +
      ` > on (variant) group_left () (${startBudgetMetric} * ${factor})` +
      ` and on (namespace, pod) (time() - ${ready} < ${alertWindowSeconds})`,
    for: "1m",
    labels: { severity: "warning" },
    annotations: {
      summary:
        "{{ $labels.variant }}: {{ $labels.pod }} took {{ $value | humanizeDuration }} to serve",
      description:
        `From scheduled to Ready, more than the variant's predicted first start plus ${b.marginPercent} % ` +
        "(npm run cost prints the budget, phase by phase). Look for the slow phase in the pod's events " +
        "(image pull), the wait-for-weights log (staging) and vLLM's load and compile log lines. " +
        `Resolves ${alertWindowSeconds / 3600} h after the pod became Ready.`,
    },
  };
}

/** The PrometheusRule spec: recording rules first, the alert reads them in the same evaluation. */
export function modelStartRuleSpec(b: ModelStartBudgets) {
  const alert = modelStartAlert(b);
  return {
    groups: [
      {
        name: "llm-platform-model-start",
        rules: [
          ...modelStartRecordingRules(b).map((r) => ({
            ...r,
            ...(r.labels ? { labels: { ...r.labels } } : {}),
          })),
          { ...alert, labels: { ...alert.labels }, annotations: { ...alert.annotations } },
        ],
      },
    ],
  };
}
