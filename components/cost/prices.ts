/**
 * The price tables of `npm run cost`: AWS list prices (USD) per region, dated, with sources. us-west-2
 * (the committed stacks' region) is complete; another region's table holds the prices read for that
 * region and borrows the rest from us-west-2, saying which; a region without a table borrows every
 * price (components/cost/estimate.ts `priceTableFor`). The report names what was borrowed.
 *
 * Sources of the us-west-2 table, read 2026-11-23:
 * - EC2 Linux On-Demand per hour: the AWS Price List API as published in aws/karpenter-provider-aws
 *   `pkg/providers/pricing/zz_generated.pricing_aws.go` (generated 2026-01-19 for us-east-1).
 *   us-west-2 lists the same On-Demand price as us-east-1 for these families; that equality is
 *   verified for g5 (instances.vantage.sh data of 2026-08-26 as published in tsaol/aws-gpu@18aebd1
 *   `data/g5_instances.js`, a third party, read 2026-12-06) and NOT for the other families (no offline
 *   source for us-west-2): `ec2Unverified` names them.
 * - EKS (aws.amazon.com/eks/pricing): $0.10 per cluster-hour in standard support, $0.60 in extended.
 * - VPC (aws.amazon.com/vpc/pricing): NAT gateway $0.045/h and $0.045/GB processed in US West (Oregon);
 *   public IPv4 $0.005/h per address (NAT EIPs, ALB nodes).
 * - EFS (aws.amazon.com/efs/pricing): Standard $0.30/GB-month; Elastic Throughput reads $0.03/GB.
 * - The other unit prices below are the AWS pricing pages' us-west-2 figures as known to the author;
 *   each carries `verified: false` where no source could be read offline to confirm it.
 * Spot prices move every few minutes: spot is priced as a stated fraction of On-Demand per family, an
 * assumption (issue 14: "spot at ~40 % of on-demand"), not a measured price.
 *
 * An instance type or spot family missing here is an error naming it (components/cost/estimate.ts),
 * never 0; tests/cost/cost.test.ts keeps every type of components/platform/instanceTypes.ts priced.
 */

/** A unit price and whether its figure was checked against a source for this region. */
export interface UnitPrice {
  readonly usd: number;
  readonly unit: string;
  readonly verified: boolean;
}

export interface PriceTable {
  readonly region: string;
  /** When these prices were read. */
  readonly asOf: string;
  readonly source: string;
  /** EC2 Linux On-Demand USD per instance-hour. */
  readonly ec2OnDemandHourly: Readonly<Record<string, number>>;
  /** EC2 families whose price for this region is not confirmed by a source for it (`*`: all). */
  readonly ec2Unverified: readonly string[];
  /** Spot price as a fraction of On-Demand, per instance family (an assumption, see above). */
  readonly spotFractionOfOnDemand: Readonly<Record<string, number>>;
  readonly eksClusterHourly: { readonly STANDARD: UnitPrice; readonly EXTENDED: UnitPrice };
  readonly natGatewayHourly: UnitPrice;
  readonly natGatewayPerGb: UnitPrice;
  readonly publicIpv4Hourly: UnitPrice;
  readonly albHourly: UnitPrice;
  readonly albLcuHourly: UnitPrice;
  readonly ebsGp3PerGbMonth: UnitPrice;
  /** gp3 throughput above the included 125 MiB/s. */
  readonly ebsGp3ThroughputPerMibsMonth: UnitPrice;
  /** gp3 IOPS above the included 3000. */
  readonly ebsGp3IopsMonth: UnitPrice;
  readonly efsStandardPerGbMonth: UnitPrice;
  readonly efsElasticReadPerGb: UnitPrice;
  readonly s3StandardPerGbMonth: UnitPrice;
  readonly cloudwatchLogsIngestPerGb: UnitPrice;
  /** Vended logs (VPC flow logs to CloudWatch Logs), first 10 TB tier. */
  readonly cloudwatchVendedLogsPerGb: UnitPrice;
  readonly cloudwatchLogsStoragePerGbMonth: UnitPrice;
  readonly kmsKeyMonth: UnitPrice;
  readonly ecrStoragePerGbMonth: UnitPrice;
  /** A VPC interface endpoint in one AZ (PrivateLink); data processed is not counted. */
  readonly vpcInterfaceEndpointHourly: UnitPrice;
  /** AWS WAF: a web ACL, each rule in it (a managed rule group counts as one), requests inspected. */
  readonly wafWebAclMonth: UnitPrice;
  readonly wafRuleMonth: UnitPrice;
  readonly wafMillionRequests: UnitPrice;
  /** AWS Secrets Manager: one secret (API calls not counted). */
  readonly secretsManagerSecretMonth: UnitPrice;
  /** Prices taken from another region's table because none was read for this one. */
  readonly borrowed?: BorrowedPrices;
}

/** What a region's table took from another region: `*` for every price, else the price names. */
export interface BorrowedPrices {
  readonly from: string;
  readonly prices: readonly string[];
}

/** Sizes in ladder order, to write a family's prices on one line. */
const ladder = [
  "large",
  "xlarge",
  "2xlarge",
  "4xlarge",
  "8xlarge",
  "12xlarge",
  "16xlarge",
  "24xlarge",
];
const family = (name: string, prices: number[], sizes = ladder) =>
  Object.fromEntries(prices.map((p, i) => [`${name}.${sizes[i]}`, p]));
const gpuLadder = ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"];
const gpuLadder48 = [...gpuLadder, "24xlarge", "48xlarge"];

const price = (usd: number, unit: string, verified: boolean): UnitPrice => ({
  usd,
  unit,
  verified,
});

export const usWest2: PriceTable = {
  region: "us-west-2",
  asOf: "2026-11-23",
  source:
    "AWS public pricing pages and the AWS Price List API (EC2 via karpenter-provider-aws's generated table, 2026-01-19; g5 confirmed by instances.vantage.sh data of 2026-08-26)",
  ec2OnDemandHourly: {
    // Every GPU type components/platform/instanceTypes.ts allows.
    ...family("g4dn", [0.526, 0.752, 1.204, 2.176, 3.912, 4.352], gpuLadder),
    ...family("g5", [1.006, 1.212, 1.624, 2.448, 5.672, 4.096, 8.144, 16.288], gpuLadder48),
    ...family("g6", [0.8048, 0.9776, 1.3232, 2.0144, 4.6016, 3.3968, 6.6752, 13.3504], gpuLadder48),
    ...family(
      "g6e",
      [1.861, 2.24208, 3.00424, 4.52856, 10.49264, 7.57719, 15.06559, 30.13118],
      gpuLadder48,
    ),
    "p4d.24xlarge": 21.957642,
    "p5.48xlarge": 55.04,
    // x86_64 CPU families for nodeGroups.cpu (any other type is an error naming it: add it here).
    ...family("m5", [0.096, 0.192, 0.384, 0.768, 1.536, 2.304, 3.072, 4.608]),
    ...family("m6i", [0.096, 0.192, 0.384, 0.768, 1.536, 2.304, 3.072, 4.608]),
    ...family("m6a", [0.0864, 0.1728, 0.3456, 0.6912, 1.3824, 2.0736, 2.7648, 4.1472]),
    ...family("m7i", [0.1008, 0.2016, 0.4032, 0.8064, 1.6128, 2.4192, 3.2256, 4.8384]),
    ...family("m7a", [0.11592, 0.23184, 0.46368, 0.92736, 1.85472, 2.78208, 3.70944, 5.56416]),
    ...family("c6i", [0.085, 0.17, 0.34, 0.68, 1.36, 2.04, 2.72, 4.08]),
    ...family("c6a", [0.0765, 0.153, 0.306, 0.612, 1.224, 1.836, 2.448, 3.672]),
    ...family("c7i", [0.08925, 0.1785, 0.357, 0.714, 1.428, 2.142, 2.856, 4.284]),
    ...family("r6i", [0.126, 0.252, 0.504, 1.008, 2.016, 3.024, 4.032, 6.048]),
    ...family("r7i", [0.1323, 0.2646, 0.5292, 1.0584, 2.1168, 3.1752, 4.2336, 6.3504]),
    ...family("t3", [0.0832, 0.1664, 0.3328], ["large", "xlarge", "2xlarge"]),
  },
  // us-east-1 list prices taken as us-west-2's, except g5 (confirmed); P4d and P5 were repriced in
  // 2025 and are the likeliest to differ.
  ec2Unverified: [
    "g4dn",
    "g6",
    "g6e",
    "p4d",
    "p5",
    "m5",
    "m6i",
    "m6a",
    "m7i",
    "m7a",
    "c6i",
    "c6a",
    "c7i",
    "r6i",
    "r7i",
    "t3",
  ],
  spotFractionOfOnDemand: { g4dn: 0.4, g5: 0.4, g6: 0.4, g6e: 0.4, p4d: 0.4, p5: 0.4 },
  eksClusterHourly: {
    STANDARD: price(0.1, "cluster-hour", true),
    EXTENDED: price(0.6, "cluster-hour", true),
  },
  natGatewayHourly: price(0.045, "gateway-hour", true),
  natGatewayPerGb: price(0.045, "GB processed", true),
  publicIpv4Hourly: price(0.005, "address-hour", true),
  albHourly: price(0.0225, "ALB-hour", false),
  albLcuHourly: price(0.008, "LCU-hour", false),
  ebsGp3PerGbMonth: price(0.08, "GB-month", false),
  ebsGp3ThroughputPerMibsMonth: price(0.04, "MiB/s-month above 125", false),
  ebsGp3IopsMonth: price(0.005, "IOPS-month above 3000", false),
  efsStandardPerGbMonth: price(0.3, "GB-month", true),
  efsElasticReadPerGb: price(0.03, "GB read", false),
  s3StandardPerGbMonth: price(0.023, "GB-month", false),
  cloudwatchLogsIngestPerGb: price(0.5, "GB ingested", false),
  cloudwatchVendedLogsPerGb: price(0.5, "GB delivered", false),
  cloudwatchLogsStoragePerGbMonth: price(0.03, "GB-month", false),
  kmsKeyMonth: price(1, "key-month", false),
  ecrStoragePerGbMonth: price(0.1, "GB-month", false),
  vpcInterfaceEndpointHourly: price(0.01, "endpoint-AZ-hour", false),
  // AWS WAF and Secrets Manager list prices (aws.amazon.com/waf/pricing, /secrets-manager/pricing, the
  // same in every commercial region; not re-read here): $5 a web ACL, $1 a rule, $0.60 per million
  // requests; $0.40 a secret.
  wafWebAclMonth: price(5, "web ACL-month", false),
  wafRuleMonth: price(1, "rule-month", false),
  wafMillionRequests: price(0.6, "million requests", false),
  secretsManagerSecretMonth: price(0.4, "secret-month", false),
};

/** The unit prices of a table (everything but EC2), by name. */
function unitPriceNames(t: PriceTable): string[] {
  return Object.entries(t).flatMap(([key, v]) =>
    key === "eksClusterHourly"
      ? Object.keys(v as object).map((k) => `${key}.${k}`)
      : typeof v === "object" && v !== null && "verified" in v
        ? [key]
        : [],
  );
}

/**
 * A region's table from the EC2 On-Demand prices read for it: every other price (units, other
 * instance types, spot fractions) is `base`'s, recorded in `borrowed`.
 */
function withRegionalEc2Prices(
  base: PriceTable,
  regional: {
    region: string;
    asOf: string;
    source: string;
    ec2OnDemandHourly: Record<string, number>;
  },
): PriceTable {
  const otherTypes = Object.keys(base.ec2OnDemandHourly).filter(
    (t) => !(t in regional.ec2OnDemandHourly),
  );
  const otherFamilies = [...new Set(otherTypes.map((t) => t.split(".")[0]!))];
  return {
    ...base,
    region: regional.region,
    asOf: regional.asOf,
    source: `${regional.source}; the rest ${base.region}'s (${base.source})`,
    ec2OnDemandHourly: { ...base.ec2OnDemandHourly, ...regional.ec2OnDemandHourly },
    ec2Unverified: otherFamilies,
    borrowed: {
      from: base.region,
      prices: [...unitPriceNames(base), `EC2 On-Demand of ${otherFamilies.join(", ")}`],
    },
  };
}

/** A region without a price table: every price is `base`'s, and the estimate says so. */
export function borrowedPriceTable(region: string, base: PriceTable = usWest2): PriceTable {
  return { ...base, region, ec2Unverified: ["*"], borrowed: { from: base.region, prices: ["*"] } };
}

/**
 * eu-west-1 (Ireland): g5 On-Demand from instances.vantage.sh data of 2026-08-26 as published in
 * tsaol/aws-gpu@18aebd1 `data/g5_instances.js` (a third party; its us-west-2 figures match this
 * file's). g6 is not offered in eu-west-1 (same source, 2026-01-21); the preflight rejects it there.
 */
export const euWest1: PriceTable = withRegionalEc2Prices(usWest2, {
  region: "eu-west-1",
  asOf: "2026-12-06",
  source: "g5 On-Demand: instances.vantage.sh data of 2026-08-26 (third party)",
  ec2OnDemandHourly: family(
    "g5",
    [1.123, 1.35296, 1.81287, 2.73271, 6.33167, 4.57237, 9.09117, 18.18233],
    gpuLadder48,
  ),
});

/** Price tables by region; another region borrows us-west-2's (`borrowedPriceTable`), marked. */
export const priceTables: Readonly<Record<string, PriceTable>> = {
  "us-west-2": usWest2,
  "eu-west-1": euWest1,
};

/** Unit prices that could not be checked against a source (for the report's footnote). */
export function unverifiedPrices(t: PriceTable): string[] {
  const units = Object.entries(t).flatMap(([key, v]) => {
    if (key === "eksClusterHourly") {
      return Object.entries(v as PriceTable["eksClusterHourly"])
        .filter(([, p]) => !p.verified)
        .map(([k]) => `${key}.${k}`);
    }
    return typeof v === "object" && v !== null && "verified" in v && !(v as UnitPrice).verified
      ? [key]
      : [];
  });
  const ec2 = t.ec2Unverified.includes("*")
    ? ["every EC2 On-Demand price"]
    : t.ec2Unverified.length > 0
      ? [`EC2 On-Demand of ${t.ec2Unverified.join(", ")} (us-east-1 figures)`]
      : [];
  return [...units, ...ec2, "every spot fraction (assumption)"];
}
