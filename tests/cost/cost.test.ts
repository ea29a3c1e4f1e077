/**
 * `npm run cost`: the estimate of both stack files holds its invariants, a small hand-made stack prices
 * to the values worked out by hand below, and a price the table lacks is an error naming it.
 */
import * as assert from "node:assert/strict";
import { instanceShapes } from "../../components/platform/instanceTypes";
import { parseConfig } from "../../components/config/platformConfig";
import type { UsageAssumptions } from "../../components/cost/assumptions";
import {
  estimate,
  onDemandHourly,
  priceTableFor,
  spotHourly,
  type Estimate,
} from "../../components/cost/estimate";
import { inventory, type CostConfig, type ResourceRecord } from "../../components/cost/inventory";
import { priceTables, usWest2, type PriceTable } from "../../components/cost/prices";
import { formatComment, formatText } from "../../components/cost/report";
import { budgetWarning, compareWithBudget } from "../../components/cost/budget";
import { openMinutes, scheduledNodeHoursPerMonth } from "../../components/cost/schedule";
import { stackEstimate, type StackEstimate } from "../../components/cost/stackEstimate";
import { cloneStackConfig, runStack, stacks } from "../../verify/program";

const cents = (n: number) => Math.round(n * 100) / 100;

async function estimateOf(stack: (typeof stacks)[number]): Promise<StackEstimate> {
  const run = await runStack(stack);
  return stackEstimate(stack, parseConfig(cloneStackConfig(stack), stack), run.resources);
}

describe("cost: the estimate of both stack files", () => {
  for (const stack of stacks) {
    describe(stack, () => {
      let e: StackEstimate;
      before(async () => (e = await estimateOf(stack)));

      it("prices every line non-negative, idle <= peak, and the lines sum to the total", () => {
        assert.ok(e.items.length > 0);
        for (const i of e.items) {
          assert.ok(i.monthly.idle >= 0 && i.monthly.peak >= 0, i.id);
          assert.ok(i.monthly.idle <= i.monthly.peak + 1e-9, `${i.id}: idle > peak`);
        }
        for (const at of ["idle", "peak"] as const) {
          const sum = e.items.reduce((n, i) => n + i.monthly[at], 0);
          assert.ok(Math.abs(sum - e.total.monthly[at]) < 1e-6, at);
          assert.ok(Math.abs(e.total.hourly[at] * e.hoursPerMonth - e.total.monthly[at]) < 1e-6);
        }
        assert.ok(e.total.monthly.idle <= e.total.monthly.peak);
      });

      it("has a line for each billed part the design names", () => {
        const ids = e.items.map((i) => i.id);
        for (const id of [
          "eks-control-plane",
          "nat-gateways",
          "load-balancers",
          "nodes-cpu",
          "ebs-root-volumes",
          "ebs-persistent-volumes",
          "efs-model-cache",
          "s3",
          "control-plane-logs",
          "flow-logs",
          "kms",
        ])
          assert.ok(ids.includes(id), `${id} missing from ${ids.join(", ")}`);
      });

      it("saves on SPOT: every SPOT group costs less than the same nodes On-Demand", () => {
        const config = parseConfig(cloneStackConfig(stack), stack);
        const spotLines = e.items.filter((i) => i.onDemandEquivalent);
        assert.equal(spotLines.length, config.nodeGroups.gpu.length, "one SPOT line per GPU group");
        for (const i of spotLines) {
          assert.ok(i.onDemandEquivalent!.peak > i.monthly.peak, i.id);
          assert.ok(i.onDemandEquivalent!.idle >= i.monthly.idle, i.id);
        }
        assert.ok(e.spotSaving.peak > 0);
        assert.ok(e.allOnDemandMonthly.peak > e.total.monthly.peak);
      });

      it("follows the config: NAT per strategy, control plane per support policy, GPU idle per model minimum", () => {
        const config = parseConfig(cloneStackConfig(stack), stack);
        const nat = e.items.find((i) => i.id === "nat-gateways")!;
        const gateways =
          config.network.natGateways === "single" ? 1 : config.network.availabilityZones;
        assert.match(nat.basis.idle, new RegExp(`^${gateways} × `));
        const eks = e.items.find((i) => i.id === "eks-control-plane")!;
        const hourly = usWest2.eksClusterHourly[config.cluster.upgradeSupport].usd;
        assert.equal(cents(eks.monthly.idle), cents(hourly * e.hoursPerMonth));
        const gpu = config.nodeGroups.gpu.find((g) => g.name === config.models.nodeGroup)!;
        const atRest = Object.values(config.models.variants).reduce(
          (n, v) => n + (v.autoscaling ? v.autoscaling.minReplicas : (v.replicas ?? 0)),
          0,
        );
        const line = e.items.find((i) => i.id === `nodes-${gpu.name}`)!;
        assert.match(line.basis.idle, new RegExp(`^${Math.max(gpu.minSize, atRest)} × `));
        assert.match(line.basis.peak, new RegExp(`^${gpu.maxSize} × `));
        // Idle counts the nodes working-hours windows hold, exactly when variants have windows.
        const windowed = Object.entries(config.models.variants)
          .filter(([, v]) => v.autoscaling?.workingHours)
          .map(([name]) => name);
        if (windowed.length > 0) {
          assert.ok(line.basis.idle.includes(`scheduled windows (${windowed.join(", ")})`));
          assert.ok(line.monthly.idle > 0);
        } else {
          assert.ok(!line.basis.idle.includes("scheduled windows"));
        }
      });

      it("sets the stack's budget beside idle and peak, and warns exactly when peak exceeds it", () => {
        const config = parseConfig(cloneStackConfig(stack), stack);
        const limit = config.budget.monthlyLimitUsd;
        assert.equal(e.budget?.monthlyLimitUsd, limit);
        assert.equal(e.budget.share.peak, e.total.monthly.peak / limit);
        const text = formatText(e);
        assert.match(
          text,
          /^Budget per month .* llm-platform:budget \(idle \d+ %, peak \d+ % of the budget\)$/m,
        );
        const warns = /^WARNING: .*exceeds the budget/m.test(text);
        assert.equal(warns, e.total.monthly.peak > limit);
        assert.equal(/exceeds the budget/.test(formatComment(e, undefined)), warns);
      });

      it("prints a report with every line, and JSON that round-trips", () => {
        const text = formatText(e);
        for (const i of e.items) assert.ok(text.includes(i.label), i.label);
        assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
      });
    });
  }
});

describe("cost: the price table", () => {
  it("prices every instance type the config accepts, in every region's table, and SPOT below On-Demand for GPUs", () => {
    for (const t of Object.values(priceTables)) {
      for (const [type, shape] of Object.entries(instanceShapes)) {
        assert.ok(onDemandHourly(t, type) > 0, `${t.region} ${type}`);
        if (shape.quotaGroup !== "standard")
          assert.ok(spotHourly(t, type) < onDemandHourly(t, type), `${t.region} ${type}`);
      }
    }
  });

  it("prices a region without a table with us-west-2's prices, marked as borrowed, never an error", () => {
    const t = priceTableFor("eu-north-1");
    assert.equal(t.region, "eu-north-1");
    assert.deepEqual(t.borrowed, { from: "us-west-2", prices: ["*"] });
    assert.equal(onDemandHourly(t, "m6i.xlarge"), onDemandHourly(usWest2, "m6i.xlarge"));
    // A region with a partial table borrows the rest, naming it.
    const eu = priceTableFor("eu-west-1");
    assert.equal(eu.borrowed?.from, "us-west-2");
    assert.ok(eu.borrowed.prices.includes("natGatewayHourly"));
    assert.ok(!eu.borrowed.prices.some((p) => /\bg5\b/.test(p)), "g5 is priced for eu-west-1");
    assert.notEqual(onDemandHourly(eu, "g5.xlarge"), onDemandHourly(usWest2, "g5.xlarge"));
  });

  it("errors, naming it, on an instance type or spot family it lacks; never prices 0", () => {
    assert.throws(
      () => onDemandHourly(usWest2, "x9z.large"),
      /no us-west-2 On-Demand price for instance type x9z\.large/,
    );
    assert.throws(
      () => spotHourly(usWest2, "m6i.xlarge"),
      /no spot fraction for instance family m6i/,
    );
  });
});

describe("cost: scheduled windows and the budget", () => {
  const weekdays = { start: "0 8 * * 1-5", end: "0 18 * * 1-5" };
  const hoursPerMonth = (m: Uint8Array) => m.reduce((n, x) => n + x, 0) / 60 / 12;

  it("counts the hours a cron window is open: 10 h on each of 2027's 261 weekdays, or across midnight", () => {
    assert.equal(hoursPerMonth(openMinutes(weekdays.start, weekdays.end)), (261 * 10) / 12);
    assert.equal(hoursPerMonth(openMinutes("0 22 * * *", "0 6 * * *")), (365 * 8) / 12);
    assert.equal(hoursPerMonth(openMinutes("30 9 * * MON", "30 9 * * TUE")), (52 * 24) / 12);
    assert.throws(() => openMinutes("0 25 * * *", "0 6 * * *"), /outside 0-23/);
  });

  it("adds one node per open window above the nodes at rest, up to maxSize", () => {
    const w = hoursPerMonth(openMinutes(weekdays.start, weekdays.end));
    assert.equal(scheduledNodeHoursPerMonth({ idleNodes: 0, maxSize: 4, windows: [] }), 0);
    assert.equal(
      scheduledNodeHoursPerMonth({ idleNodes: 0, maxSize: 4, windows: [weekdays, weekdays] }),
      2 * w,
    );
    assert.equal(
      scheduledNodeHoursPerMonth({ idleNodes: 3, maxSize: 4, windows: [weekdays, weekdays] }),
      w,
    );
  });

  it("compares idle and peak with the budget, and warns when peak (or idle) exceeds it", () => {
    const money = (n: number) => `$${n}`;
    const fits = compareWithBudget({ idle: 100, peak: 400 }, 500);
    assert.deepEqual(fits, {
      monthlyLimitUsd: 500,
      share: { idle: 0.2, peak: 0.8 },
      over: { idle: 0, peak: 0 },
    });
    assert.equal(budgetWarning(fits, money), undefined);
    const peak = compareWithBudget({ idle: 100, peak: 750 }, 500);
    assert.deepEqual(peak.over, { idle: 0, peak: 250 });
    assert.match(
      budgetWarning(peak, money)!,
      /^WARNING: peak exceeds the budget by \$250 a month \(150 % of it\)/,
    );
    assert.match(
      budgetWarning(compareWithBudget({ idle: 600, peak: 750 }, 500), money)!,
      /even idle exceeds the budget by \$100/,
    );
  });
});

/**
 * A small hand-made stack, priced with round made-up prices and 100 hours a month so every number
 * below can be checked by hand.
 */
describe("cost: golden values of a hand-made stack", () => {
  const prices: PriceTable = {
    ...usWest2,
    region: "test-1",
    ec2OnDemandHourly: { "c.large": 0.1, "g.xlarge": 1.0, "g.2xlarge": 2.0 },
    ec2Unverified: [],
    spotFractionOfOnDemand: { g: 0.5 },
    eksClusterHourly: {
      STANDARD: { usd: 0.1, unit: "h", verified: true },
      EXTENDED: { usd: 0.6, unit: "h", verified: true },
    },
    natGatewayHourly: { usd: 0.05, unit: "h", verified: true },
    natGatewayPerGb: { usd: 0.01, unit: "GB", verified: true },
    publicIpv4Hourly: { usd: 0.01, unit: "h", verified: true },
    albHourly: { usd: 0.02, unit: "h", verified: true },
    albLcuHourly: { usd: 0.01, unit: "h", verified: true },
    ebsGp3PerGbMonth: { usd: 0.1, unit: "GB", verified: true },
    ebsGp3ThroughputPerMibsMonth: { usd: 0.05, unit: "MiB/s", verified: true },
    ebsGp3IopsMonth: { usd: 0.01, unit: "IOPS", verified: true },
    efsStandardPerGbMonth: { usd: 0.3, unit: "GB", verified: true },
    efsElasticReadPerGb: { usd: 0.02, unit: "GB", verified: true },
    s3StandardPerGbMonth: { usd: 0.02, unit: "GB", verified: true },
    cloudwatchLogsIngestPerGb: { usd: 0.5, unit: "GB", verified: true },
    cloudwatchVendedLogsPerGb: { usd: 0.25, unit: "GB", verified: true },
    cloudwatchLogsStoragePerGbMonth: { usd: 0.03, unit: "GB", verified: true },
    kmsKeyMonth: { usd: 1, unit: "key", verified: true },
    ecrStoragePerGbMonth: { usd: 0.1, unit: "GB", verified: true },
    vpcInterfaceEndpointHourly: { usd: 0.01, unit: "h", verified: true },
    wafWebAclMonth: { usd: 5, unit: "ACL", verified: true },
    wafRuleMonth: { usd: 1, unit: "rule", verified: true },
    wafMillionRequests: { usd: 0.5, unit: "M", verified: true },
    secretsManagerSecretMonth: { usd: 0.4, unit: "secret", verified: true },
  };
  const assumptions: UsageAssumptions = {
    hoursPerMonth: 100,
    natGbPerMonth: { idle: 10, peak: 100 },
    albLcu: { idle: 1, peak: 2 },
    controlPlaneLogGbPerTypePerMonth: 3,
    flowLogGbPerMonth: { idle: 6, peak: 12 },
    efsGbPerModel: 10,
    efsReadsPerModelPerMonth: { idle: 1, peak: 5 },
    s3GbPerBucket: 50,
    ecrGbPerRepository: 4,
    wafMillionRequestsPerMonth: { idle: 2, peak: 10 },
  };
  const config = {
    region: "test-1",
    network: { availabilityZones: 2, flowLogRetentionDays: 30 },
    cluster: { logRetentionDays: 60 },
    models: {
      nodeGroup: "gpu",
      variants: {
        // Two variants of one model: 1..2 replicas autoscaled, and 1 fixed.
        a: { model: "org/m", autoscaling: { minReplicas: 1, maxReplicas: 2 } },
        b: { model: "org/m", replicas: 1 },
      },
    },
    observability: {
      prometheus: { replicas: 1, storageGi: 100 },
      loki: { replicas: 1, storageGi: 50 },
      tempo: { storageGi: 10 },
      grafana: { persistenceGi: 10 },
    },
  } as unknown as CostConfig;
  const r = (type: string, name: string, inputs: Record<string, any> = {}): ResourceRecord => ({
    type,
    name,
    inputs,
  });
  const ingress = (name: string) =>
    r("kubernetes:networking.k8s.io/v1:Ingress", name, {
      metadata: {
        annotations: {
          "alb.ingress.kubernetes.io/group.name": "edge",
          "alb.ingress.kubernetes.io/scheme": "internet-facing",
        },
      },
      spec: { ingressClassName: "alb" },
    });
  const rootVolume = (volumeSize: number, throughput: number) => ({
    blockDeviceMappings: [{ ebs: { volumeSize, volumeType: "gp3", throughput, iops: 3000 } }],
  });
  const resources: ResourceRecord[] = [
    r("eks:index:Cluster", "c", {
      upgradePolicy: { supportType: "STANDARD" },
      enabledClusterLogTypes: ["api", "audit"],
    }),
    r("awsx:ec2:Vpc", "v", { natGateways: { strategy: "OnePerAz" }, numberOfAvailabilityZones: 2 }),
    ingress("gateway"),
    ingress("grafana"),
    r("aws:eks/nodeGroup:NodeGroup", "cpu", {
      labels: { "llmplatform.io/node-group": "cpu" },
      capacityType: "ON_DEMAND",
      instanceTypes: ["c.large"],
      scalingConfig: { minSize: 1, maxSize: 3 },
    }),
    r("aws:ec2/launchTemplate:LaunchTemplate", "cpu", rootVolume(20, 125)),
    r("aws:eks/nodeGroup:NodeGroup", "gpu", {
      labels: { "llmplatform.io/node-group": "gpu" },
      capacityType: "SPOT",
      instanceTypes: ["g.xlarge", "g.2xlarge"],
      scalingConfig: { minSize: 0, maxSize: 4 },
    }),
    r("aws:ec2/launchTemplate:LaunchTemplate", "gpu", rootVolume(100, 225)),
    r("aws:efs/fileSystem:FileSystem", "cache"),
    r("kubernetes:storage.k8s.io/v1:StorageClass", "efs", {
      metadata: { name: "efs" },
      provisioner: "efs.csi.aws.com",
    }),
    r("kubernetes:core/v1:PersistentVolumeClaim", "cache", {
      metadata: { name: "cache" },
      spec: { storageClassName: "efs", resources: { requests: { storage: "500Gi" } } },
    }),
    r("kubernetes:core/v1:PersistentVolumeClaim", "data", {
      metadata: { name: "data" },
      spec: { resources: { requests: { storage: "30Gi" } } },
    }),
    r("aws:ec2/flowLog:FlowLog", "flow"),
    r("aws:s3/bucket:Bucket", "b1"),
    r("aws:s3/bucket:Bucket", "b2"),
    r("aws:kms/key:Key", "k"),
    r("aws:ecr/repository:Repository", "repo"),
  ];
  let e: Estimate;
  before(() => (e = estimate(inventory(config, resources), prices, assumptions)));
  const line = (id: string) => {
    const i = e.items.find((x) => x.id === id);
    assert.ok(i, `no line ${id}`);
    return { idle: cents(i.monthly.idle), peak: cents(i.monthly.peak) };
  };

  it("prices each line as worked out by hand", () => {
    // 1 cluster × $0.10/h × 100 h
    assert.deepEqual(line("eks-control-plane"), { idle: 10, peak: 10 });
    // OnePerAz over 2 AZs = 2 × ($0.05 + $0.01 IPv4) × 100 h = 12; + 10 GB × $0.01 (idle) / 100 GB (peak)
    assert.deepEqual(line("nat-gateways"), { idle: 12.1, peak: 13 });
    // Two Ingresses in one group = 1 ALB × ($0.02 + LCU × $0.01 + 2 IPv4 × $0.01) × 100 h, 1 / 2 LCU
    assert.deepEqual(line("load-balancers"), { idle: 5, peak: 6 });
    // CPU: minSize 1 / maxSize 3 × $0.10 × 100 h
    assert.deepEqual(line("nodes-cpu"), { idle: 10, peak: 30 });
    // GPU: 2 replicas at rest (a min 1 + b fixed 1) > minSize 0 → 2 nodes; peak maxSize 4. Priced at the
    // dearer type g.2xlarge: SPOT 0.5 × $2.00 = $1.00/h × 100 h
    assert.deepEqual(line("nodes-gpu"), { idle: 200, peak: 400 });
    // Per CPU node 20 GiB × $0.10 = 2; per GPU node 100 × $0.10 + (225 − 125) MiB/s × $0.05 = 15
    // idle 1 × 2 + 2 × 15 = 32; peak 3 × 2 + 4 × 15 = 66
    assert.deepEqual(line("ebs-root-volumes"), { idle: 32, peak: 66 });
    // Prometheus 100 + Loki 50 + Tempo 10 + Grafana 10 + claim "data" 30 = 200 GiB × $0.10 (the EFS
    // claim is not EBS)
    assert.deepEqual(line("ebs-persistent-volumes"), { idle: 20, peak: 20 });
    // 1 distinct model × 10 GB × $0.30 = 3; reads 10 GB × 1 (idle) / 5 (peak) × $0.02 = 0.2 / 1
    assert.deepEqual(line("efs-model-cache"), { idle: 3.2, peak: 4 });
    // 2 buckets × 50 GB × $0.02
    assert.deepEqual(line("s3"), { idle: 2, peak: 2 });
    // 2 log types × 3 GB = 6 GB: × $0.50 = 3, kept 60 days = 2 months × 6 GB × $0.03 = 0.36
    assert.deepEqual(line("control-plane-logs"), { idle: 3.36, peak: 3.36 });
    // 6 / 12 GB × ($0.25 + 30 days = 1 month × $0.03) = 1.68 / 3.36
    assert.deepEqual(line("flow-logs"), { idle: 1.68, peak: 3.36 });
    assert.deepEqual(line("kms"), { idle: 1, peak: 1 });
    // 1 repository × 4 GB × $0.10
    assert.deepEqual(line("ecr"), { idle: 0.4, peak: 0.4 });
  });

  it("totals, per hour, and the SPOT saving as worked out by hand", () => {
    // idle 10 + 12.1 + 5 + 10 + 200 + 32 + 20 + 3.2 + 2 + 3.36 + 1.68 + 1 + 0.4 = 300.74
    // peak 10 + 13 + 6 + 30 + 400 + 66 + 20 + 4 + 2 + 3.36 + 3.36 + 1 + 0.4 = 559.12
    assert.deepEqual([cents(e.total.monthly.idle), cents(e.total.monthly.peak)], [300.74, 559.12]);
    // ÷ 100 hours
    assert.deepEqual(
      [Math.round(e.total.hourly.idle * 1e4), Math.round(e.total.hourly.peak * 1e4)],
      [30074, 55912],
    );
    // The same GPU nodes On-Demand: 2 / 4 × $2.00 × 100 = 400 / 800; saving 200 / 400
    assert.deepEqual([cents(e.spotSaving.idle), cents(e.spotSaving.peak)], [200, 400]);
    assert.deepEqual(
      [cents(e.allOnDemandMonthly.idle), cents(e.allOnDemandMonthly.peak)],
      [500.74, 959.12],
    );
  });

  it("adds a working-hours window's node-hours to the idle GPU line and root volumes", () => {
    const windowed = {
      ...config,
      models: {
        ...config.models,
        variants: {
          ...config.models.variants,
          c: {
            model: "org/m",
            autoscaling: {
              minReplicas: 0,
              maxReplicas: 1,
              workingHours: { timezone: "UTC", start: "0 8 * * 1-5", end: "0 18 * * 1-5" },
            },
          },
        },
      },
    } as unknown as CostConfig;
    const w = estimate(inventory(windowed, resources), prices, assumptions);
    const gpu = w.items.find((i) => i.id === "nodes-gpu")!;
    // 2 nodes × 100 h + 217.5 node-hours (261 weekdays × 10 h ÷ 12), × $1.00 SPOT
    assert.equal(cents(gpu.monthly.idle), 417.5);
    assert.equal(cents(gpu.monthly.peak), 400, "peak is maxSize all month either way");
    assert.match(gpu.basis.idle, /\+ 217\.5 node-hours\/month in scheduled windows \(c\)$/);
    // Root volumes: + 217.5 / 100 GPU nodes × $15
    const root = w.items.find((i) => i.id === "ebs-root-volumes")!;
    assert.equal(cents(root.monthly.idle), cents(32 + 2.175 * 15));
  });

  it("prices interface endpoints per AZ (gateway endpoints are free), and puts only Hub models on EFS", () => {
    const endpoints = [
      ...resources,
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "sts", {
        vpcEndpointType: "Interface",
        subnetIds: ["s1", "s2"],
      }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", { vpcEndpointType: "Gateway" }),
    ];
    const streaming = {
      ...config,
      models: {
        ...config.models,
        variants: {
          ...config.models.variants,
          c: { model: "org/n", weightsFrom: "store", replicas: 0 },
        },
      },
    } as unknown as CostConfig;
    const x = estimate(inventory(streaming, endpoints), prices, assumptions);
    const item = (id: string) => x.items.find((i) => i.id === id)!.monthly;
    // 2 endpoint-AZs × $0.01 × 100 h
    assert.deepEqual(item("vpc-interface-endpoints"), { idle: 2, peak: 2 });
    // org/n streams from the model store: EFS still holds the one Hub model (3.2 / 4 as above)
    assert.deepEqual(
      [cents(item("efs-model-cache").idle), cents(item("efs-model-cache").peak)],
      [3.2, 4],
    );
    assert.equal(
      e.items.find((i) => i.id === "vpc-interface-endpoints"),
      undefined,
    );
  });

  it("prices the web ACL by its rules and requests, and each Secrets Manager secret", () => {
    const guarded = [
      ...resources,
      r("aws:wafv2/webAcl:WebAcl", "edge", {
        rules: [{ name: "a" }, { name: "b" }, { name: "c" }],
      }),
      r("aws:secretsmanager/secret:Secret", "s1"),
      r("aws:secretsmanager/secret:Secret", "s2"),
    ];
    const g = estimate(inventory(config, guarded), prices, assumptions);
    const item = (id: string) => g.items.find((i) => i.id === id)!.monthly;
    // $5 + 3 rules × $1 + 2M (idle) / 10M (peak) requests × $0.50
    assert.deepEqual(item("waf"), { idle: 9, peak: 13 });
    // 2 × $0.40
    assert.deepEqual(
      [cents(item("secrets-manager").idle), cents(item("secrets-manager").peak)],
      [0.8, 0.8],
    );
    // Neither line exists without the resources.
    assert.ok(!e.items.some((i) => i.id === "waf" || i.id === "secrets-manager"));
  });

  it("prices extended support at the extended rate", () => {
    const extended = resources.map((x) =>
      x.type === "eks:index:Cluster"
        ? { ...x, inputs: { ...x.inputs, upgradePolicy: { supportType: "EXTENDED" } } }
        : x,
    );
    const i = estimate(inventory(config, extended), prices, assumptions).items[0]!;
    // $0.60 × 100 h
    assert.equal(cents(i.monthly.idle), 60);
  });

  it("errors on a type the table lacks and on a stack in another region", () => {
    const unknown = resources.map((x) =>
      x.name === "cpu" && x.type === "aws:eks/nodeGroup:NodeGroup"
        ? { ...x, inputs: { ...x.inputs, instanceTypes: ["c.huge"] } }
        : x,
    );
    assert.throws(
      () => estimate(inventory(config, unknown), prices, assumptions),
      /no test-1 On-Demand price for instance type c\.huge/,
    );
    assert.throws(
      () => estimate(inventory({ ...config, region: "us-east-1" }, resources), prices, assumptions),
      /price table is for test-1, the stack is in us-east-1/,
    );
  });

  it("comments on a pull request with the change from the base branch", () => {
    const head: StackEstimate = { stack: "t", ...e };
    const cheaper = estimate(
      inventory(config, resources),
      { ...prices, ec2OnDemandHourly: { ...prices.ec2OnDemandHourly, "c.large": 0.05 } },
      assumptions,
    );
    const md = formatComment(head, { stack: "t", ...cheaper });
    // CPU nodes: 10 → was 5 at idle (+$5.00), 30 → was 15 at peak (+$15.00)
    assert.match(
      md,
      /\| CPU nodes cpu \(On-Demand\) \| \$10\.00 \| \+\$5\.00 \| \$30\.00 \| \+\$15\.00 \|/,
    );
    assert.match(
      md,
      /\| \*\*Total per month\*\* \| \$300\.74 \| \+\$5\.00 \| \$559\.12 \| \+\$15\.00 \|/,
    );
    assert.match(formatComment(head, undefined), /base branch produced no estimate/);
  });
});
