/**
 * What a stack pays for, read from its validated config and the resources the program registers (run
 * under the test mocks, as `npm run render` does): counts and sizes at idle and at peak, no prices.
 * Pure: the estimate (estimate.ts) prices it.
 */
import { nodeGroupLabel } from "../platform/scheduling";
import type { PlatformConfig } from "../config/platformConfig";
import { replicaRange } from "../config/models";
import { scheduledNodeHoursPerMonth } from "./schedule";
import type { ObservabilityConfig } from "../config/observability";

/** The inputs the inventory reads, across the resource types it prices (all optional: by type). */
export interface PricedInputs {
  readonly metadata?: { readonly name?: string; readonly annotations?: Record<string, string> };
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly storageClassName?: string;
    readonly resources?: { readonly requests?: { readonly storage?: string } };
  };
  readonly labels?: Record<string, string>;
  readonly scalingConfig?: { readonly minSize: number; readonly maxSize: number };
  readonly blockDeviceMappings?: readonly {
    readonly ebs?: {
      readonly volumeType?: string;
      readonly volumeSize?: number;
      readonly throughput?: number;
      readonly iops?: number;
    };
  }[];
  readonly capacityType?: "ON_DEMAND" | "SPOT";
  readonly instanceTypes?: readonly string[];
  readonly natGateways?: { readonly strategy?: string };
  readonly numberOfAvailabilityZones?: number;
  readonly upgradePolicy?: { readonly supportType?: string };
  readonly enabledClusterLogTypes?: readonly string[];
  readonly provisioner?: string;
  readonly vpcEndpointType?: string;
  readonly subnetIds?: readonly string[];
  /** A web ACL's rules (each billed by the month). */
  readonly rules?: readonly unknown[];
}

/** The part of a registered resource the inventory reads (verify/program.ts RecordedResource fits). */
export interface ResourceRecord {
  readonly type: string;
  readonly name: string;
  readonly inputs: PricedInputs;
}

/** The config the inventory reads. */
export type CostConfig = Pick<
  PlatformConfig,
  "region" | "network" | "cluster" | "models" | "observability"
>;

export interface Range {
  readonly idle: number;
  readonly peak: number;
}

export interface NodeGroupUse {
  /** `cpu` or the GPU group's name (its `llmplatform.io/node-group` label). */
  readonly key: string;
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly instanceTypes: readonly string[];
  readonly nodes: Range;
  /** Why the idle count is what it is. */
  readonly idleReason: string;
  /**
   * Nodes that run only inside scheduled windows (variants' `autoscaling.workingHours`, one replica
   * each): node-hours a month above `nodes.idle`, part of the idle estimate. Absent without windows.
   */
  readonly scheduled?: { readonly nodeHoursPerMonth: number; readonly variants: readonly string[] };
  /** The root volume every node gets from the group's launch template. */
  readonly rootVolume: {
    readonly sizeGiB: number;
    readonly throughputMiBs: number;
    readonly iops: number;
  };
}

export interface Inventory {
  readonly region: string;
  readonly clusters: readonly {
    readonly supportType: "STANDARD" | "EXTENDED";
    readonly logTypes: number;
  }[];
  readonly controlPlaneLogRetentionDays: number;
  readonly natGateways: number;
  readonly loadBalancers: { readonly count: number; readonly publicAddressesEach: number };
  readonly nodeGroups: readonly NodeGroupUse[];
  /** EBS gp3 persistent volumes (GiB each), by the claim they back. */
  readonly persistentVolumes: readonly { readonly name: string; readonly sizeGiB: number }[];
  readonly fileSystems: number;
  /** Distinct model repositories the variants download into the model cache. */
  readonly cachedModels: number;
  readonly flowLogs: number;
  readonly flowLogRetentionDays: number;
  readonly buckets: number;
  readonly kmsKeys: number;
  readonly ecrRepositories: number;
  /** VPC interface endpoints, counted per AZ they sit in (each bills by the hour). */
  readonly interfaceEndpointAzs: number;
  /** The program's web ACLs and the rules they hold (a managed rule group is one rule). */
  readonly webAcls: { readonly count: number; readonly rules: number };
  readonly secrets: number;
}

const ofType = (rs: readonly ResourceRecord[], type: string) => rs.filter((r) => r.type === type);

/** NAT gateways awsx creates for a strategy over `azs` zones. */
function natGatewayCount(strategy: string, azs: number): number {
  switch (strategy) {
    case "None":
      return 0;
    case "Single":
      return 1;
    case "OnePerAz":
      return azs;
    default:
      throw new Error(`unknown awsx NAT gateway strategy "${strategy}"`);
  }
}

/**
 * ALBs the AWS Load Balancer Controller creates: one per IngressGroup (`group.name`), one per
 * ungrouped `alb` Ingress; internet-facing ones hold one public IPv4 address per AZ.
 */
export function loadBalancers(
  rs: readonly ResourceRecord[],
  azs: number,
): Inventory["loadBalancers"] {
  const prefix = "alb.ingress.kubernetes.io";
  const albs = ofType(rs, "kubernetes:networking.k8s.io/v1:Ingress").filter(
    (i) => i.inputs.spec?.ingressClassName === "alb",
  );
  const keys = new Set(
    albs.map(
      (i) => i.inputs.metadata?.annotations?.[`${prefix}/group.name`] ?? `ingress:${i.name}`,
    ),
  );
  const internetFacing = albs.some(
    (i) => i.inputs.metadata?.annotations?.[`${prefix}/scheme`] === "internet-facing",
  );
  return { count: keys.size, publicAddressesEach: internetFacing ? azs : 0 };
}

/** The EBS volumes the observability charts claim, from the config that sizes them. */
function observabilityVolumes(o: ObservabilityConfig): { name: string; sizeGiB: number }[] {
  const each = (name: string, count: number, sizeGiB: number) =>
    Array.from({ length: count }, (_, i) => ({ name: `${name}-${i}`, sizeGiB }));
  return [
    ...each("prometheus", o.prometheus.replicas, o.prometheus.storageGi),
    ...(o.loki.storage === "external" ? [] : each("loki", o.loki.replicas, o.loki.storageGi)),
    ...each("tempo", 1, o.tempo.storageGi),
    ...each("grafana", 1, o.grafana.persistenceGi),
  ];
}

/** Model replicas at rest and at most on the GPU group the variants run on. */
function modelReplicas(models: CostConfig["models"]): Range {
  const ranges = Object.values(models.variants).map(replicaRange);
  return {
    idle: ranges.reduce((n, r) => n + r.min, 0),
    peak: ranges.reduce((n, r) => n + r.max, 0),
  };
}

/**
 * Every node group with its node count at idle and at peak. Idle: the group's minSize, or, for the
 * models' GPU group, one node per model replica at rest (one model per node) when that is more.
 * Peak: maxSize (the cluster autoscaler's ceiling; HPAs and model autoscalers stay inside it).
 */
function nodeGroupUse(rs: readonly ResourceRecord[], config: CostConfig): NodeGroupUse[] {
  const templates = new Map(
    ofType(rs, "aws:ec2/launchTemplate:LaunchTemplate").map((t) => [t.name, t]),
  );
  const replicas = modelReplicas(config.models);
  return ofType(rs, "aws:eks/nodeGroup:NodeGroup").map((g) => {
    const key = String(g.inputs.labels?.[nodeGroupLabel] ?? g.name);
    const instanceTypes = g.inputs.instanceTypes ?? [];
    if (instanceTypes.length === 0) throw new Error(`node group ${g.name}: no instance types`);
    const { minSize, maxSize } = g.inputs.scalingConfig as { minSize: number; maxSize: number };
    // components/foundation/nodeGroups.ts names a group's launch template like the group.
    const ebs = templates.get(g.name)?.inputs.blockDeviceMappings?.[0]?.ebs;
    if (!ebs) throw new Error(`node group ${g.name}: no launch template root volume to price`);
    if (ebs.volumeType !== "gp3") {
      throw new Error(
        `node group ${g.name}: root volume type ${ebs.volumeType} has no price (gp3 only)`,
      );
    }
    const models = key === config.models.nodeGroup ? replicas.idle : 0;
    const idle = Math.min(maxSize, Math.max(minSize, models));
    const windows =
      key === config.models.nodeGroup
        ? Object.entries(config.models.variants).flatMap(([name, v]) =>
            v.autoscaling?.workingHours ? [{ name, ...v.autoscaling.workingHours }] : [],
          )
        : [];
    const scheduled = scheduledNodeHoursPerMonth({ idleNodes: idle, maxSize, windows });
    return {
      key,
      // EKS's default capacity type is ON_DEMAND.
      capacityType: g.inputs.capacityType ?? "ON_DEMAND",
      instanceTypes: [...instanceTypes],
      nodes: { idle, peak: maxSize },
      idleReason:
        models > minSize ? `${models} model replicas at rest, one per node` : `minSize ${minSize}`,
      ...(scheduled > 0
        ? { scheduled: { nodeHoursPerMonth: scheduled, variants: windows.map((w) => w.name) } }
        : {}),
      rootVolume: {
        sizeGiB: Number(ebs.volumeSize),
        throughputMiBs: Number(ebs.throughput ?? 125),
        iops: Number(ebs.iops ?? 3000),
      },
    };
  });
}

/** The billable inventory of one stack run. */
export function inventory(config: CostConfig, rs: readonly ResourceRecord[]): Inventory {
  const azs = config.network.availabilityZones;
  const vpcs = ofType(rs, "awsx:ec2:Vpc");
  const natGateways = vpcs.reduce(
    (n, v) =>
      n +
      natGatewayCount(
        String(v.inputs.natGateways?.strategy ?? "OnePerAz"),
        Number(v.inputs.numberOfAvailabilityZones ?? azs),
      ),
    0,
  );
  const clusters = ofType(rs, "eks:index:Cluster").map((c) => ({
    supportType: (c.inputs.upgradePolicy?.supportType ?? "EXTENDED") as "STANDARD" | "EXTENDED",
    logTypes: (c.inputs.enabledClusterLogTypes ?? []).length,
  }));
  // Claims the program registers itself are EBS unless their class is EFS (the model cache, priced as
  // EFS by what it stores, not by its nominal size).
  const efsClasses = new Set(
    ofType(rs, "kubernetes:storage.k8s.io/v1:StorageClass")
      .filter((c) => c.inputs.provisioner === "efs.csi.aws.com")
      .map((c) => c.inputs.metadata?.name),
  );
  const claims = ofType(rs, "kubernetes:core/v1:PersistentVolumeClaim")
    .filter((c) => !efsClasses.has(c.inputs.spec?.storageClassName))
    .map((c) => ({
      name: String(c.inputs.metadata?.name ?? c.name),
      sizeGiB: gib(String(c.inputs.spec?.resources?.requests?.storage ?? "0")),
    }));
  // Only Hub variants download into the EFS cache; streaming variants read the model store (S3).
  const models = new Set(
    Object.values(config.models.variants)
      .filter((v) => v.weightsFrom !== "store")
      .map((v) => v.model),
  );
  return {
    region: config.region,
    clusters,
    controlPlaneLogRetentionDays: config.cluster.logRetentionDays,
    natGateways,
    loadBalancers: loadBalancers(rs, azs),
    nodeGroups: nodeGroupUse(rs, config),
    persistentVolumes: [...observabilityVolumes(config.observability), ...claims],
    fileSystems: ofType(rs, "aws:efs/fileSystem:FileSystem").length,
    cachedModels: models.size,
    flowLogs: ofType(rs, "aws:ec2/flowLog:FlowLog").length,
    flowLogRetentionDays: config.network.flowLogRetentionDays,
    buckets: ofType(rs, "aws:s3/bucket:Bucket").length,
    kmsKeys: ofType(rs, "aws:kms/key:Key").length,
    ecrRepositories: ofType(rs, "aws:ecr/repository:Repository").length,
    interfaceEndpointAzs: ofType(rs, "aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.inputs.vpcEndpointType === "Interface")
      .reduce((n, e) => n + (e.inputs.subnetIds ?? []).length, 0),
    webAcls: {
      count: ofType(rs, "aws:wafv2/webAcl:WebAcl").length,
      rules: ofType(rs, "aws:wafv2/webAcl:WebAcl").reduce(
        (n, acl) => n + (acl.inputs.rules ?? []).length,
        0,
      ),
    },
    secrets: ofType(rs, "aws:secretsmanager/secret:Secret").length,
  };
}

/** "50Gi" -> 50; a storage request the estimate cannot read is an error, not 0. */
function gib(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Gi|Ti|Mi)$/.exec(q);
  if (!m) throw new Error(`cannot read storage request "${q}" (expected Mi, Gi or Ti)`);
  const factor = { Mi: 1 / 1024, Gi: 1, Ti: 1024 }[m[2] as "Mi" | "Gi" | "Ti"];
  return Number(m[1]) * factor;
}
