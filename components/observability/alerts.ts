/**
 * The platform's alert rules (PrometheusRule), as data: the operations guide's error-rate and latency
 * alerts per service, plus model, GPU-node, crash-loop and quota alerts. Severity `critical` pages,
 * `warning` notifies.
 */
import { modelNamespace, registry } from "../platform/registry";
import { type Registry } from "../platform/designs";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "critical" | "warning" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

/** The alerts, covering every service and namespace of the registry. */
export function alertRulesFor(reg: Registry = registry): AlertRule[] {
  const services = `app=~"${Object.keys(reg.services).join("|")}"`;
  // Workload namespaces first, the monitoring's own last.
  const ns = Object.entries(reg.namespaces);
  const platformNamespaces = `namespace=~"${[
    ...ns.filter(([, d]) => d.tier !== "observability"),
    ...ns.filter(([, d]) => d.tier === "observability"),
  ]
    .map(([name]) => name)
    .join("|")}"`;
  return [
    {
      alert: "ServiceHighErrorRate",
      expr:
        `sum by (namespace, app) (rate(http_requests_total{${services},status=~"5.."}[5m]))` +
        ` / sum by (namespace, app) (rate(http_requests_total{${services}}[5m])) > 0.05`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "{{ $labels.app }}: more than 5 % of requests fail",
        description:
          "5xx ratio of {{ $labels.namespace }}/{{ $labels.app }} is {{ $value | humanizePercentage }} over 5 minutes.",
      },
    },
    {
      alert: "ServiceHighLatency",
      expr: `histogram_quantile(0.95, sum by (namespace, app, le) (rate(http_request_duration_seconds_bucket{${services}}[5m]))) > 1`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.app }}: p95 latency above 1 s",
        description:
          "p95 of {{ $labels.namespace }}/{{ $labels.app }} is {{ $value | humanizeDuration }}.",
      },
    },
    {
      alert: "ModelServerDown",
      expr: `kube_deployment_spec_replicas{namespace="${modelNamespace}"} > 0 and kube_deployment_status_replicas_available{namespace="${modelNamespace}"} == 0`,
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Model server {{ $labels.deployment }} serves nothing",
        description:
          "No replica of {{ $labels.deployment }} has been available for 10 minutes (spot capacity, image pull or model load).",
      },
    },
    {
      alert: "GpuNodeNotReady",
      expr: `(kube_node_status_condition{condition="Ready",status="true"} == 0) * on (node) group_left () (kube_node_labels{label_workload="gpu"} == 1)`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "GPU node {{ $labels.node }} is not Ready",
        description:
          "A GPU node has not been Ready for 5 minutes; its model pods cannot run there.",
      },
    },
    {
      alert: "PodCrashLooping",
      expr: `max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{${platformNamespaces},reason="CrashLoopBackOff"}) == 1`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
        description:
          "Container {{ $labels.container }} has been in CrashLoopBackOff for 5 minutes.",
      },
    },
    {
      alert: "NamespaceNearQuota",
      expr: `max by (namespace, resource) (kube_resourcequota{${platformNamespaces},type="used"}) / max by (namespace, resource) (kube_resourcequota{${platformNamespaces},type="hard"} > 0) > 0.9`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.namespace }} uses over 90 % of its {{ $labels.resource }} quota",
        description: "New pods (rollout surges, HPA scale-ups) will soon be rejected.",
      },
    },
  ];
}

/** The platform's alerts. */
export const alertRules: AlertRule[] = alertRulesFor();

/** The PrometheusRule spec holding them. */
export function platformRuleSpec() {
  return {
    groups: [
      {
        name: "llm-platform",
        rules: alertRules.map((r) => ({
          ...r,
          labels: { ...r.labels },
          annotations: { ...r.annotations },
        })),
      },
    ],
  };
}
