import * as assert from "node:assert/strict";
import { registry, routedServices } from "../../components/platform/registry";
import {
  ConfigError,
  parseConfig,
  type PlatformConfig,
} from "../../components/config/platformConfig";
import { parseCidr } from "../../components/config/primitives";
import {
  defaultKubernetesVersion,
  supportedKubernetesVersions,
} from "../../components/platform/versions";
import { regionWarnings } from "../../components/config/region";
import { knownRegions } from "../../components/platform/regions";
import { cloneStackConfig, configProblems, runProgram, type RawConfig } from "../../verify/program";

/** Parses a copy of the real dev stack config after `edit` breaks it; returns the error lines. */
function problemsAfter(edit: (raw: RawConfig & Record<string, any>) => void): string[] {
  const raw = cloneStackConfig("dev") as Record<string, any>;
  edit(raw);
  try {
    parseConfig(raw, "dev");
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("expected the config to be rejected");
}

/** A name that is not a key of `taken`: what a stack file may not invent. */
function unregistered(taken: Readonly<Record<string, unknown>>, base: string): string {
  let name = base;
  while (name in taken) name = `${name}-x`;
  return name;
}

describe("config: the real stack files", () => {
  // Parsed when the tests run, not when mocha loads the file: a broken stack file fails these tests
  // by name instead of stopping the whole run.
  let dev!: PlatformConfig;
  let prod!: PlatformConfig;
  before(() => {
    dev = parseConfig(cloneStackConfig("dev"), "dev");
    prod = parseConfig(cloneStackConfig("prod"), "prod");
  });

  it("derives the name prefix and tags from the stack", () => {
    assert.equal(dev.namePrefix, "llmplatform-dev");
    assert.equal(prod.namePrefix, "llmplatform-prod");
    assert.deepEqual(dev.tags, {
      Project: "llm-platform",
      Environment: "dev",
      ManagedBy: "pulumi",
      Owner: "llm-platform-team",
      CostCenter: "llm-platform-dev",
    });
    assert.equal(prod.tags.Environment, "prod");
  });

  it("reads region, network and cluster settings as written in each stack file", () => {
    for (const [stack, parsed] of [
      ["dev", dev],
      ["prod", prod],
    ] as const) {
      const raw = cloneStackConfig(stack) as Record<string, any>;
      assert.equal(parsed.region, raw["aws:region"]);
      for (const section of ["network", "cluster"] as const) {
        for (const [key, value] of Object.entries(raw[`llm-platform:${section}`])) {
          if (typeof value !== "object")
            assert.equal((parsed[section] as any)[key], value, `${stack} ${section}.${key}`);
        }
      }
    }
  });

  it("fills network and cluster keys a stack leaves out with the design's defaults", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    raw["llm-platform:network"] = { natGateways: "single" };
    raw["llm-platform:cluster"] = { endpoint: { publicAccess: false } };
    const c = parseConfig(raw, "dev");
    assert.deepEqual(c.network, {
      cidr: "10.0.0.0/16",
      availabilityZones: 3,
      natGateways: "single",
      publicSubnetCidrMask: 22,
      privateSubnetCidrMask: 19,
      flowLogRetentionDays: 30,
    });
    // Secure by default: private API access on, no public CIDRs, no extra admins, logs kept.
    assert.equal(c.cluster.endpoint.privateAccess, true);
    assert.equal(c.cluster.endpoint.allowPublicAccessFromAnywhere, false);
    assert.deepEqual(c.cluster.endpoint.publicAccessCidrs, []);
    assert.deepEqual(c.cluster.accessEntries, []);
    assert.equal(c.cluster.logRetentionDays, 90);
    assert.equal(c.cluster.upgradeSupport, "STANDARD");
  });

  it("keeps prod's Kubernetes API off the open internet, and rejects 0.0.0.0/0 there by key", () => {
    const e = prod.cluster.endpoint;
    assert.equal(e.allowPublicAccessFromAnywhere, false);
    assert.ok(!e.publicAccessCidrs.some((c) => parseCidr(c)!.prefix === 0));
    const raw = cloneStackConfig("prod") as Record<string, any>;
    raw["llm-platform:cluster"].endpoint.publicAccessCidrs = ["0.0.0.0/0"];
    assert.throws(
      () => parseConfig(raw, "prod"),
      (err: ConfigError) =>
        err.problems.length === 1 &&
        err.problems[0]!.startsWith(
          "llm-platform:cluster.endpoint.publicAccessCidrs[0]: 0.0.0.0/0 opens the Kubernetes API endpoint to the whole internet",
        ) &&
        err.problems[0]!.includes("endpoint.allowPublicAccessFromAnywhere: true"),
    );
    raw["llm-platform:cluster"].endpoint.allowPublicAccessFromAnywhere = true;
    assert.deepEqual(parseConfig(raw, "prod").cluster.endpoint.publicAccessCidrs, ["0.0.0.0/0"]);
  });

  it("reads every node group as written, the initial size defaulting to the minimum", () => {
    for (const stack of ["dev", "prod"] as const) {
      const raw = cloneStackConfig(stack) as Record<string, any>;
      const written = raw["llm-platform:nodeGroups"];
      const parsed = parseConfig(raw, stack).nodeGroups;
      assert.deepEqual(parsed.cpu, {
        diskSizeGiB: 50,
        ...written.cpu,
        desiredSize: written.cpu.desiredSize ?? written.cpu.minSize,
      });
      assert.deepEqual(
        parsed.gpu,
        written.gpu.map((g: any) => ({
          diskSizeGiB: 200,
          fastImagePull: true,
          rootVolumeThroughputMiBs: 600,
          ...g,
          desiredSize: g.desiredSize ?? g.minSize,
        })),
      );
    }
  });

  it("accepts a single-type GPU group and warns that it limits SPOT capacity pools", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    // Besides the region's own warning, where it is an opt-in region.
    const regional = regionWarnings(String(raw["aws:region"]));
    assert.deepEqual(parseConfig(raw, "dev").warnings, regional);
    raw["llm-platform:nodeGroups"].gpu[0].instanceTypes = ["g5.xlarge"];
    const c = parseConfig(raw, "dev");
    assert.deepEqual(c.nodeGroups.gpu[0]!.instanceTypes, ["g5.xlarge"]);
    assert.equal(c.warnings.length, regional.length + 1);
    assert.match(
      c.warnings.at(-1)!,
      /^llm-platform:nodeGroups\.gpu\[0\]\.instanceTypes: group \S+ has one instance type \(g5\.xlarge\), which limits it to that type's SPOT capacity pools/,
    );
  });

  it("accepts a Kubernetes version written unquoted (a YAML number) and booleans handed over as text", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    raw["llm-platform:cluster"].kubernetesVersion = Number(defaultKubernetesVersion);
    // `pulumi config set llm-platform:destroyDeletesData false` stores the text "false".
    raw["llm-platform:destroyDeletesData"] = "false";
    const c = parseConfig(raw, "dev");
    assert.equal(c.cluster.kubernetesVersion, defaultKubernetesVersion);
    assert.equal(c.destroyDeletesData, false);
    raw["llm-platform:destroyDeletesData"] = "true";
    assert.equal(parseConfig(raw, "dev").destroyDeletesData, true);
  });

  it("accepts every region of the aws partition, and warns that an opt-in region must be enabled first", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    const commercial = [...knownRegions().values()].filter((r) => r.partition === "aws");
    assert.equal(commercial.length, 34, "@aws-cdk/region-info 2.269.0 lists 34 (regions.ts)");
    for (const { name, optIn } of commercial) {
      raw["aws:region"] = name;
      const c = parseConfig(raw, "dev");
      assert.equal(c.region, name);
      assert.equal(c.warnings.length, optIn ? 1 : 0, name);
    }
    raw["aws:region"] = "af-south-1";
    assert.deepEqual(parseConfig(raw, "dev").warnings, [
      "aws:region: af-south-1 is an opt-in region: enable it for the account (AWS console, Account → AWS Regions) before pulumi up, or every call fails",
    ]);
  });

  it("refuses a region outside the aws partition, naming the key and the partition", () => {
    // 46 regions in 8 partitions (regions.ts); the program writes the aws partition's endpoints only.
    const partitions = new Map<string, string[]>();
    for (const r of knownRegions().values())
      partitions.set(r.partition, [...(partitions.get(r.partition) ?? []), r.name]);
    assert.equal(knownRegions().size, 46);
    assert.deepEqual([...partitions.keys()].sort(), [
      "aws",
      "aws-cn",
      "aws-eusc",
      "aws-iso",
      "aws-iso-b",
      "aws-iso-e",
      "aws-iso-f",
      "aws-us-gov",
    ]);
    for (const [partition, names] of partitions) {
      if (partition === "aws") continue;
      for (const region of names) {
        assert.deepEqual(
          configProblems("dev", (r) => (r["aws:region"] = region)),
          [
            `aws:region: ${region} is a region of the ${partition} partition; the program supports the aws partition only (China, GovCloud, ISO and European Sovereign Cloud regions need their own partition's endpoints and ARNs, which it does not write): expected a region such as us-west-2`,
          ],
        );
      }
    }
  });

  it("defaults optional keys", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    delete raw["llm-platform:tags"];
    delete raw["llm-platform:cluster"].kubernetesVersion;
    delete raw["llm-platform:cluster"].logRetentionDays;
    delete raw["llm-platform:nodeGroups"].gpu[0].desiredSize;
    delete raw["llm-platform:nodeGroups"].gpu[0].diskSizeGiB;
    delete raw["llm-platform:nodeGroups"].preflight;
    delete raw["llm-platform:destroyDeletesData"];
    raw["llm-platform:network"] = { natGateways: "single" };
    // The budget's tag scope names a config tag, so it goes with them.
    raw["llm-platform:budget"] = { monthlyLimitUsd: 100, emails: ["team@example.com"] };
    const c = parseConfig(raw, "staging");
    assert.equal(c.namePrefix, "llmplatform-staging");
    assert.equal(c.cluster.kubernetesVersion, "1.35");
    assert.equal(c.cluster.logRetentionDays, 90);
    assert.equal(c.nodeGroups.gpu[0]?.desiredSize, 0);
    assert.equal(c.nodeGroups.gpu[0]?.diskSizeGiB, 200);
    // Every preflight check runs, and destroy keeps data, unless a stack says otherwise.
    assert.deepEqual(c.nodeGroups.preflight, { serviceQuotas: true, instanceTypeOfferings: true });
    assert.equal(c.destroyDeletesData, false);
    assert.deepEqual(c.network, {
      cidr: "10.0.0.0/16",
      availabilityZones: 3,
      natGateways: "single",
      publicSubnetCidrMask: 22,
      privateSubnetCidrMask: 19,
      flowLogRetentionDays: 30,
    });
    assert.deepEqual(Object.keys(c.tags), ["Project", "Environment", "ManagedBy"]);
    assert.deepEqual(c.budget, {
      monthlyLimitUsd: 100,
      thresholds: [50, 80, 100],
      emails: ["team@example.com"],
    });
  });

  it("fills what a stack file leaves out from the schema defaults; a written object replaces its default whole", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    const ns = raw["llm-platform:namespaces"];
    const svc = raw["llm-platform:services"];
    delete ns.quant;
    delete svc.gateway.resources;
    delete svc["eval-api"].resources;
    const defaults = parseConfig(raw, "dev");
    // The three team namespaces and the three team APIs share one default each.
    assert.deepEqual(defaults.namespaces.quant, defaults.namespaces.eval);
    assert.deepEqual(
      defaults.services["eval-api"].resources,
      defaults.services["quant-api"].resources,
    );
    assert.notDeepEqual(
      defaults.services.gateway.resources,
      defaults.services["eval-api"].resources,
    );

    ns.quant = { quota: { ...defaults.namespaces.quant.quota, pods: 3 } };
    const written = {
      requests: { cpu: "300m", memory: "300Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    };
    svc.gateway.resources = written;
    const c = parseConfig(raw, "dev");
    assert.equal(c.namespaces.quant.quota.pods, 3);
    assert.deepEqual(c.namespaces.quant.limits, defaults.namespaces.quant.limits);
    assert.deepEqual(c.services.gateway.resources, written);
  });

  it("checks defaulted values like written ones, naming the key that was left out", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    // The team API default (up to 2 CPU / 4 GiB) no longer fits a quant namespace capped at 1 CPU.
    raw["llm-platform:namespaces"].quant = {
      limits: {
        default: { cpu: "1", memory: "2Gi" },
        defaultRequest: { cpu: "250m", memory: "512Mi" },
        max: { cpu: "1", memory: "8Gi" },
        min: { cpu: "100m", memory: "128Mi" },
      },
    };
    assert.throws(
      () => parseConfig(raw, "dev"),
      (e: ConfigError) =>
        e.problems.some((p) =>
          p.startsWith(
            "llm-platform:services.quant-api.resources.limits: expected within namespace quant's LimitRange",
          ),
        ),
    );
  });

  it("accepts access entries, cluster-wide or namespace-scoped", () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    raw["llm-platform:cluster"].accessEntries = [
      { principalArn: "arn:aws:iam::111122223333:role/platform-admins", policy: "cluster-admin" },
      {
        principalArn: "arn:aws:iam::111122223333:role/quant-team",
        policy: "edit",
        namespaces: ["quant"],
      },
    ];
    assert.equal(parseConfig(raw, "dev").cluster.accessEntries.length, 2);
  });
});

/** The route key whose traffic the gateway splits between LoRA variants (A/B). */
const abRoute = routedServices(registry).find(([, d]) => d.route.loraVariants)?.[1].route.key;

/** The gateway route table of the registry (its default timeouts), with these A/B variants on the A/B route. */
const routes = (variants: { name: string; weight: number }[]) =>
  Object.fromEntries(
    routedServices(registry).map(([, d]) => [
      d.route.key,
      { timeoutMs: d.route.timeoutMs, ...(d.route.key === abRoute ? { variants } : {}) },
    ]),
  );

/** A namespace the registry does not have. */
const unknownNamespace = unregistered(registry.namespaces, "not-in-registry");

describe("config: bad input names the key and what was expected", () => {
  const cases: { what: string; edit: (raw: Record<string, any>) => void; expect: string }[] = [
    {
      what: "missing region",
      edit: (r) => delete r["aws:region"],
      expect: "aws:region: required",
    },
    {
      what: "malformed region",
      edit: (r) => (r["aws:region"] = "oregon"),
      expect: "aws:region: oregon is not an AWS region",
    },
    {
      what: "a well-formed region AWS has not launched",
      edit: (r) => (r["aws:region"] = "us-west-9"),
      expect:
        "aws:region: us-west-9 is not an AWS region (regions starting us-: us-east-1, us-east-2, us-west-1, us-west-2); expected a region such as us-west-2 (the list: @aws-cdk/region-info)",
    },
    {
      what: "a CPU instance type that does not exist (a typo)",
      edit: (r) => (r["llm-platform:nodeGroups"].cpu.instanceTypes = ["m6i.xlargee"]),
      expect:
        'llm-platform:nodeGroups.cpu.instanceTypes[0]: unknown CPU instance type "m6i.xlargee"; expected a size of one of the x86_64 families in components/platform/instanceTypes.ts (m5, m6i,',
    },
    {
      what: "a preflight switch that is not a boolean",
      edit: (r) => (r["llm-platform:nodeGroups"].preflight = { serviceQuotas: "no" }),
      expect: "llm-platform:nodeGroups.preflight.serviceQuotas: expected boolean, received string",
    },
    {
      what: "destroyDeletesData that is not a boolean",
      edit: (r) => (r["llm-platform:destroyDeletesData"] = "yes"),
      expect: "llm-platform:destroyDeletesData: expected true or false",
    },
    {
      what: "wrong type",
      edit: (r) => (r["llm-platform:nodeGroups"].cpu.minSize = "two"),
      expect: "llm-platform:nodeGroups.cpu.minSize: expected number, received string",
    },
    {
      what: "GPU types of different shapes in one group",
      edit: (r) =>
        (r["llm-platform:nodeGroups"].gpu[0].instanceTypes = ["g5.xlarge", "g6.2xlarge"]),
      expect:
        "llm-platform:nodeGroups.gpu[0].instanceTypes[1]: expected the same shape as g5.xlarge " +
        "(4 vCPU / 16 GiB / 1 GPU x 24 GiB), got 8 vCPU / 32 GiB / 1 GPU x 24 GiB",
    },
    {
      what: "GPU types with different GPU memory",
      edit: (r) =>
        (r["llm-platform:nodeGroups"].gpu[0].instanceTypes = ["g5.xlarge", "g4dn.xlarge"]),
      expect:
        "llm-platform:nodeGroups.gpu[0].instanceTypes[1]: expected the same shape as g5.xlarge",
    },
    {
      what: "unknown GPU type",
      edit: (r) => (r["llm-platform:nodeGroups"].gpu[0].instanceTypes = ["g5.xlarge", "g9.mega"]),
      expect:
        'llm-platform:nodeGroups.gpu[0].instanceTypes[1]: unknown GPU instance type "g9.mega"',
    },
    {
      what: "no GPU type",
      edit: (r) => (r["llm-platform:nodeGroups"].gpu[0].instanceTypes = []),
      expect: "llm-platform:nodeGroups.gpu[0].instanceTypes: expected at least 1 entry",
    },
    {
      what: "a GPU group named like a label it cannot be",
      edit: (r) => (r["llm-platform:nodeGroups"].gpu[0].name = "Nvidia_24GB"),
      expect:
        "llm-platform:nodeGroups.gpu[0].name: expected lowercase letters, digits and '-', starting with a letter",
    },
    {
      what: "a GPU group named like the CPU group",
      edit: (r) => (r["llm-platform:nodeGroups"].gpu[0].name = "cpu"),
      expect: "llm-platform:nodeGroups.gpu[0].name: expected a name other than cpu",
    },
    {
      what: "min > max",
      edit: (r) =>
        Object.assign(r["llm-platform:nodeGroups"].gpu[0], {
          minSize: 5,
          desiredSize: 5,
          maxSize: 4,
        }),
      expect: "llm-platform:nodeGroups.gpu[0].minSize: expected minSize <= maxSize (4)",
    },
    {
      what: "desired outside min..max",
      edit: (r) => (r["llm-platform:nodeGroups"].cpu.desiredSize = 9),
      expect:
        "llm-platform:nodeGroups.cpu.desiredSize: expected desiredSize between minSize (2) and maxSize (4)",
    },
    {
      what: "malformed CIDR",
      edit: (r) => (r["llm-platform:network"].cidr = "10.0.0/16"),
      expect: "llm-platform:network.cidr: expected an IPv4 network in CIDR form, e.g. 10.0.0.0/16",
    },
    {
      what: "CIDR with host bits set",
      edit: (r) => (r["llm-platform:network"].cidr = "10.0.0.1/16"),
      expect: "llm-platform:network.cidr: expected an IPv4 network in CIDR form",
    },
    {
      what: "subnets that do not fit the VPC",
      edit: (r) =>
        Object.assign(r["llm-platform:network"], {
          cidr: "10.0.0.0/20",
          privateSubnetCidrMask: 21,
        }),
      expect:
        "llm-platform:network: 3 public /22 + 3 private /21 subnets do not fit in 10.0.0.0/20",
    },
    {
      what: "empty instance list",
      edit: (r) => (r["llm-platform:nodeGroups"].cpu.instanceTypes = []),
      expect: "llm-platform:nodeGroups.cpu.instanceTypes: expected at least 1 entry",
    },
    {
      what: "duplicate group names",
      edit: (r) =>
        r["llm-platform:nodeGroups"].gpu.push({ ...r["llm-platform:nodeGroups"].gpu[0] }),
      expect: "llm-platform:nodeGroups.gpu[1].name: expected a unique group name",
    },
    {
      what: "a GPU disk too small for vLLM images",
      edit: (r) => (r["llm-platform:nodeGroups"].gpu[0].diskSizeGiB = 50),
      expect:
        "llm-platform:nodeGroups.gpu[0].diskSizeGiB: expected at least 100 GiB for vLLM images",
    },
    {
      what: "a Graviton type in the x86 CPU group",
      edit: (r) => (r["llm-platform:nodeGroups"].cpu.instanceTypes = ["m7g.xlarge"]),
      expect:
        "llm-platform:nodeGroups.cpu.instanceTypes[0]: m7g.xlarge is an arm64 (Graviton) type",
    },
    {
      what: "a GPU type in the CPU group",
      edit: (r) => (r["llm-platform:nodeGroups"].cpu.instanceTypes = ["g5.xlarge"]),
      expect: "llm-platform:nodeGroups.cpu.instanceTypes[0]: g5.xlarge is a GPU type",
    },
    {
      what: "a misspelt top-level key",
      edit: (r) => (r["llm-platform:nodegroups"] = {}),
      expect: "llm-platform:nodegroups: unknown key (check its spelling)",
    },
    {
      what: "a misspelt nested key",
      edit: (r) => (r["llm-platform:network"].natGateway = "single"),
      expect: "llm-platform:network.natGateway: unknown key (check its spelling)",
    },
    {
      what: "an unsupported NAT strategy",
      edit: (r) => (r["llm-platform:network"].natGateways = "none"),
      expect:
        'llm-platform:network.natGateways: Invalid option: expected one of "single"|"onePerAz"',
    },
    {
      what: "a public endpoint without an allow-list",
      edit: (r) => (r["llm-platform:cluster"].endpoint.publicAccessCidrs = []),
      expect:
        "llm-platform:cluster.endpoint.publicAccessCidrs: expected at least 1 CIDR when publicAccess is true",
    },
    {
      what: "a public endpoint open to the internet without the override",
      edit: (r) =>
        (r["llm-platform:cluster"].endpoint = {
          publicAccess: true,
          publicAccessCidrs: ["10.0.0.0/8", "0.0.0.0/0"],
        }),
      expect:
        "llm-platform:cluster.endpoint.publicAccessCidrs[1]: 0.0.0.0/0 opens the Kubernetes API endpoint to the whole internet",
    },
    {
      what: "no endpoint at all",
      edit: (r) =>
        (r["llm-platform:cluster"].endpoint = { publicAccess: false, privateAccess: false }),
      expect:
        "llm-platform:cluster.endpoint: expected publicAccess or privateAccess (or both) to be true",
    },
    {
      what: "a Kubernetes version without pinned add-ons",
      edit: (r) => (r["llm-platform:cluster"].kubernetesVersion = "1.29"),
      expect: `llm-platform:cluster.kubernetesVersion: expected one of ${supportedKubernetesVersions.map((v) => `"${v}"`).join(", ")} (the minors with add-ons pinned in components/platform/versions.ts), got "1.29"`,
    },
    {
      what: "an unquoted version YAML reads as another number (1.30 is 1.3)",
      edit: (r) => (r["llm-platform:cluster"].kubernetesVersion = 1.3),
      expect: `llm-platform:cluster.kubernetesVersion: expected one of ${supportedKubernetesVersions.map((v) => `"${v}"`).join(", ")} (the minors with add-ons pinned in components/platform/versions.ts); got the YAML number 1.3: quote the version`,
    },
    {
      what: "a minor that left EKS standard support",
      edit: (r) => (r["llm-platform:cluster"].kubernetesVersion = "1.34"),
      expect:
        "llm-platform:cluster.kubernetesVersion: 1.34 left EKS standard support on 2026-12-02 (extended support bills $0.60 per cluster-hour); upgrade to 1.35",
    },
    {
      what: "a log retention CloudWatch does not offer",
      edit: (r) => (r["llm-platform:cluster"].logRetentionDays = 10),
      expect: "llm-platform:cluster.logRetentionDays: expected a CloudWatch retention in days",
    },
    {
      what: "an access entry that is not an IAM ARN",
      edit: (r) =>
        (r["llm-platform:cluster"].accessEntries = [{ principalArn: "admins", policy: "view" }]),
      expect:
        "llm-platform:cluster.accessEntries[0].principalArn: expected an IAM role or user ARN",
    },
    {
      what: "a namespace-scoped cluster-admin",
      edit: (r) =>
        (r["llm-platform:cluster"].accessEntries = [
          {
            principalArn: "arn:aws:iam::111122223333:role/x",
            policy: "cluster-admin",
            namespaces: ["quant"],
          },
        ]),
      expect: "llm-platform:cluster.accessEntries[0].namespaces: cluster-admin is cluster-wide",
    },
    {
      what: "overriding a program tag",
      edit: (r) => (r["llm-platform:tags"] = { Environment: "qa" }),
      expect: "llm-platform:tags.Environment: is set by the program; remove it",
    },
    {
      what: "a name prefix too long for IAM role names",
      edit: (r) => (r["llm-platform:namePrefix"] = "llmplatform-development-eu-west"),
      expect: "llm-platform:namePrefix: expected 4-24 lowercase letters",
    },
    {
      what: "A/B weights that do not sum to 100",
      edit: (r) =>
        (r["llm-platform:services"].gateway.routes = routes([
          { name: "lora-v1", weight: 80 },
          { name: "lora-v2", weight: 30 },
        ])),
      expect: `llm-platform:services.gateway.routes.${abRoute}.variants: expected weights summing to 100, got 110`,
    },
    {
      what: "duplicate A/B variant names",
      edit: (r) =>
        (r["llm-platform:services"].gateway.routes = routes([
          { name: "lora-v1", weight: 80 },
          { name: "lora-v1", weight: 20 },
        ])),
      expect: `llm-platform:services.gateway.routes.${abRoute}.variants[1].name: expected a unique variant name`,
    },
    {
      what: "fixed replicas next to an HPA",
      edit: (r) => (r["llm-platform:services"].gateway.hpa = { minReplicas: 2, maxReplicas: 3 }),
      expect: "llm-platform:services.gateway.replicas: expected no fixed replicas when hpa is set",
    },
    {
      what: "a PDB that would block every drain",
      edit: (r) => (r["llm-platform:services"]["eval-api"].pdb = { minAvailable: 2 }),
      expect:
        "llm-platform:services.eval-api.pdb.minAvailable: expected fewer than the 2 guaranteed replicas",
    },
    {
      what: "a container limit above the namespace LimitRange",
      edit: (r) =>
        (r["llm-platform:services"]["quant-api"].resources = {
          requests: { cpu: "500m", memory: "1Gi" },
          limits: { cpu: "2", memory: "9Gi" },
        }),
      expect:
        "llm-platform:services.quant-api.resources.limits: expected within namespace quant's LimitRange min 100m/128Mi and max 4/8Gi",
    },
    {
      what: "a service whose peak exceeds its namespace quota",
      edit: (r) => (r["llm-platform:services"]["eval-api"].replicas = 8),
      expect:
        "llm-platform:services.eval-api: at peak (9 pods incl. rolling-update surge) needs limits.cpu 18000m, namespace eval's quota allows 16",
    },
    {
      what: "requests above limits",
      edit: (r) =>
        (r["llm-platform:services"].gateway.resources = {
          requests: { cpu: "2", memory: "256Mi" },
          limits: { cpu: "1", memory: "1Gi" },
        }),
      expect:
        "llm-platform:services.gateway.resources: expected requests <= limits for cpu and memory",
    },
    {
      what: "a LimitRange whose default exceeds its max",
      edit: (r) =>
        (r["llm-platform:namespaces"].platform.limits = {
          default: { cpu: "500m", memory: "8Gi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          max: { cpu: "2", memory: "4Gi" },
          min: { cpu: "50m", memory: "64Mi" },
        }),
      expect:
        "llm-platform:namespaces.platform.limits.default: expected default <= max for cpu and memory",
    },
    {
      what: "a malformed quantity",
      edit: (r) =>
        (r["llm-platform:namespaces"].quant = {
          quota: { ...r["llm-platform:namespaces"].platform.quota, "requests.memory": "16 gigs" },
        }),
      expect:
        "llm-platform:namespaces.quant.quota.requests.memory: expected a memory quantity such as 512Mi or 4Gi",
    },
    {
      what: "a model namespace without a GPU cap",
      edit: (r) =>
        delete r["llm-platform:namespaces"]["llm-baseline"].quota["requests.nvidia.com/gpu"],
      expect: "llm-platform:namespaces.llm-baseline.quota.requests.nvidia.com/gpu: required",
    },
    {
      what: "a namespace the design does not have",
      edit: (r) => (r["llm-platform:namespaces"][unknownNamespace] = {}),
      expect: `llm-platform:namespaces.${unknownNamespace}: unknown key (check its spelling)`,
    },
    {
      what: "a quota missing from a namespace that has no default one",
      edit: (r) => delete r["llm-platform:namespaces"].platform.quota,
      expect: "llm-platform:namespaces.platform.quota: required",
    },
    {
      what: "a moving image tag in an immutable repository",
      edit: (r) => Object.assign(r["llm-platform:services"], { immutableImageTags: true }),
      expect: "llm-platform:services.gateway.imageTag: expected a release tag",
    },
    {
      what: "services running as root",
      edit: (r) => (r["llm-platform:services"].runAsUser = 0),
      expect: "llm-platform:services.runAsUser: expected a non-root UID (>= 1)",
    },
    {
      what: "a SageMaker endpoint name with invalid characters",
      edit: (r) => (r["llm-platform:services"]["quant-api"].sagemaker.endpointName = "quant_awq"),
      expect:
        "llm-platform:services.quant-api.sagemaker.endpointName: expected a SageMaker endpoint name",
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.what}`, () => {
      const problems = problemsAfter(c.edit);
      assert.ok(
        problems.some((p) => p.startsWith(c.expect)),
        `expected a problem starting with\n  ${c.expect}\ngot\n  ${problems.join("\n  ")}`,
      );
    });
  }

  it("reports every problem at once, not just the first", () => {
    const problems = problemsAfter((r) => {
      delete r["aws:region"];
      r["llm-platform:nodeGroups"].cpu.instanceTypes = [];
      r["llm-platform:network"].cidr = "nope";
    });
    assert.equal(problems.length, 3, problems.join("\n"));
  });

  it("stops the whole program before any resource is registered", async () => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    raw["llm-platform:nodeGroups"].gpu[0].instanceTypes = ["g5.2xlarge", "g6e.2xlarge"];
    const run = await runProgram("prod", raw);
    assert.ok(run.error instanceof ConfigError, `expected ConfigError, got ${String(run.error)}`);
    assert.match(
      String((run.error as Error).message),
      /llm-platform:nodeGroups\.gpu\[0\]\.instanceTypes\[1\]: expected the same shape/,
    );
    assert.deepEqual(run.resources, []);
  });
});

describe("config: parseCidr", () => {
  it("parses networks and rejects non-networks", () => {
    assert.deepEqual(parseCidr("10.20.0.0/16"), { base: 10 * 2 ** 24 + 20 * 2 ** 16, prefix: 16 });
    assert.equal(parseCidr("10.20.0.0/33"), undefined);
    assert.equal(parseCidr("256.0.0.0/8"), undefined);
    assert.equal(parseCidr("10.0.0.128/24"), undefined);
  });
});
