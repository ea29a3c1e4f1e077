/**
 * What each third-party chart provides to the rest of the platform, as the program configures it: the
 * Services others address (name, namespace, port), the pods behind them (labels, container port) and
 * any cluster-wide names. This is the single place components take in-cluster endpoints from, and the
 * contract the chart-render test proves against the real charts at their pinned versions
 * (tests/platform/chartContracts.test.ts): a chart upgrade that renames a Service or relabels a pod fails there, not in
 * production.
 *
 * Names are fixed by the `fullnameOverride` each release sets (components/observability/values).
 */
import type { NamespaceName } from "./registry";

/** A Service a chart creates, and the pods it reaches. */
export interface ChartEndpoint {
  /** The Helm release that creates it. */
  readonly release: string;
  readonly namespace: NamespaceName;
  readonly service: string;
  /** Service port. */
  readonly port: number;
  /** The container port behind it, on pods carrying `podLabels`. */
  readonly containerPort: number;
  /** Labels on the serving pods (a subset is enough to select them in NetworkPolicies). */
  readonly podLabels: Readonly<Record<string, string>>;
}

const observability = "observability" as const;

const prometheusPods = {
  "app.kubernetes.io/name": "prometheus",
  "operator.prometheus.io/name": "kps-prometheus",
};
const otelCollectorPods = {
  "app.kubernetes.io/name": "opentelemetry-collector",
  "app.kubernetes.io/instance": "otel-collector",
};
const lokiPods = { "app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "loki" };
const tempoPods = { "app.kubernetes.io/name": "tempo", "app.kubernetes.io/instance": "tempo" };
const mimirPods = (component: string) => ({
  "app.kubernetes.io/name": "mimir",
  "app.kubernetes.io/instance": "mimir",
  "app.kubernetes.io/component": component,
});

/** The in-cluster endpoints the platform wires together. */
export const chartEndpoints = {
  prometheus: {
    release: "kube-prometheus-stack",
    namespace: observability,
    service: "kps-prometheus",
    port: 9090,
    containerPort: 9090,
    podLabels: prometheusPods,
  },
  otelCollectorGrpc: {
    release: "otel-collector",
    namespace: observability,
    service: "otel-collector",
    port: 4317,
    containerPort: 4317,
    podLabels: otelCollectorPods,
  },
  otelCollectorHttp: {
    release: "otel-collector",
    namespace: observability,
    service: "otel-collector",
    port: 4318,
    containerPort: 4318,
    podLabels: otelCollectorPods,
  },
  loki: {
    release: "loki",
    namespace: observability,
    service: "loki",
    port: 3100,
    containerPort: 3100,
    podLabels: lokiPods,
  },
  tempoOtlpGrpc: {
    release: "tempo",
    namespace: observability,
    service: "tempo",
    port: 4317,
    containerPort: 4317,
    podLabels: tempoPods,
  },
  tempoQuery: {
    release: "tempo",
    namespace: observability,
    service: "tempo",
    port: 3200,
    containerPort: 3200,
    podLabels: tempoPods,
  },
  mimirDistributor: {
    release: "mimir",
    namespace: observability,
    service: "mimir-distributor",
    port: 8080,
    containerPort: 8080,
    podLabels: mimirPods("distributor"),
  },
  mimirQueryFrontend: {
    release: "mimir",
    namespace: observability,
    service: "mimir-query-frontend",
    port: 8080,
    containerPort: 8080,
    podLabels: mimirPods("query-frontend"),
  },
  grafana: {
    release: "grafana",
    namespace: observability,
    service: "grafana",
    port: 3000,
    containerPort: 3000,
    podLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" },
  },
} as const satisfies Record<string, ChartEndpoint>;

/** Pods a chart runs that no other component addresses, but that policies and monitors select. */
export interface ChartWorkload {
  readonly release: string;
  readonly namespace: NamespaceName | "kube-system";
  readonly name: string;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
}

export const chartWorkloads = {
  /** The node log agent (opentelemetry-collector chart in daemonset mode). */
  otelAgent: {
    release: "otel-agent",
    namespace: observability,
    name: "otel-agent",
    podLabels: {
      "app.kubernetes.io/name": "opentelemetry-collector",
      "app.kubernetes.io/instance": "otel-agent",
    },
    ports: [],
  },
  /** NVIDIA DCGM exporter on the GPU nodes: GPU metrics on the `metrics` port. */
  dcgmExporter: {
    release: "dcgm-exporter",
    namespace: observability,
    name: "dcgm-exporter",
    podLabels: { "app.kubernetes.io/name": "dcgm-exporter" },
    ports: [{ name: "metrics", containerPort: 9400 }],
  },
  /** KEDA's operator: serves the metrics API server over gRPC, queries the scalers' sources. */
  kedaOperator: {
    release: "keda",
    namespace: "keda",
    name: "keda-operator",
    podLabels: { app: "keda-operator" },
    ports: [{ name: "metricsservice", containerPort: 9666 }],
  },
  /** KEDA's external metrics API server (an APIService the control plane calls). */
  kedaMetricsApiServer: {
    release: "keda",
    namespace: "keda",
    name: "keda-operator-metrics-apiserver",
    podLabels: { app: "keda-operator-metrics-apiserver" },
    ports: [{ name: "https", containerPort: 6443 }],
  },
  /** KEDA's admission webhooks (validate ScaledObjects). */
  kedaWebhooks: {
    release: "keda",
    namespace: "keda",
    name: "keda-admission-webhooks",
    podLabels: { app: "keda-admission-webhooks" },
    ports: [{ name: "http", containerPort: 9443 }],
  },
  /** The Prometheus Operator: serves the PrometheusRule/AlertmanagerConfig admission webhooks. */
  prometheusOperator: {
    release: "kube-prometheus-stack",
    namespace: observability,
    name: "kps-operator",
    podLabels: { app: "kube-prometheus-stack-operator", release: "kube-prometheus-stack" },
    ports: [{ name: "https", containerPort: 10250 }],
  },
  /**
   * Mimir's rollout-operator (a subchart, aliased `rollout_operator`): serves its admission webhooks
   * on `https`. Labels from grafana/helm-charts charts/rollout-operator `selectorLabels`, as rendered
   * under the alias.
   */
  mimirRolloutOperator: {
    release: "mimir",
    namespace: observability,
    name: "mimir-rollout-operator",
    podLabels: {
      "app.kubernetes.io/name": "rollout-operator",
      "app.kubernetes.io/instance": "mimir",
    },
    ports: [{ name: "https", containerPort: 8443 }],
  },
  /** External Secrets Operator's controller: metrics for Prometheus on `metrics`. */
  externalSecretsController: {
    release: "external-secrets",
    namespace: "external-secrets",
    name: "external-secrets",
    podLabels: {
      "app.kubernetes.io/name": "external-secrets",
      "app.kubernetes.io/instance": "external-secrets",
    },
    ports: [{ name: "metrics", containerPort: 8080 }],
  },
  /**
   * Argo Workflows' controller (its `fullnameOverride` is the release name): runs the benchmark
   * workflows; Prometheus scrapes the workflows' metrics on its `metrics` port.
   */
  argoWorkflowsController: {
    release: "argo-workflows",
    namespace: "argo",
    name: "argo-workflows-workflow-controller",
    podLabels: {
      "app.kubernetes.io/name": "argo-workflows-workflow-controller",
      "app.kubernetes.io/instance": "argo-workflows",
    },
    ports: [{ name: "metrics", containerPort: 9090 }],
  },
} as const satisfies Record<string, ChartWorkload>;

/**
 * The Prometheus that kube-prometheus-stack runs (a Prometheus Operator resource): it selects every
 * ServiceMonitor and PodMonitor in every namespace (the `*SelectorNilUsesHelmValues: false` values).
 * The operator gives each replica the external label `replicaLabel` = its pod name unless the values
 * clear it (prometheus-operator v0.93 pkg/prometheus/promcfg.go: `prometheus_replica`, "$(POD_NAME)").
 */
export const chartPrometheus = {
  release: "kube-prometheus-stack",
  namespace: observability,
  name: chartEndpoints.prometheus.service,
  replicaLabel: "prometheus_replica",
} as const;

/** Cluster-scoped names charts create that the program's objects refer to. */
export const chartClusterNames = {
  /** The IngressClass the AWS Load Balancer Controller chart creates (createIngressClassResource). */
  ingressClass: { release: "aws-load-balancer-controller", name: "alb" },
} as const;

/** `host:port` of an endpoint (gRPC clients, OTLP exporters). */
export function hostPort(e: ChartEndpoint): string {
  return `${e.service}.${e.namespace}.svc.cluster.local:${e.port}`;
}

/** `http://host:port<path>` of an endpoint. */
export function httpUrl(e: ChartEndpoint, path = ""): string {
  return `http://${hostPort(e)}${path}`;
}

/**
 * The OpenTelemetry Collector every service exports to, over OTLP/gRPC: its Service `otel-collector`
 * (chart contract). SDKs default to http/protobuf, so the protocol is always set with the endpoint.
 */
export const otelCollector = {
  namespace: chartEndpoints.otelCollectorGrpc.namespace,
  grpcEndpoint: httpUrl(chartEndpoints.otelCollectorGrpc),
  protocol: "grpc",
  ports: [
    chartEndpoints.otelCollectorGrpc.containerPort,
    chartEndpoints.otelCollectorHttp.containerPort,
  ],
  podLabels: chartEndpoints.otelCollectorGrpc.podLabels,
};

/** Prometheus pods (Prometheus Operator sets this label), allowed to scrape `/metrics` on 8000. */
export const prometheusPodLabels = {
  "app.kubernetes.io/name": chartEndpoints.prometheus.podLabels["app.kubernetes.io/name"],
};
