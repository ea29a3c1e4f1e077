/**
 * Pure decisions about node groups: AMI, capacity type, labels, taints, and the Auto Scaling group
 * tags the cluster autoscaler reads. Tested directly, without mocks.
 */
import type { CpuNodeGroupConfig, GpuNodeGroupConfig } from "../config/platformConfig";
import { gpuInstanceShapes } from "../platform/instanceTypes";
import { gpuTaint, nodeGroupLabel, type NodeTaint, workloadLabels } from "../platform/scheduling";

/** Everything needed to create one managed node group, derived from its config. */
export interface NodeGroupSpec {
  /** Config key: `cpu`, or the GPU group's name. */
  readonly key: string;
  readonly amiType: "AL2023_x86_64_STANDARD" | "AL2023_x86_64_NVIDIA";
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly instanceTypes: readonly string[];
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  readonly diskSizeGiB: number;
  /** gp3 throughput of the root volume, MiB/s. */
  readonly rootVolumeThroughputMiBs: number;
  /** SOCI parallel image pull (nodeadm `FastImagePull`). */
  readonly fastImagePull: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];
  /** GPUs per node (0 for CPU groups). */
  readonly gpusPerNode: number;
}

/** `nvidia-a10g` for a one-model group; `nvidia-a10g-l4` when interchangeable types carry different models. */
export function acceleratorLabel(instanceTypes: readonly string[]): string {
  const models = [...new Set(instanceTypes.map((t) => shapeOf(t).gpuModel))].sort();
  return `nvidia-${models.join("-")}`;
}

function shapeOf(instanceType: string) {
  const shape = gpuInstanceShapes[instanceType];
  // Config validation rejects unknown types; reaching this is a programming error.
  if (!shape) throw new Error(`no GPU shape for ${instanceType}`);
  return shape;
}

/** The on-demand CPU group: platform services, observability and cluster add-ons run here. */
export function cpuNodeGroupSpec(g: CpuNodeGroupConfig): NodeGroupSpec {
  return {
    key: "cpu",
    amiType: "AL2023_x86_64_STANDARD",
    capacityType: "ON_DEMAND",
    instanceTypes: g.instanceTypes,
    minSize: g.minSize,
    desiredSize: g.desiredSize,
    maxSize: g.maxSize,
    diskSizeGiB: g.diskSizeGiB,
    // Small images only: the gp3 baseline suffices beyond what image pulls of services need.
    rootVolumeThroughputMiBs: 250,
    fastImagePull: false,
    labels: { ...workloadLabels.cpu, [nodeGroupLabel]: "cpu" },
    taints: [],
    gpusPerNode: 0,
  };
}

/**
 * A SPOT GPU group on the EKS AL2023 NVIDIA AMI (driver and container toolkit preinstalled). It is
 * tainted so only pods that tolerate `nvidia.com/gpu` land on it; `nvidia.com/gpu.present=true` is the
 * label the NVIDIA device plugin's default affinity looks for.
 */
export function gpuNodeGroupSpec(g: GpuNodeGroupConfig): NodeGroupSpec {
  const first = g.instanceTypes[0];
  if (first === undefined) throw new Error(`GPU group ${g.name} has no instance types`);
  return {
    key: g.name,
    amiType: "AL2023_x86_64_NVIDIA",
    capacityType: "SPOT",
    instanceTypes: g.instanceTypes,
    minSize: g.minSize,
    desiredSize: g.desiredSize,
    maxSize: g.maxSize,
    diskSizeGiB: g.diskSizeGiB,
    rootVolumeThroughputMiBs: g.rootVolumeThroughputMiBs,
    fastImagePull: g.fastImagePull,
    labels: {
      ...workloadLabels.gpu,
      "k8s.amazonaws.com/accelerator": acceleratorLabel(g.instanceTypes),
      "nvidia.com/gpu.present": "true",
      [nodeGroupLabel]: g.name,
    },
    taints: [gpuTaint],
    gpusPerNode: shapeOf(first).gpus,
  };
}

const kubernetesEffect: Record<NodeTaint["effect"], string> = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
};

/**
 * Auto Scaling group tags for the cluster autoscaler: the auto-discovery pair, and the `node-template`
 * tags that describe a node before one exists, so a pending pod can scale a group up from zero.
 * The template carries the group's labels (plus the capacity-type label EKS adds), its taints, its GPU
 * count and its ephemeral storage.
 */
export function autoscalerAsgTags(
  clusterName: string,
  spec: NodeGroupSpec,
): Record<string, string> {
  const prefix = "k8s.io/cluster-autoscaler";
  const tags: Record<string, string> = {
    [`${prefix}/enabled`]: "true",
    [`${prefix}/${clusterName}`]: "owned",
  };
  const labels = { ...spec.labels, "eks.amazonaws.com/capacityType": spec.capacityType };
  for (const [k, v] of Object.entries(labels)) tags[`${prefix}/node-template/label/${k}`] = v;
  for (const t of spec.taints)
    tags[`${prefix}/node-template/taint/${t.key}`] = `${t.value}:${kubernetesEffect[t.effect]}`;
  if (spec.gpusPerNode > 0)
    tags[`${prefix}/node-template/resources/nvidia.com/gpu`] = String(spec.gpusPerNode);
  tags[`${prefix}/node-template/resources/ephemeral-storage`] = `${spec.diskSizeGiB}Gi`;
  return tags;
}

/**
 * User data of a group's nodes, or undefined when the AMI's defaults suffice. EKS merges it with its
 * own bootstrap (no AMI id in the launch template), and nodeadm on AL2023 reads `NodeConfig` objects
 * from MIME parts of type `application/node.eks.aws`. `FastImagePull` (experimental, off by default)
 * switches containerd to the SOCI snapshotter in parallel pull-and-unpack mode, which the AL2023 AMIs
 * ship since release v20250813; nodeadm ignores it on nodes with less than 7 GiB of memory or 4 vCPUs.
 * Source: awslabs/amazon-eks-ami nodeadm `internal/api/featuregates.go`, `doc/examples.md` (2026-07).
 */
export function nodeUserData(spec: Pick<NodeGroupSpec, "fastImagePull">): string | undefined {
  if (!spec.fastImagePull) return undefined;
  const boundary = "==LLMPLATFORM==";
  return [
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: application/node.eks.aws",
    "",
    "---",
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    "  featureGates:",
    "    FastImagePull: true",
    "",
    `--${boundary}--`,
    "",
  ].join("\n");
}
