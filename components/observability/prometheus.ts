import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import {
  chartEndpoints,
  chartPrometheus,
  chartWorkloads,
  httpUrl,
} from "../platform/chartContracts";
import { modelNamespace, modelServerLabel, partOf, registry } from "../platform/registry";
import { type Registry } from "../platform/designs";
import { charts } from "../platform/versions";
import { observabilitySecret, release, type UnitScope } from "./unitScope";
import { platformRuleSpec } from "./alerts";
import { modelStartRuleSpec, type ModelStartBudgets } from "./modelStart";
import { defaultStorageClassName } from "../lib/k8s/defaultStorageClass";
import type { ObservabilityConfig } from "../config/observability";
import { claimsDeletedWithRelease, everywhere, onCpuNodes, sized } from "./chartValues";
import { datasourceUids, type Datasource, type SignalExporter } from "./signals";

/**
 * The labels Mimir's HA tracker reads to dedupe the Prometheus replicas: `cluster` (one value for
 * all replicas of this Prometheus) and the operator's per-replica label.
 */
export const mimirHaLabels = {
  cluster: "cluster",
  replica: chartPrometheus.replicaLabel,
} as const;

/** Where Prometheus answers queries and takes remote writes and OTLP metrics. */
export interface PrometheusEndpoints {
  /** Base URL of the Prometheus HTTP API. */
  readonly url: string;
  /** Its Service port (NetworkPolicies of the clients). */
  readonly port: number;
  readonly remoteWriteUrl: string;
  /** OTLP/HTTP to its OTLP receiver (the exporter appends /v1/metrics). */
  readonly exporter: SignalExporter;
  /** Grafana's metrics datasource where no long-term store runs. */
  readonly datasource: Datasource;
}

/**
 * A Grafana datasource for a store with the Prometheus query API (Prometheus itself, Mimir): POST
 * queries, exemplars linked to the traces datasource.
 */
export function prometheusApiDatasource(name: string, url: string): Datasource {
  return {
    name,
    type: "prometheus",
    url,
    jsonData: {
      httpMethod: "POST",
      exemplarTraceIdDestinations: [{ name: "trace_id", datasourceUid: datasourceUids.traces }],
    },
  };
}

/** Prometheus's endpoints, from the chart contract. */
export function prometheusEndpoints(): PrometheusEndpoints {
  const url = httpUrl(chartEndpoints.prometheus);
  return {
    url,
    port: chartEndpoints.prometheus.port,
    remoteWriteUrl: `${url}/api/v1/write`,
    exporter: { key: "otlphttp/prometheus", endpoint: `${url}/api/v1/otlp` },
    datasource: prometheusApiDatasource("Prometheus", url),
  };
}

/** kube-state-metrics exports these node/pod labels, so alerts and dashboards can select GPU nodes. */
const kubeStateMetricsLabels = [
  // instance-type: benchmarks record which GPU instance served each scenario (its price).
  "nodes=[workload,eks.amazonaws.com/capacityType,llmplatform.io/node-group,node.kubernetes.io/instance-type]",
  "pods=[app]",
];

/**
 * PodMonitors: every service of the registry and the vLLM servers (/metrics on `http`), the DCGM
 * exporter, and Argo Workflows' controller (workflow and benchmark metrics).
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
    "argo-workflows-controller": {
      namespaceSelector: { matchNames: [chartWorkloads.argoWorkflowsController.namespace] },
      selector: { matchLabels: { ...chartWorkloads.argoWorkflowsController.podLabels } },
      podMetricsEndpoints: endpoint(chartWorkloads.argoWorkflowsController.ports[0].name),
    },
  };
}

/** A Prometheus Operator custom resource in the namespace; its CRDs arrive with `kps`. */
function monitoringResource(
  scope: UnitScope,
  kps: pulumi.Resource,
  role: string,
  kind: string,
  objectName: string,
  spec: object,
) {
  return new k8s.apiextensions.CustomResource(
    `${scope.name}-${role}`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind,
      metadata: {
        name: objectName,
        namespace: scope.namespace,
        labels: { "app.kubernetes.io/part-of": partOf },
      },
      spec,
    },
    { parent: scope.parent, dependsOn: [kps] },
  );
}

/**
 * kube-prometheus-stack (Prometheus, Alertmanager, exporters), remote-writing to `remoteWriteUrl`
 * when given; the alert webhook Secret when configured; the platform's PodMonitors and alert rules.
 */
export function createPrometheus(
  scope: UnitScope,
  p: {
    remoteWriteUrl?: string;
    alertWebhookUrl?: pulumi.Output<string>;
    /** The model servers' start budgets: the start-time recording rules and alert. */
    modelStart?: ModelStartBudgets;
  },
): PrometheusEndpoints {
  const webhook = p.alertWebhookUrl
    ? observabilitySecret(scope, "alert-webhook", {
        name: "alertmanager-webhook",
        description: "Alertmanager's webhook URL (it embeds the receiver's credentials)",
        value: { string: p.alertWebhookUrl, key: "url" },
        owner: "config",
      })
    : undefined;
  const v = kubePrometheusStackValues({
    stack: scope.ctx.stack,
    clusterName: scope.ctx.clusterName,
    config: scope.config,
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
    scope,
    "kube-prometheus-stack",
    charts.kubePrometheusStack,
    values,
    webhook ? [webhook.externalSecret] : [],
  );
  for (const [monitor, spec] of Object.entries(podMonitorSpecs()))
    monitoringResource(scope, kps, monitor, "PodMonitor", monitor, spec);
  monitoringResource(scope, kps, "rules", "PrometheusRule", "llm-platform", platformRuleSpec());
  if (p.modelStart) {
    const spec = modelStartRuleSpec(p.modelStart);
    monitoringResource(scope, kps, "model-start-rules", "PrometheusRule", "model-start", spec);
  }
  return prometheusEndpoints();
}

export interface KubePrometheusStackParams {
  readonly stack: string;
  readonly clusterName: string;
  readonly config: ObservabilityConfig;
  /** Mimir's push URL, when Mimir runs: Prometheus remote-writes every series there. */
  readonly remoteWriteUrl?: string;
  /** Name of the Secret holding `url` of the Alertmanager webhook, when one is configured. */
  readonly webhookSecret?: string;
}

/**
 * kube-prometheus-stack: Prometheus Operator, Prometheus (OTLP receiver on, remote-write to Mimir when
 * enabled), Alertmanager, node-exporter, kube-state-metrics. The chart's Grafana is off (Grafana is its
 * own release); EKS hides the control plane, so its scrape jobs are off.
 */
export function kubePrometheusStackValues(p: KubePrometheusStackParams) {
  const receivers = p.webhookSecret
    ? [
        { name: "null" },
        {
          name: "webhook",
          // The URL is read from the mounted Secret, never written into the config.
          webhook_configs: [
            { url_file: `/etc/alertmanager/secrets/${p.webhookSecret}/url`, send_resolved: true },
          ],
        },
      ]
    : [{ name: "null" }];
  return {
    fullnameOverride: "kps",
    crds: { enabled: true },
    grafana: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    defaultRules: {
      create: true,
      rules: {
        etcd: false,
        kubeControllerManager: false,
        kubeSchedulerAlerting: false,
        kubeSchedulerRecording: false,
        kubeProxy: false,
      },
    },
    // The operator reads Secrets cluster-wide (it writes the generated Prometheus and Alertmanager
    // configs as Secrets and reads those monitors reference); the chart has no value narrowing its
    // ClusterRole. One of the two cluster-wide Secret readers tests/platform/chartContracts.test.ts allows.
    prometheusOperator: {
      ...onCpuNodes,
      resources: sized("100m", "128Mi", "512Mi"),
      // The sidecar the operator adds to every Prometheus and Alertmanager pod.
      prometheusConfigReloader: { resources: sized("10m", "50Mi", "50Mi") },
      admissionWebhooks: { patch: { resources: sized("10m", "32Mi", "64Mi") } },
    },
    "kube-state-metrics": {
      ...onCpuNodes,
      resources: sized("50m", "128Mi", "512Mi"),
      // No kube_secret_* series are used anywhere; without the collector its role cannot list or
      // watch Secrets cluster-wide.
      collectorsExclude: ["secrets"],
    },
    // On every node, GPU nodes included: kept small, it is multiplied by the node count.
    "prometheus-node-exporter": {
      ...everywhere,
      resources: sized("20m", "32Mi", "64Mi"),
      // Host network and PID namespace are what it exports (namespace exception, registry.ts); the
      // process itself needs no capability and never escalates.
      containerSecurityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      },
    },
    prometheus: {
      prometheusSpec: {
        ...onCpuNodes,
        replicas: p.config.prometheus.replicas,
        retention: p.config.prometheus.retention,
        // Keep 10 % headroom on the volume so the TSDB never fills it.
        retentionSize: `${Math.floor(p.config.prometheus.storageGi * 0.9)}GB`,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: defaultStorageClassName,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${p.config.prometheus.storageGi}Gi` } },
            },
          },
        },
        // Copied into the Prometheus CR; the operator sets it on the StatefulSet.
        persistentVolumeClaimRetentionPolicy: claimsDeletedWithRelease,
        // `cluster` is the same on every replica and the operator adds `prometheus_replica` (the pod
        // name): the pair Mimir's HA tracker dedupes on (components/observability/mimir.ts), so Mimir
        // ingests one replica's samples and answers the other's with 202, never a rejection.
        externalLabels: { [mimirHaLabels.cluster]: p.clusterName, environment: p.stack },
        // Pick up every ServiceMonitor/PodMonitor/PrometheusRule, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        // The OpenTelemetry Collector pushes application metrics here (OTLP), and Tempo's metrics
        // generator its span metrics and service graph (remote write).
        enableOTLPReceiver: true,
        enableRemoteWriteReceiver: true,
        remoteWrite: p.remoteWriteUrl ? [{ url: p.remoteWriteUrl }] : [],
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        ...onCpuNodes,
        replicas: p.config.alertmanager.replicas,
        resources: sized("20m", "64Mi", "256Mi"),
        ...(p.webhookSecret ? { secrets: [p.webhookSecret] } : {}),
      },
      config: {
        route: {
          receiver: p.webhookSecret ? "webhook" : "null",
          group_by: ["alertname", "namespace", "service"],
          group_wait: "30s",
          group_interval: "5m",
          repeat_interval: "4h",
          routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
        },
        receivers,
      },
    },
  };
}
