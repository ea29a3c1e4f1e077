/**
 * Shared pieces of the observability stack's Helm values: the in-cluster endpoints it is wired with,
 * placement, and IRSA annotations. Each chart's values live in a file of their own beside this one;
 * all are pure functions asserted by tests/observability.test.ts. Chart keys follow
 * shared/reference/chart-facts.md (snapshots of 2026-08-22).
 */

/** In-cluster service names the stack is wired with (fixed with fullnameOverride). */
export const obsServices = {
  prometheus: "http://kps-prometheus.observability.svc.cluster.local:9090",
  alertmanager: "http://kps-alertmanager.observability.svc.cluster.local:9093",
  mimirPush: "http://mimir-distributor.observability.svc.cluster.local:8080/api/v1/push",
  mimirQuery: "http://mimir-query-frontend.observability.svc.cluster.local:8080/prometheus",
  loki: "http://loki.observability.svc.cluster.local:3100",
  tempoOtlpGrpc: "tempo.observability.svc.cluster.local:4317",
  tempoQuery: "http://tempo.observability.svc.cluster.local:3200",
};

export const onCpuNodes = { nodeSelector: { workload: "cpu" } };
/** Node agents must run on every node, GPU nodes (tainted) included. */
export const everywhere = { tolerations: [{ operator: "Exists" }] };
export const irsa = (roleArn: string | undefined) =>
  roleArn ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {};
