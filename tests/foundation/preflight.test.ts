/**
 * The preflight `pulumi preview` runs before anything costly: the account's EC2 vCPU quotas and the
 * region's instance type offerings, read through mocked invokes whose answers each test sets
 * (verify/program.ts `MockAccount`). The decisions are pure functions, tested directly first.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  nodeGroupSpecs,
  offeringFindings,
  preflightKeys,
  quotaFindings,
  quotaIncreaseCommand,
  quotaNeeds,
  skipCheckCommand,
} from "../../components/foundation/preflight";
import { parseConfig } from "../../components/config/platformConfig";
import { cpuNodeGroupSpec, gpuNodeGroupSpec } from "../../components/foundation/nodeGroupSpecs";
import { instanceShapes } from "../../components/platform/instanceTypes";
import { vcpuQuotas } from "../../components/platform/serviceQuotas";
import {
  cloneStackConfig,
  configProblems,
  runProgram,
  runStack,
  stackConfig,
  stacks,
} from "../../verify/program";

const gpuGroup = (name: string, instanceTypes: string[], desiredSize = 0, maxSize = 4) =>
  gpuNodeGroupSpec({
    name,
    instanceTypes,
    minSize: 0,
    desiredSize,
    maxSize,
    diskSizeGiB: 200,
    fastImagePull: true,
    rootVolumeThroughputMiBs: 600,
  });
const cpuGroup = (instanceTypes: string[], desiredSize: number, maxSize: number) =>
  cpuNodeGroupSpec({ instanceTypes, minSize: desiredSize, desiredSize, maxSize, diskSizeGiB: 50 });

describe("preflight: which quota each node group draws on", () => {
  it("maps every instance family to its vCPU quota by purchase option: On-Demand CPU, SPOT GPU", () => {
    const needs = quotaNeeds([
      cpuGroup(["m6i.xlarge"], 2, 4),
      gpuGroup("inference", ["g5.xlarge", "g6.xlarge"]),
      gpuGroup("big", ["p4d.24xlarge"], 0, 1),
      gpuGroup("h100", ["p5.48xlarge"], 0, 1),
    ]);
    assert.deepEqual(
      needs.map((n) => [n.quota.code, n.draws.map((d) => d.group)]),
      [
        ["L-1216C47A", ["cpu"]], // Running On-Demand Standard
        ["L-3819A6DF", ["inference"]], // All G and VT Spot
        ["L-7212CCBC", ["big"]], // All P4, P3 and P2 Spot
        ["L-C4BD4855", ["h100"]], // All P5 Spot
      ],
    );
  });

  it("needs the group's first nodes (at least one) and its maxSize, in vCPUs; groups on one quota add up", () => {
    const [cpu, gpu] = quotaNeeds([
      cpuGroup(["m6i.xlarge", "m6i.2xlarge"], 2, 4),
      gpuGroup("a", ["g5.xlarge"], 0, 4),
      gpuGroup("b", ["g6e.2xlarge"], 1, 2),
    ]);
    // CPU: its largest type (8 vCPUs) for the 2 nodes it starts with, and for 4.
    assert.deepEqual([cpu!.first, cpu!.max], [16, 32]);
    // GPU: a needs one 4-vCPU node to place its first model (desired 0), b its one 8-vCPU node.
    assert.deepEqual([gpu!.first, gpu!.max], [4 + 8, 16 + 16]);
  });

  it("knows a quota for every instance type the config accepts, in both purchase options", () => {
    for (const [type, shape] of Object.entries(instanceShapes)) {
      for (const option of ["ON_DEMAND", "SPOT"] as const)
        assert.match(vcpuQuotas[shape.quotaGroup][option].code, /^L-[0-9A-F]{8}$/, type);
    }
  });
});

describe("preflight: the switches", () => {
  it("tells how to switch a check off with a command that works: --path into llm-platform:nodeGroups", () => {
    for (const key of Object.values(preflightKeys)) {
      assert.equal(skipCheckCommand(key), `pulumi config set --path '${key}' false`);
      // What `pulumi config set` without --path would store: a top-level key, refused as unknown.
      assert.deepEqual(
        configProblems("dev", (r) => (r[key] = "false")),
        [`${key}: unknown key (check its spelling)`],
      );
      // What it stores with --path: the field, which switches the check off.
      const off = cloneStackConfig("dev") as Record<string, any>;
      const field = key.split(".").at(-1) as keyof typeof preflightKeys;
      off["llm-platform:nodeGroups"].preflight = { [field]: false };
      assert.equal(parseConfig(off, "dev").nodeGroups.preflight[field], false);
    }
  });
});

describe("preflight: what the quotas mean for the deployment", () => {
  const needs = quotaNeeds([gpuGroup("inference", ["g5.xlarge", "g6.xlarge"], 0, 4)]);
  const code = "L-3819A6DF";

  it("fails when the quota cannot hold one node, naming group, quota, vCPUs and the request command", () => {
    const f = quotaFindings(needs, { [code]: 0 }, "eu-west-1");
    assert.deepEqual(f.warnings, []);
    assert.equal(f.errors.length, 1);
    const e = f.errors[0]!;
    for (const part of [
      'EC2 quota L-3819A6DF "All G and VT Spot Instance Requests" in eu-west-1 is 0 vCPUs',
      "node group inference (SPOT g5.xlarge/g6.xlarge, 4 vCPUs a node) needs 4 vCPUs for one node and 16 for its maxSize 4",
      "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-3819A6DF --desired-value 16 --region eu-west-1",
      "To deploy without this check, e.g. without servicequotas:GetServiceQuota: pulumi config set --path 'llm-platform:nodeGroups.preflight.serviceQuotas' false",
    ])
      assert.ok(e.includes(part), `${part}\nnot in\n${e}`);
  });

  it("warns when it holds the first node but not maxSize, and is silent when it holds maxSize", () => {
    const one = quotaFindings(needs, { [code]: 4 }, "eu-west-1");
    assert.deepEqual(one.errors, []);
    assert.equal(one.warnings.length, 1);
    assert.match(one.warnings[0]!, /covers 4 of the 16 vCPUs at maxSize/);
    assert.ok(
      one.warnings[0]!.includes(quotaIncreaseCommand(vcpuQuotas["g-vt"].SPOT, 16, "eu-west-1")),
    );
    assert.deepEqual(quotaFindings(needs, { [code]: 16 }, "eu-west-1"), {
      errors: [],
      warnings: [],
    });
  });

  it("fails a CPU group a new account's default Standard quota (5 vCPUs) cannot start", () => {
    const cpu = quotaNeeds([cpuGroup(["m6i.xlarge"], 2, 4)]);
    const f = quotaFindings(
      cpu,
      { "L-1216C47A": vcpuQuotas.standard.ON_DEMAND.awsDefault },
      "us-west-2",
    );
    assert.equal(f.errors.length, 1);
    assert.ok(
      f.errors[0]!.includes(
        "needs 8 vCPUs for the 2 nodes it starts with and 16 for its maxSize 4",
      ),
    );
  });

  it("fails for instance types the region does not offer, naming the key and what to keep", () => {
    const specs = nodeGroupSpecs({
      cpu: {
        instanceTypes: ["m6i.xlarge"],
        minSize: 2,
        desiredSize: 2,
        maxSize: 4,
        diskSizeGiB: 50,
      },
      gpu: [
        {
          name: "inference",
          instanceTypes: ["g5.xlarge", "g6.xlarge"],
          minSize: 0,
          desiredSize: 0,
          maxSize: 4,
          diskSizeGiB: 200,
          fastImagePull: true,
          rootVolumeThroughputMiBs: 600,
        },
      ],
    });
    const f = offeringFindings(specs, new Set(["m6i.xlarge", "g5.xlarge"]), "eu-west-1");
    assert.equal(f.errors.length, 1);
    assert.match(
      f.errors[0]!,
      /^llm-platform:nodeGroups\.gpu\[0\]\.instanceTypes: g6\.xlarge is not offered in eu-west-1; remove it \(g5\.xlarge is offered\)\. To deploy without this check: pulumi config set --path 'llm-platform:nodeGroups\.preflight\.instanceTypeOfferings' false$/,
    );
    assert.match(
      offeringFindings(specs, new Set(["g5.xlarge", "g6.xlarge"]), "x").errors[0]!,
      /^llm-platform:nodeGroups\.cpu\.instanceTypes: m6i\.xlarge is not offered in x; choose types the region offers/,
    );
    assert.deepEqual(
      offeringFindings(specs, new Set(["m6i.xlarge", "g5.xlarge", "g6.xlarge"]), "x").errors,
      [],
    );
  });
});

describe("preflight: the program under a mocked account", () => {
  const dev = () => stackConfig("dev");
  const gpuQuota = vcpuQuotas["g-vt"].SPOT.code;

  it("stops a preview in an account with 0 GPU quota before registering anything but the AWS provider", async () => {
    const run = await runProgram("dev", undefined, { serviceQuotas: { [gpuQuota]: 0 } });
    assert.ok(run.error, "the run must fail");
    assert.ok(
      pulumi.RunError.isInstance(run.error),
      "a RunError prints its message, no stack trace",
    );
    assert.match(run.error.message, /^Preflight found 1 problem before anything was created:/);
    assert.ok(run.error.message.includes(`EC2 quota ${gpuQuota}`));
    assert.ok(run.error.message.includes(`node group ${dev().nodeGroups.gpu[0]!.name}`));
    assert.deepEqual(
      run.resources.map((r) => r.type),
      ["pulumi:providers:aws"],
    );
  });

  it("deploys with a warning when the GPU quota holds one node but not maxSize; a switched-off check reads nothing", async () => {
    const group = dev().nodeGroups.gpu[0]!;
    const vcpu = instanceShapes[group.instanceTypes[0]!]!.vcpu;
    // The offerings check is off, so a type the region lacks and a refused ec2 read pass unnoticed.
    const raw = cloneStackConfig("dev") as Record<string, any>;
    raw["llm-platform:nodeGroups"].preflight = { instanceTypeOfferings: false };
    const run = await runProgram("dev", raw, {
      serviceQuotas: { [gpuQuota]: vcpu },
      notOffered: group.instanceTypes,
      denied: ["ec2"],
    });
    assert.equal(run.error, undefined);
    const warnings = run.warnings.filter((w) => w.startsWith("preflight: "));
    assert.equal(warnings.length, 1);
    assert.ok(
      warnings[0]!.includes(`covers ${vcpu} of the ${group.maxSize * vcpu} vCPUs at maxSize`),
    );
  });

  for (const stack of stacks) {
    it(`${stack}: deploys without a preflight warning when the quotas hold every group at maxSize`, async () => {
      const run = await runStack(stack);
      assert.deepEqual(
        run.warnings.filter((w) => w.startsWith("preflight: ")),
        [],
      );
    });
  }

  it("explains a refused read (no permission) and how to skip the check", async () => {
    const denied = await runProgram("dev", undefined, { denied: ["servicequotas", "ec2"] });
    assert.match(
      denied.error?.message ?? "",
      /could not read the EC2 vCPU Service Quotas \(.*AccessDeniedException.*\); grant servicequotas:GetServiceQuota and servicequotas:GetAWSDefaultServiceQuota .* or skip the check: pulumi config set --path 'llm-platform:nodeGroups\.preflight\.serviceQuotas' false/,
    );
    assert.match(
      denied.error!.message,
      /grant ec2:DescribeInstanceTypeOfferings .* or skip the check: pulumi config set --path 'llm-platform:nodeGroups\.preflight\.instanceTypeOfferings' false/,
    );
    // With the quota check off, a 0 quota and a refused quota read go unnoticed.
    const raw = cloneStackConfig("dev") as Record<string, any>;
    raw["llm-platform:nodeGroups"].preflight = { serviceQuotas: false };
    const type = dev().nodeGroups.gpu[0]!.instanceTypes[0]!;
    const off = await runProgram("dev", raw, {
      denied: ["servicequotas"],
      serviceQuotas: { [gpuQuota]: 0 },
      notOffered: [type],
    });
    assert.match(
      off.error?.message ?? "",
      /^Preflight found 1 problem before anything was created:/,
    );
    assert.ok(off.error!.message.includes(`${type} is not offered`));
  });

  it("stops a preview in a region that does not offer a group's instance type", async () => {
    const type = dev().nodeGroups.gpu[0]!.instanceTypes.at(-1)!;
    const run = await runProgram("dev", undefined, { notOffered: [type] });
    assert.match(
      run.error?.message ?? "",
      new RegExp(`${type.replace(".", "\\.")} is not offered in`),
    );
  });
});
