import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, chartWorkloads, httpUrl } from "../platform/chartContracts";
import { modelNamespace, modelServerLabel, partOf, registry } from "../platform/registry";
import { type Registry } from "../platform/designs";
import { charts } from "../platform/versions";
import { release, type AddonScope } from "./unitScope";
import { platformRuleSpec } from "./alerts";
import { kubePrometheusStackValues } from "./values/metrics";

/** Where Prometheus answers queries and takes remote writes and OTLP metrics. */
export interface PrometheusEndpoints {
  /** Base URL of the Prometheus HTTP API. */
  readonly url: string;
  /** Its Service port (NetworkPolicies of the clients). */
  readonly port: number;
  readonly remoteWriteUrl: string;
  /** OTLP/HTTP base URL (the exporter appends /v1/metrics). */
  readonly otlpUrl: string;
}

/** Prometheus's endpoints, from the chart contract. */
export function prometheusEndpoints(): PrometheusEndpoints {
  const url = httpUrl(chartEndpoints.prometheus);
  return {
    url,
    port: chartEndpoints.prometheus.port,
    remoteWriteUrl: `${url}/api/v1/write`,
    otlpUrl: `${url}/api/v1/otlp`,
  };
}

/** kube-state-metrics exports these node/pod labels, so alerts and dashboards can select GPU nodes. */
const kubeStateMetricsLabels = [
  "nodes=[workload,eks.amazonaws.com/capacityType,llmplatform.io/node-group]",
  "pods=[app]",
];

/**
 * PodMonitors: every service of the registry and the vLLM servers (/metrics on `http`), and the DCGM
 * exporter.
 */
export function podMonitorSpecs(reg: Registry = registry) {
  const endpoint = (port: string) => [{ port, path: "/metrics", interval: "30s" }];
  const services = Object.keys(reg.services);
  return {
    "platform-services": {
      namespaceSelector: {
        matchNames: [...new Set(Object.values(reg.services).map((d) => d.namespace))],
      },
      selector: { matchExpressions: [{ key: "app", operator: "In", values: services }] },
      podMetricsEndpoints: endpoint("http"),
      podTargetLabels: ["app", "team"],
    },
    "model-servers": {
      namespaceSelector: { matchNames: [modelNamespace] },
      selector: { matchLabels: { [modelServerLabel]: "true" } },
      podMetricsEndpoints: endpoint("http"),
      podTargetLabels: ["app", "llmplatform.io/model-variant"],
    },
    "dcgm-exporter": {
      namespaceSelector: { matchNames: ["observability"] },
      selector: { matchLabels: { ...chartWorkloads.dcgmExporter.podLabels } },
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
    },
  };
}

/** A Prometheus Operator custom resource in the namespace; its CRDs arrive with `kps`. */
function monitoringResource(
  s: AddonScope,
  kps: pulumi.Resource,
  role: string,
  kind: string,
  objectName: string,
  spec: object,
) {
  return new k8s.apiextensions.CustomResource(
    `${s.name}-${role}`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind,
      metadata: {
        name: objectName,
        namespace: s.namespace,
        labels: { "app.kubernetes.io/part-of": partOf },
      },
      spec,
    },
    { parent: s.parent, dependsOn: [kps] },
  );
}

/**
 * kube-prometheus-stack (Prometheus, Alertmanager, exporters), remote-writing to `remoteWriteUrl`
 * when given; the alert webhook Secret when configured; the platform's PodMonitors and alert rules.
 */
export function createPrometheus(
  s: AddonScope,
  p: { remoteWriteUrl?: string; alertWebhookUrl?: pulumi.Output<string> },
): PrometheusEndpoints {
  const webhook = p.alertWebhookUrl
    ? new k8s.core.v1.Secret(
        `${s.name}-alert-webhook`,
        {
          metadata: {
            name: "alertmanager-webhook",
            namespace: s.namespace,
            labels: { "app.kubernetes.io/part-of": partOf },
          },
          stringData: { url: p.alertWebhookUrl },
        },
        { parent: s.parent },
      )
    : undefined;
  const v = kubePrometheusStackValues({
    stack: s.ctx.stack,
    clusterName: s.ctx.clusterName,
    o: s.o,
    ...(p.remoteWriteUrl ? { remoteWriteUrl: p.remoteWriteUrl } : {}),
    ...(webhook ? { webhookSecret: "alertmanager-webhook" } : {}),
  });
  const values = {
    ...v,
    "kube-state-metrics": {
      ...v["kube-state-metrics"],
      metricLabelsAllowlist: kubeStateMetricsLabels,
    },
  };
  const kps = release(
    s,
    "kube-prometheus-stack",
    charts.kubePrometheusStack,
    values,
    webhook ? [webhook] : [],
  );
  for (const [monitor, spec] of Object.entries(podMonitorSpecs()))
    monitoringResource(s, kps, monitor, "PodMonitor", monitor, spec);
  monitoringResource(s, kps, "rules", "PrometheusRule", "llm-platform", platformRuleSpec());
  return prometheusEndpoints();
}
