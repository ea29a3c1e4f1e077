/**
 * The EC2 vCPU Service Quotas (service code `ec2`, unit: vCPUs, per region) that limit how many vCPUs
 * of a family an account may run, by purchase option. Looked up by code: AWS renames quotas (the P Spot
 * quota became "All P4, P3 and P2 Spot Instance Requests" when P5 got its own).
 *
 * Source: "Amazon EC2 instance type quotas" (docs.aws.amazon.com/ec2/latest/instancetypes/
 * ec2-instance-quotas.html, the quota codes are in its console links) and the EC2 User Guide's "Spot
 * Instance quotas", read 2026-12-06. Defaults are AWS's for a new account (5 for Standard, 0 for G/VT
 * and P); AWS raises them with usage, so an account's value is read at preview, never assumed.
 */
import type { VcpuQuotaGroup } from "./instanceTypes";

/** One EC2 vCPU quota. */
export interface VcpuQuota {
  readonly code: string;
  readonly name: string;
  /** AWS's default for a new account. */
  readonly awsDefault: number;
}

/** How a node group buys its instances (EKS managed node group `capacityType`). */
export type CapacityType = "ON_DEMAND" | "SPOT";

const standardOnDemand: VcpuQuota = {
  code: "L-1216C47A",
  name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
  awsDefault: 5,
};
const pOnDemand: VcpuQuota = {
  code: "L-417A185B",
  name: "Running On-Demand P instances",
  awsDefault: 0,
};

/** The vCPU quota of each quota group, On-Demand and Spot. */
export const vcpuQuotas: Readonly<
  Record<VcpuQuotaGroup, Readonly<Record<CapacityType, VcpuQuota>>>
> = {
  standard: {
    ON_DEMAND: standardOnDemand,
    SPOT: {
      code: "L-34B43A08",
      name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
      awsDefault: 5,
    },
  },
  "g-vt": {
    ON_DEMAND: { code: "L-DB2E81BA", name: "Running On-Demand G and VT instances", awsDefault: 0 },
    SPOT: { code: "L-3819A6DF", name: "All G and VT Spot Instance Requests", awsDefault: 0 },
  },
  p: {
    ON_DEMAND: pOnDemand,
    SPOT: { code: "L-7212CCBC", name: "All P4, P3 and P2 Spot Instance Requests", awsDefault: 0 },
  },
  // On-Demand P5 counts against the one On-Demand P quota; P5 Spot has its own.
  p5: {
    ON_DEMAND: pOnDemand,
    SPOT: { code: "L-C4BD4855", name: "All P5 Spot Instance Requests", awsDefault: 0 },
  },
};
