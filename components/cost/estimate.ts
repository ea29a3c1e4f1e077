/**
 * Prices an inventory (inventory.ts) with a price table (prices.ts) and usage assumptions
 * (assumptions.ts): one line per thing that costs money, at idle and at peak, in USD per month.
 * Pure. A price the table lacks (instance type, spot family, region) throws, naming it.
 */
import { defaultAssumptions, type UsageAssumptions } from "./assumptions";
import type { Inventory, NodeGroupUse } from "./inventory";
import {
  borrowedPriceTable,
  priceTables,
  unverifiedPrices,
  type BorrowedPrices,
  type PriceTable,
} from "./prices";

/** USD per month at idle and at peak. */
export interface Amount {
  readonly idle: number;
  readonly peak: number;
}

export interface LineItem {
  readonly id: string;
  readonly label: string;
  /** USD per month. */
  readonly monthly: Amount;
  /** What the line is made of, at idle and at peak (quantities, unit prices, assumptions). */
  readonly basis: { readonly idle: string; readonly peak: string };
  /** For SPOT capacity: the same nodes On-Demand, USD per month. */
  readonly onDemandEquivalent?: Amount;
}

export interface Estimate {
  readonly region: string;
  readonly pricesAsOf: string;
  readonly priceSource: string;
  readonly hoursPerMonth: number;
  readonly items: readonly LineItem[];
  /** Sum of the items, USD per month and per hour. */
  readonly total: { readonly monthly: Amount; readonly hourly: Amount };
  /** What SPOT saves against the same nodes On-Demand, USD per month. */
  readonly spotSaving: Amount;
  /** The total if every SPOT node were On-Demand, USD per month. */
  readonly allOnDemandMonthly: Amount;
  readonly assumptions: UsageAssumptions;
  readonly unverifiedPrices: readonly string[];
  /** Prices taken from another region's table (a region without prices of its own borrows all). */
  readonly borrowed?: BorrowedPrices;
}

/** The price table of a region; a region without one borrows us-west-2's, marked as borrowed. */
export function priceTableFor(region: string): PriceTable {
  return priceTables[region] ?? borrowedPriceTable(region);
}

/** On-Demand USD per hour of an instance type; a type the table lacks is an error naming it. */
export function onDemandHourly(t: PriceTable, instanceType: string): number {
  const p = t.ec2OnDemandHourly[instanceType];
  if (p === undefined) {
    throw new Error(
      `no ${t.region} On-Demand price for instance type ${instanceType} in components/cost/prices.ts: add it from the AWS price list`,
    );
  }
  return p;
}

/** Spot USD per hour of an instance type: its family's stated fraction of On-Demand. */
export function spotHourly(t: PriceTable, instanceType: string): number {
  const family = instanceType.split(".")[0]!;
  const fraction = t.spotFractionOfOnDemand[family];
  if (fraction === undefined) {
    throw new Error(
      `no spot fraction for instance family ${family} (${instanceType}) in components/cost/prices.ts`,
    );
  }
  return onDemandHourly(t, instanceType) * fraction;
}

const usd = (n: number) => `$${Number(n.toFixed(4))}`;
type Phase = "idle" | "peak";
/** A value per phase. */
const both = <T>(f: (at: Phase) => T): { idle: T; peak: T } => ({
  idle: f("idle"),
  peak: f("peak"),
});
/** The same value at idle and at peak. */
const same = <T>(v: T): { idle: T; peak: T } => ({ idle: v, peak: v });

/**
 * A node group's line. A group of several types is priced at its most expensive type: SPOT picks by
 * price and capacity, and the estimate does not bet on the cheaper one.
 */
function nodeGroupItem(t: PriceTable, g: NodeGroupUse, hours: number): LineItem {
  const spot = g.capacityType === "SPOT";
  const priced = g.instanceTypes
    .map((type) => {
      const od = onDemandHourly(t, type);
      return { type, od, paid: spot ? spotHourly(t, type) : od };
    })
    .reduce((a, b) => (b.paid > a.paid ? b : a));
  const basis = (at: Phase) =>
    `${g.nodes[at]} × ${priced.type} ${spot ? `SPOT ${usd(priced.paid)}/h (On-Demand ${usd(priced.od)}/h)` : `${usd(priced.od)}/h`}` +
    (at === "idle" ? ` (${g.idleReason})` : " (maxSize)") +
    (at === "idle" && g.scheduled
      ? ` + ${Number(g.scheduled.nodeHoursPerMonth.toFixed(1))} node-hours/month in scheduled windows (${g.scheduled.variants.join(", ")})`
      : "");
  const nodeHours = (at: Phase) => nodeHoursPerMonth(g, at, hours);
  return {
    id: `nodes-${g.key}`,
    label: `${g.key === "cpu" ? "CPU" : "GPU"} nodes ${g.key} (${spot ? "SPOT" : "On-Demand"})`,
    monthly: both((at) => nodeHours(at) * priced.paid),
    basis: both(basis),
    ...(spot ? { onDemandEquivalent: both((at) => nodeHours(at) * priced.od) } : {}),
  };
}

/** Node-hours a month of a group: its nodes all month, plus at idle its scheduled windows' nodes. */
function nodeHoursPerMonth(g: NodeGroupUse, at: Phase, hours: number): number {
  return g.nodes[at] * hours + (at === "idle" ? (g.scheduled?.nodeHoursPerMonth ?? 0) : 0);
}

/** Prices every line of an inventory. */
export function estimate(
  inv: Inventory,
  t: PriceTable = priceTableFor(inv.region),
  a: UsageAssumptions = defaultAssumptions,
): Estimate {
  if (t.region !== inv.region) {
    throw new Error(`price table is for ${t.region}, the stack is in ${inv.region}`);
  }
  const h = a.hoursPerMonth;
  const items: LineItem[] = [];
  const add = (item: LineItem | false) => item && items.push(item);

  add(
    inv.clusters.length > 0 && {
      id: "eks-control-plane",
      label: "EKS control plane",
      monthly: same(
        inv.clusters.reduce((n, c) => n + t.eksClusterHourly[c.supportType].usd * h, 0),
      ),
      basis: same(
        inv.clusters
          .map(
            (c) =>
              `1 cluster × ${usd(t.eksClusterHourly[c.supportType].usd)}/h (${c.supportType} support)`,
          )
          .join(" + "),
      ),
    },
  );

  const ipv4 = t.publicIpv4Hourly.usd;
  add(
    inv.natGateways > 0 && {
      id: "nat-gateways",
      label: "NAT gateways",
      monthly: both(
        (at) =>
          inv.natGateways * (t.natGatewayHourly.usd + ipv4) * h +
          a.natGbPerMonth[at] * t.natGatewayPerGb.usd,
      ),
      basis: both(
        (at) =>
          `${inv.natGateways} × (${usd(t.natGatewayHourly.usd)}/h + public IPv4 ${usd(ipv4)}/h) + ` +
          `${a.natGbPerMonth[at]} GB processed (assumed) × ${usd(t.natGatewayPerGb.usd)}/GB`,
      ),
    },
  );

  const lb = inv.loadBalancers;
  add(
    lb.count > 0 && {
      id: "load-balancers",
      label: "Application Load Balancer",
      monthly: both(
        (at) =>
          lb.count *
          (t.albHourly.usd + a.albLcu[at] * t.albLcuHourly.usd + lb.publicAddressesEach * ipv4) *
          h,
      ),
      basis: both(
        (at) =>
          `${lb.count} × (${usd(t.albHourly.usd)}/h + ${a.albLcu[at]} LCU (assumed) × ${usd(t.albLcuHourly.usd)}/h + ` +
          `${lb.publicAddressesEach} public IPv4 × ${usd(ipv4)}/h)`,
      ),
    },
  );

  for (const g of inv.nodeGroups) add(nodeGroupItem(t, g, h));

  const gp3 = t.ebsGp3PerGbMonth.usd;
  const rootVolume = (g: NodeGroupUse) =>
    g.rootVolume.sizeGiB * gp3 +
    Math.max(0, g.rootVolume.throughputMiBs - 125) * t.ebsGp3ThroughputPerMibsMonth.usd +
    Math.max(0, g.rootVolume.iops - 3000) * t.ebsGp3IopsMonth.usd;
  add(
    inv.nodeGroups.length > 0 && {
      id: "ebs-root-volumes",
      label: "EBS node root volumes (gp3)",
      // A root volume lives as long as its node (deleteOnTermination): priced by node-hours.
      monthly: both((at) =>
        inv.nodeGroups.reduce((n, g) => n + (nodeHoursPerMonth(g, at, h) / h) * rootVolume(g), 0),
      ),
      basis: both(
        (at) =>
          inv.nodeGroups
            .map(
              (g) =>
                `${g.nodes[at]}${at === "idle" && g.scheduled ? " (+ scheduled windows)" : ""} × ` +
                `${g.rootVolume.sizeGiB} GiB at ${g.rootVolume.throughputMiBs} MiB/s`,
            )
            .join(" + ") +
          ` (${usd(gp3)}/GB-month, ${usd(t.ebsGp3ThroughputPerMibsMonth.usd)} per MiB/s above 125)`,
      ),
    },
  );

  const pvGiB = inv.persistentVolumes.reduce((n, v) => n + v.sizeGiB, 0);
  add(
    pvGiB > 0 && {
      id: "ebs-persistent-volumes",
      label: "EBS persistent volumes (gp3)",
      monthly: same(pvGiB * gp3),
      basis: same(
        `${inv.persistentVolumes.length} claims, ${pvGiB} GiB (${summarizeVolumes(inv.persistentVolumes)}) × ${usd(gp3)}/GB-month`,
      ),
    },
  );

  const cachedGb = inv.cachedModels * a.efsGbPerModel;
  add(
    inv.fileSystems > 0 && {
      id: "efs-model-cache",
      label: "EFS model cache",
      monthly: both(
        (at) =>
          cachedGb * t.efsStandardPerGbMonth.usd +
          cachedGb * a.efsReadsPerModelPerMonth[at] * t.efsElasticReadPerGb.usd,
      ),
      basis: both(
        (at) =>
          `${inv.cachedModels} models × ${a.efsGbPerModel} GB stored (assumed) × ${usd(t.efsStandardPerGbMonth.usd)}/GB-month + ` +
          `${a.efsReadsPerModelPerMonth[at]} full reads each (assumed) × ${usd(t.efsElasticReadPerGb.usd)}/GB`,
      ),
    },
  );

  add(
    inv.buckets > 0 && {
      id: "s3",
      label: "S3 buckets",
      monthly: same(inv.buckets * a.s3GbPerBucket * t.s3StandardPerGbMonth.usd),
      basis: same(
        `${inv.buckets} buckets × ${a.s3GbPerBucket} GB (assumed) × ${usd(t.s3StandardPerGbMonth.usd)}/GB-month`,
      ),
    },
  );

  const logTypes = inv.clusters.reduce((n, c) => n + c.logTypes, 0);
  const logGb = logTypes * a.controlPlaneLogGbPerTypePerMonth;
  const storedMonths = (days: number) => days / 30;
  add(
    logGb > 0 && {
      id: "control-plane-logs",
      label: "CloudWatch Logs: EKS control plane",
      monthly: same(
        logGb * t.cloudwatchLogsIngestPerGb.usd +
          logGb *
            storedMonths(inv.controlPlaneLogRetentionDays) *
            t.cloudwatchLogsStoragePerGbMonth.usd,
      ),
      basis: same(
        `${logTypes} log types × ${a.controlPlaneLogGbPerTypePerMonth} GB/month (assumed) × ${usd(t.cloudwatchLogsIngestPerGb.usd)}/GB ingested, ` +
          `kept ${inv.controlPlaneLogRetentionDays} days × ${usd(t.cloudwatchLogsStoragePerGbMonth.usd)}/GB-month`,
      ),
    },
  );

  add(
    inv.flowLogs > 0 && {
      id: "flow-logs",
      label: "CloudWatch Logs: VPC flow logs",
      monthly: both(
        (at) =>
          inv.flowLogs *
          a.flowLogGbPerMonth[at] *
          (t.cloudwatchVendedLogsPerGb.usd +
            storedMonths(inv.flowLogRetentionDays) * t.cloudwatchLogsStoragePerGbMonth.usd),
      ),
      basis: both(
        (at) =>
          `${inv.flowLogs} × ${a.flowLogGbPerMonth[at]} GB/month (assumed) × ${usd(t.cloudwatchVendedLogsPerGb.usd)}/GB delivered, ` +
          `kept ${inv.flowLogRetentionDays} days × ${usd(t.cloudwatchLogsStoragePerGbMonth.usd)}/GB-month`,
      ),
    },
  );

  add(
    inv.kmsKeys > 0 && {
      id: "kms",
      label: "KMS keys",
      monthly: same(inv.kmsKeys * t.kmsKeyMonth.usd),
      basis: same(`${inv.kmsKeys} × ${usd(t.kmsKeyMonth.usd)}/month (requests not counted)`),
    },
  );

  add(
    inv.ecrRepositories > 0 && {
      id: "ecr",
      label: "ECR image storage",
      monthly: same(inv.ecrRepositories * a.ecrGbPerRepository * t.ecrStoragePerGbMonth.usd),
      basis: same(
        `${inv.ecrRepositories} repositories × ${a.ecrGbPerRepository} GB (assumed) × ${usd(t.ecrStoragePerGbMonth.usd)}/GB-month`,
      ),
    },
  );

  add(
    inv.interfaceEndpointAzs > 0 && {
      id: "vpc-interface-endpoints",
      label: "VPC interface endpoints",
      monthly: same(inv.interfaceEndpointAzs * t.vpcInterfaceEndpointHourly.usd * h),
      basis: same(
        `${inv.interfaceEndpointAzs} endpoint-AZs (STS) × ${usd(t.vpcInterfaceEndpointHourly.usd)}/h (data processed not counted)`,
      ),
    },
  );

  const waf = inv.webAcls;
  add(
    waf.count > 0 && {
      id: "waf",
      label: "AWS WAF web ACL",
      monthly: both(
        (at) =>
          waf.count * t.wafWebAclMonth.usd +
          waf.rules * t.wafRuleMonth.usd +
          a.wafMillionRequestsPerMonth[at] * t.wafMillionRequests.usd,
      ),
      basis: both(
        (at) =>
          `${waf.count} web ACL × ${usd(t.wafWebAclMonth.usd)} + ${waf.rules} rules × ${usd(t.wafRuleMonth.usd)} + ${a.wafMillionRequestsPerMonth[at]}M requests (assumed) × ${usd(t.wafMillionRequests.usd)}/M (its log not counted)`,
      ),
    },
  );

  add(
    inv.secrets > 0 && {
      id: "secrets-manager",
      label: "Secrets Manager",
      monthly: same(inv.secrets * t.secretsManagerSecretMonth.usd),
      basis: same(
        `${inv.secrets} secrets × ${usd(t.secretsManagerSecretMonth.usd)}/month (API calls not counted)`,
      ),
    },
  );

  const sum = (f: (i: LineItem) => number) => items.reduce((n, i) => n + f(i), 0);
  const monthly = both((at) => sum((i) => i.monthly[at]));
  const spotSaving = both((at) =>
    sum((i) => (i.onDemandEquivalent ? i.onDemandEquivalent[at] - i.monthly[at] : 0)),
  );
  return {
    region: inv.region,
    pricesAsOf: t.asOf,
    priceSource: t.source,
    hoursPerMonth: h,
    items,
    total: { monthly, hourly: both((at) => monthly[at] / h) },
    spotSaving,
    allOnDemandMonthly: both((at) => monthly[at] + spotSaving[at]),
    assumptions: a,
    unverifiedPrices: unverifiedPrices(t),
    ...(t.borrowed ? { borrowed: t.borrowed } : {}),
  };
}

/** "prometheus-0 50, loki-0 50" grouped: "prometheus 1×50, loki 1×50". */
function summarizeVolumes(vs: readonly { name: string; sizeGiB: number }[]): string {
  const groups = new Map<string, { count: number; sizeGiB: number }>();
  for (const v of vs) {
    const key = `${v.name.replace(/-\d+$/, "")}:${v.sizeGiB}`;
    const g = groups.get(key) ?? { count: 0, sizeGiB: v.sizeGiB };
    groups.set(key, { ...g, count: g.count + 1 });
  }
  return [...groups].map(([key, g]) => `${key.split(":")[0]} ${g.count}×${g.sizeGiB}`).join(", ");
}
