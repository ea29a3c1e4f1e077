/**
 * Where pods run: the labels and taint the node groups carry (foundation/nodeGroupSpecs.ts sets them)
 * and the selectors workloads use to land on CPU or GPU nodes.
 */

/** A Kubernetes node taint as EKS managed node groups express it. */
export interface NodeTaint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NO_SCHEDULE" | "NO_EXECUTE" | "PREFER_NO_SCHEDULE";
}

/** Label every node carries with its group key; workloads select groups by it. */
export const nodeGroupLabel = "llmplatform.io/node-group";

/** The taint that keeps everything but GPU workloads off GPU nodes. */
export const gpuTaint: NodeTaint = { key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" };

/** The `workload` label of each kind of node group. */
export const workloadLabels = { cpu: { workload: "cpu" }, gpu: { workload: "gpu" } } as const;

/**
 * Name of the IAM role every node instance runs as (foundation/nodeGroups.ts creates it): what image
 * pulls are granted to, e.g. by the vLLM image cache's repository policy.
 */
export function nodeRoleName(clusterName: string): string {
  return `${clusterName}-node`;
}
