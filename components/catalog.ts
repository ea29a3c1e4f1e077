/**
 * The platform's fixed shape from the design: which namespaces exist, who owns them, how strict their
 * Pod Security is and why, and which services run where. Sizes, replicas and tags are stack config;
 * this catalog is the same in every environment.
 */
import { chartEndpoints, httpUrl } from "./chartContracts";

/** Pod Security Standards level (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface NamespaceDesign {
  /** `tier` label: platform, team, observability or models. */
  readonly tier: "platform" | "team" | "observability" | "models";
  /** `team` label, where the design names an owning team. */
  readonly team?: string;
  /** Enforced Pod Security level; audit and warn are always `restricted`, so every exception is visible. */
  readonly podSecurity: PodSecurityLevel;
  /** Why the namespace cannot enforce `restricted` (required when it does not). */
  readonly exception?: string;
  /** Pods here sit behind the ALB: the controller injects its readiness gate into them. */
  readonly behindLoadBalancer?: boolean;
}

export const namespaceNames = [
  "platform",
  "quant",
  "finetune",
  "eval",
  "observability",
  "llm-baseline",
] as const;
export type NamespaceName = (typeof namespaceNames)[number];

export const namespaceDesign: Record<NamespaceName, NamespaceDesign> = {
  platform: {
    tier: "platform",
    team: "platform",
    podSecurity: "restricted",
    behindLoadBalancer: true,
  },
  quant: { tier: "team", team: "quant", podSecurity: "restricted" },
  finetune: { tier: "team", team: "finetune", podSecurity: "restricted" },
  eval: { tier: "team", team: "eval", podSecurity: "restricted" },
  observability: {
    tier: "observability",
    team: "platform",
    podSecurity: "privileged",
    behindLoadBalancer: true,
    exception:
      "node-level agents live here: node-exporter needs hostNetwork/hostPID and read-only hostPath /proc and " +
      "/sys, the log agent needs read-only hostPath /var/log/pods; both are forbidden even by `baseline`. " +
      "Audit and warn stay `restricted`, so any other workload that is not restricted is reported.",
  },
  // vLLM runs as its image's non-root `vllm` user (UID 2000) with a read-only root filesystem and
  // writable caches on volumes, so the model namespace can be restricted.
  "llm-baseline": { tier: "models", team: "platform", podSecurity: "restricted" },
};

/** The four HTTP services of the design, one component used four times. */
export const serviceNames = ["gateway", "quant-api", "finetune-api", "eval-api"] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface ServiceDesign {
  readonly namespace: NamespaceName;
  readonly team: string;
  /** `component` label. */
  readonly component: string;
  readonly serviceAccount: string;
  readonly configMap: string;
}

export const serviceDesign: Record<ServiceName, ServiceDesign> = {
  gateway: {
    namespace: "platform",
    team: "platform",
    component: "gateway",
    serviceAccount: "gateway-sa",
    configMap: "gateway-config",
  },
  "quant-api": {
    namespace: "quant",
    team: "quant",
    component: "api",
    serviceAccount: "quant-sa",
    configMap: "quant-config",
  },
  "finetune-api": {
    namespace: "finetune",
    team: "finetune",
    component: "api",
    serviceAccount: "finetune-sa",
    configMap: "finetune-config",
  },
  "eval-api": {
    namespace: "eval",
    team: "eval",
    component: "api",
    serviceAccount: "eval-sa",
    configMap: "eval-config",
  },
};

/** The team APIs the gateway routes to, by route key. */
export const teamApis = {
  quant: "quant-api",
  finetune: "finetune-api",
  eval: "eval-api",
} as const satisfies Record<string, ServiceName>;

/**
 * Namespace label of the AWS Load Balancer Controller: pods get a readiness gate that turns true only
 * once the ALB target group reports them healthy, so a rolling update never removes the last pod the
 * ALB can reach.
 */
export const readinessGateLabel = { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" };

/** Label every platform object carries. */
export const partOf = "llm-optimization-platform";

/** Every service listens here (named port `http`); the Service exposes it on 80. */
export const servicePort = 8000;

/** In-cluster URL of a service (its ClusterIP Service on port 80). */
export function serviceUrl(service: ServiceName): string {
  return `http://${service}.${serviceDesign[service].namespace}.svc.cluster.local`;
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

/** One model endpoint of the design. */
export interface ModelDesign {
  readonly team: string;
  /** The service that calls it. */
  readonly client: ServiceName;
  /**
   * Model family: variants of one family are optimisations of one base model (compared like for
   * like), so they must share it. The judge is a different model on purpose.
   */
  readonly family: "subject" | "judge";
  /**
   * Only `client` may reach it (not the gateway): the LoRA server exposes vLLM's runtime adapter
   * admin endpoints (`/v1/load_lora_adapter`, `/v1/unload_lora_adapter`), which a NetworkPolicy
   * cannot filter by path.
   */
  readonly clientOnly?: boolean;
}

/** The four model endpoints of the design: which team owns each and which service calls it. */
export const modelDesign = {
  baseline: { team: "platform", client: "gateway", family: "subject" },
  awq: { team: "quant", client: "quant-api", family: "subject" },
  lora: { team: "finetune", client: "finetune-api", family: "subject", clientOnly: true },
  judge: { team: "eval", client: "eval-api", family: "judge" },
} as const satisfies Record<string, ModelDesign>;

/** The services that may call a model variant: its client, and the gateway unless `clientOnly`. */
export function modelCallers(variant: keyof typeof modelDesign): ServiceName[] {
  const d: ModelDesign = modelDesign[variant];
  return [...new Set<ServiceName>([...(d.clientOnly ? [] : ["gateway" as const]), d.client])];
}

/** Namespace of the model servers. */
export const modelNamespace: NamespaceName = "llm-baseline";

/** Label shared by every model server pod: the required anti-affinity keeps them on separate nodes. */
export const modelServerLabel = "llmplatform.io/model-server";

/** Deployment/Service name of a model variant. */
export function modelServerName(variant: string): string {
  return `vllm-${variant}`;
}

/** In-cluster URL of a model variant's Service (port 80). */
export function modelUrl(variant: string): string {
  return `http://${modelServerName(variant)}.${modelNamespace}.svc.cluster.local`;
}
