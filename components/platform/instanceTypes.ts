/**
 * The EC2 instance types the platform's node groups may use, with what the scheduler, the cluster
 * autoscaler, the Service Quotas preflight and the cost estimate need to know of each: vCPUs, memory,
 * the vCPU quota group it counts against and, for GPU types, its GPUs. Stack config may name only
 * types listed here (components/config/foundation.ts), so a typo (`m6i.xlargee`) is an error at
 * validation, and every type here has a price (tests/cost/cost.test.ts keeps the two in step).
 *
 * Why GPU shapes matter: the cluster autoscaler builds a node template from one instance type of a
 * group and assumes every type in the group is identical (vCPU, memory, GPU count); a mixed group makes
 * it schedule pods onto nodes that cannot hold them. The scale-from-zero `nvidia.com/gpu` resource tag
 * also needs the GPU count before any node exists. GPU memory is compared too, because a model sized
 * for a 24 GiB GPU must fit on every node of its group.
 *
 * Sources (read 2026-11-23, families re-checked 2026-12-06): the AWS EC2 instance type specifications
 * (general purpose M5/M6i/M6a/M7i/M7a/T3, compute optimized C6i/C6a/C7i, memory optimized R6i/R7i,
 * accelerated computing G4dn/G5/G6/G6e/P4d/P5) and "Amazon EC2 instance type quotas" for the quota
 * groups (docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html).
 */

/**
 * The EC2 vCPU Service Quota an instance family counts against (components/platform/serviceQuotas.ts
 * has the quota codes): Standard (A, C, D, H, I, M, R, T, Z), G and VT, P (P2-P4), and P5, whose Spot
 * requests have a quota of their own.
 */
export type VcpuQuotaGroup = "standard" | "g-vt" | "p" | "p5";

/** What the scheduler, the autoscaler and the quota preflight see of one instance type. */
export interface InstanceShape {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly quotaGroup: VcpuQuotaGroup;
}

/** An NVIDIA GPU instance type. */
export interface GpuInstanceShape extends InstanceShape {
  readonly gpus: number;
  readonly gpuMemoryGiB: number;
  /** GPU model, used in the `k8s.amazonaws.com/accelerator` label. */
  readonly gpuModel: string;
}

/** [vCPU, memory GiB, GPUs] per size. */
type Sizes = Record<string, readonly [number, number, number]>;

/** The sizes every x86_64 CPU family listed here offers, with its vCPUs (memory = vCPU × GiB per vCPU). */
const cpuLadder: Record<string, number> = {
  large: 2,
  xlarge: 4,
  "2xlarge": 8,
  "4xlarge": 16,
  "8xlarge": 32,
  "12xlarge": 48,
  "16xlarge": 64,
  "24xlarge": 96,
};

/** x86_64 CPU families for `nodeGroups.cpu`, with memory per vCPU (M 4 GiB, C 2 GiB, R 8 GiB). */
const cpuFamilies: Record<string, { gibPerVcpu: number; sizes?: string[] }> = {
  m5: { gibPerVcpu: 4 },
  m6i: { gibPerVcpu: 4 },
  m6a: { gibPerVcpu: 4 },
  m7i: { gibPerVcpu: 4 },
  m7a: { gibPerVcpu: 4 },
  c6i: { gibPerVcpu: 2 },
  c6a: { gibPerVcpu: 2 },
  c7i: { gibPerVcpu: 2 },
  r6i: { gibPerVcpu: 8 },
  r7i: { gibPerVcpu: 8 },
  // Burstable: only the sizes big enough for the platform's add-ons.
  t3: { gibPerVcpu: 4, sizes: ["large", "xlarge", "2xlarge"] },
};

// G5 and G6 share one size ladder, which is what makes them interchangeable within a SPOT group.
const g5g6Sizes: Sizes = {
  xlarge: [4, 16, 1],
  "2xlarge": [8, 32, 1],
  "4xlarge": [16, 64, 1],
  "8xlarge": [32, 128, 1],
  "12xlarge": [48, 192, 4],
  "16xlarge": [64, 256, 1],
  "24xlarge": [96, 384, 4],
  "48xlarge": [192, 768, 8],
};

const gpuFamilies: Record<
  string,
  { gpuModel: string; gpuMemoryGiB: number; quotaGroup: VcpuQuotaGroup; sizes: Sizes }
> = {
  g4dn: {
    gpuModel: "t4",
    gpuMemoryGiB: 16,
    quotaGroup: "g-vt",
    sizes: Object.fromEntries(
      Object.entries(g5g6Sizes).filter(([size]) => !["24xlarge", "48xlarge"].includes(size)),
    ),
  },
  g5: { gpuModel: "a10g", gpuMemoryGiB: 24, quotaGroup: "g-vt", sizes: g5g6Sizes },
  g6: { gpuModel: "l4", gpuMemoryGiB: 24, quotaGroup: "g-vt", sizes: g5g6Sizes },
  // G6e doubles memory per vCPU.
  g6e: {
    gpuModel: "l40s",
    gpuMemoryGiB: 48,
    quotaGroup: "g-vt",
    sizes: Object.fromEntries(
      Object.entries(g5g6Sizes).map(([size, [cpu, mem, gpus]]) => [size, [cpu, mem * 2, gpus]]),
    ),
  },
  p4d: {
    gpuModel: "a100",
    gpuMemoryGiB: 40,
    quotaGroup: "p",
    sizes: { "24xlarge": [96, 1152, 8] },
  },
  p5: {
    gpuModel: "h100",
    gpuMemoryGiB: 80,
    quotaGroup: "p5",
    sizes: { "48xlarge": [192, 2048, 8] },
  },
};

/** Every x86_64 CPU instance type `nodeGroups.cpu` may use, e.g. `m6i.xlarge`, with its shape. */
export const cpuInstanceShapes: Readonly<Record<string, InstanceShape>> = Object.fromEntries(
  Object.entries(cpuFamilies).flatMap(([family, f]) =>
    (f.sizes ?? Object.keys(cpuLadder)).map((size) => {
      const vcpu = cpuLadder[size]!;
      return [
        `${family}.${size}`,
        { vcpu, memoryGiB: vcpu * f.gibPerVcpu, quotaGroup: "standard" } satisfies InstanceShape,
      ];
    }),
  ),
);

/** Every supported GPU instance type, e.g. `g5.xlarge`, with its shape. */
export const gpuInstanceShapes: Readonly<Record<string, GpuInstanceShape>> = Object.fromEntries(
  Object.entries(gpuFamilies).flatMap(([family, f]) =>
    Object.entries(f.sizes).map(([size, [vcpu, memoryGiB, gpus]]) => [
      `${family}.${size}`,
      {
        vcpu,
        memoryGiB,
        gpus,
        gpuMemoryGiB: f.gpuMemoryGiB,
        gpuModel: f.gpuModel,
        quotaGroup: f.quotaGroup,
      },
    ]),
  ),
);

/** Every instance type a node group may use, CPU and GPU, with its shape. */
export const instanceShapes: Readonly<Record<string, InstanceShape>> = {
  ...cpuInstanceShapes,
  ...gpuInstanceShapes,
};

/** The families of a table, for messages: `m5, m6i, ...`. */
export function familiesOf(table: Readonly<Record<string, InstanceShape>>): string[] {
  return [...new Set(Object.keys(table).map((t) => t.split(".")[0]!))];
}

/** The part of a shape that must be identical across one node group. */
export function shapeKey(s: GpuInstanceShape): string {
  return `${s.vcpu} vCPU / ${s.memoryGiB} GiB / ${s.gpus} GPU x ${s.gpuMemoryGiB} GiB`;
}
