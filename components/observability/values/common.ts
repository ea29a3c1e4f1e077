/**
 * Shared pieces of the observability stack's Helm values: the in-cluster endpoints it is wired with,
 * placement, and IRSA annotations. Each chart's values live in a file of their own beside this one;
 * all are pure functions asserted by tests/observability.test.ts. Chart keys follow
 * shared/reference/chart-facts.md (snapshots of 2026-08-22).
 */
import { chartEndpoints, hostPort, httpUrl } from "../../chartContracts";

/** In-cluster addresses the stack is wired with, all from the chart contract. */
export const obsServices = {
  prometheus: httpUrl(chartEndpoints.prometheus),
  mimirPush: httpUrl(chartEndpoints.mimirDistributor, "/api/v1/push"),
  mimirQuery: httpUrl(chartEndpoints.mimirQueryFrontend, "/prometheus"),
  loki: httpUrl(chartEndpoints.loki),
  tempoOtlpGrpc: hostPort(chartEndpoints.tempoOtlpGrpc),
  tempoQuery: httpUrl(chartEndpoints.tempoQuery),
};

export const onCpuNodes = { nodeSelector: { workload: "cpu" } };
/** Node agents must run on every node, GPU nodes (tainted) included. */
export const everywhere = { tolerations: [{ operator: "Exists" }] };
export const irsa = (roleArn: string | undefined) =>
  roleArn ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {};

/**
 * Explicit requests and a memory limit for a chart container, so no chart workload runs on the
 * namespace's LimitRange defaults. CPU is left unlimited by the chart (the LimitRange default caps it);
 * memory is limited because an unbounded container takes the node down with it.
 */
export function sized(cpu: string, memory: string, memoryLimit: string) {
  return { requests: { cpu, memory }, limits: { memory: memoryLimit } };
}
