/**
 * Shapes of the NVIDIA GPU instance types a SPOT GPU node group may use.
 *
 * Why a table: the cluster autoscaler builds a node template from one instance type of a group and
 * assumes every type in the group is identical (vCPU, memory, GPU count); a mixed group makes it
 * schedule pods onto nodes that cannot hold them. The scale-from-zero `nvidia.com/gpu` resource tag also
 * needs the GPU count before any node exists. GPU memory is compared too, because a model sized for a
 * 24 GiB GPU must fit on every node of its group. Source: the AWS EC2 accelerated-computing instance
 * specifications (G4dn, G5, G6, G6e, P4d, P5).
 */

/** What the scheduler and the autoscaler see of one instance type. */
export interface GpuInstanceShape {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  readonly gpuMemoryGiB: number;
  /** GPU model, used in the `k8s.amazonaws.com/accelerator` label. */
  readonly gpuModel: string;
}

type Family = {
  gpuModel: string;
  gpuMemoryGiB: number;
  sizes: Record<string, [number, number, number]>;
};

// [vCPU, memory GiB, GPUs] per size. G5 and G6 share one size ladder, which is what makes them
// interchangeable within a SPOT group.
const g5g6Sizes: Family["sizes"] = {
  xlarge: [4, 16, 1],
  "2xlarge": [8, 32, 1],
  "4xlarge": [16, 64, 1],
  "8xlarge": [32, 128, 1],
  "12xlarge": [48, 192, 4],
  "16xlarge": [64, 256, 1],
  "24xlarge": [96, 384, 4],
  "48xlarge": [192, 768, 8],
};

const families: Record<string, Family> = {
  g4dn: {
    gpuModel: "t4",
    gpuMemoryGiB: 16,
    sizes: Object.fromEntries(
      Object.entries(g5g6Sizes).filter(([size]) => !["24xlarge", "48xlarge"].includes(size)),
    ),
  },
  g5: { gpuModel: "a10g", gpuMemoryGiB: 24, sizes: g5g6Sizes },
  g6: { gpuModel: "l4", gpuMemoryGiB: 24, sizes: g5g6Sizes },
  // G6e doubles memory per vCPU.
  g6e: {
    gpuModel: "l40s",
    gpuMemoryGiB: 48,
    sizes: Object.fromEntries(
      Object.entries(g5g6Sizes).map(([size, [cpu, mem, gpus]]) => [size, [cpu, mem * 2, gpus]]),
    ),
  },
  p4d: { gpuModel: "a100", gpuMemoryGiB: 40, sizes: { "24xlarge": [96, 1152, 8] } },
  p5: { gpuModel: "h100", gpuMemoryGiB: 80, sizes: { "48xlarge": [192, 2048, 8] } },
};

/** Every supported GPU instance type, e.g. `g5.xlarge`, with its shape. */
export const gpuInstanceShapes: Readonly<Record<string, GpuInstanceShape>> = Object.fromEntries(
  Object.entries(families).flatMap(([family, f]) =>
    Object.entries(f.sizes).map(([size, [vcpu, memoryGiB, gpus]]) => [
      `${family}.${size}`,
      { vcpu, memoryGiB, gpus, gpuMemoryGiB: f.gpuMemoryGiB, gpuModel: f.gpuModel },
    ]),
  ),
);

/** The part of a shape that must be identical across one node group. */
export function shapeKey(s: GpuInstanceShape): string {
  return `${s.vcpu} vCPU / ${s.memoryGiB} GiB / ${s.gpus} GPU x ${s.gpuMemoryGiB} GiB`;
}
