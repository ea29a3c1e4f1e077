/**
 * Shared pieces of the observability stack's Helm values: placement and IRSA annotations. The
 * in-cluster endpoints each chart is wired with arrive as arguments, from the unit that runs the
 * endpoint (components/observability/<unit>.ts). Each chart's values live in a file of their own beside this one;
 * all are pure functions asserted by tests/observability/observability.test.ts. Chart keys follow
 * shared/reference/chart-facts.md (snapshots of 2026-08-22).
 */
import { workloadLabels } from "../platform/scheduling";
export const onCpuNodes = { nodeSelector: workloadLabels.cpu };
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

/**
 * StatefulSet `persistentVolumeClaimRetentionPolicy` (GA in Kubernetes 1.32): the claims, and so the
 * gp3 volumes behind them (the StorageClass reclaims with Delete), go with the StatefulSet when its
 * release is uninstalled (`pulumi destroy`), instead of staying behind, billed. Scaling in keeps them:
 * a replica that comes back finds its WAL. Every store chart gets this through its own values key.
 */
export const claimsDeletedWithRelease = { whenDeleted: "Delete", whenScaled: "Retain" } as const;
