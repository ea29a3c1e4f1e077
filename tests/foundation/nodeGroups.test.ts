import * as assert from "node:assert/strict";
import { gpuInstanceShapes, shapeKey } from "../../components/platform/instanceTypes";
import { nodeRolePolicies } from "../../components/foundation/nodeGroups";
import {
  acceleratorLabel,
  autoscalerAsgTags,
  cpuNodeGroupSpec,
  gpuNodeGroupSpec,
  nodeUserData,
  type NodeGroupSpec,
} from "../../components/foundation/nodeGroupSpecs";
import { nodeGroupLabel } from "../../components/platform/scheduling";
import { registry } from "../../components/platform/registry";
import {
  parseConfig,
  type GpuNodeGroupConfig,
  type PlatformConfig,
} from "../../components/config/platformConfig";
import { gpuGroupWarnings, nodeGroupsSchema } from "../../components/config/foundation";
import { replicaRange, variantConfig } from "../../components/config/models";
import {
  cloneStackConfig,
  runProgram,
  runStack,
  stacks,
  type StackRun,
} from "../../verify/program";

const gpuTypes = Object.keys(gpuInstanceShapes);

const gpuGroup = (instanceTypes: string[], name = "inference"): GpuNodeGroupConfig => ({
  name,
  instanceTypes,
  minSize: 0,
  desiredSize: 0,
  maxSize: 4,
  diskSizeGiB: 200,
  fastImagePull: true,
  rootVolumeThroughputMiBs: 600,
});

const cpuGroup = { instanceTypes: ["m6i.xlarge"], minSize: 2, maxSize: 4 };

/** The warning a GPU group of one instance type gets (fewer SPOT capacity pools). */
const singleTypeWarning = (index: number, group: { name: string; instanceTypes: string[] }) =>
  `llm-platform:nodeGroups.gpu[${index}].instanceTypes: group ${group.name} has one instance type ` +
  `(${group.instanceTypes[0]}), which limits it to that type's SPOT capacity pools; add types of the ` +
  "same shape from components/platform/instanceTypes.ts where the family has them";

/** The node-groups config with these GPU groups: parsed (success) or its issues' paths and messages. */
function parseGroups(gpu: object[]) {
  const r = nodeGroupsSchema.safeParse({ cpu: cpuGroup, gpu });
  return r.success
    ? { ok: true as const, issues: [] }
    : {
        ok: false as const,
        issues: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      };
}

describe("node groups: the GPU shape rule follows the instance table", () => {
  it("accepts a single-type group of every GPU type, with a SPOT-capacity warning naming it", () => {
    for (const t of gpuTypes) {
      assert.deepEqual(parseGroups([gpuGroup([t])]).issues, [], t);
      const warnings = gpuGroupWarnings([gpuGroup([t])]);
      assert.equal(warnings.length, 1, t);
      assert.match(
        warnings[0]!,
        new RegExp(
          `^llm-platform:nodeGroups\\.gpu\\[0\\]\\.instanceTypes: group inference has one instance type \\(${t.replace(".", "\\.")}\\), which limits it to that type's SPOT capacity pools`,
        ),
      );
    }
  });

  it("accepts two types together exactly when their shapes are identical, and never warns then", () => {
    let accepted = 0;
    for (const a of gpuTypes) {
      for (const b of gpuTypes) {
        if (a === b) continue;
        const same = shapeKey(gpuInstanceShapes[a]!) === shapeKey(gpuInstanceShapes[b]!);
        const { ok, issues } = parseGroups([gpuGroup([a, b])]);
        assert.equal(ok, same, `${a} + ${b}: ${issues.join("; ")}`);
        if (!same)
          assert.match(issues[0]!, /^gpu\.0\.instanceTypes\.1: expected the same shape as/);
        if (same) assert.deepEqual(gpuGroupWarnings([gpuGroup([a, b])]), []);
        accepted += same ? 1 : 0;
      }
    }
    assert.ok(accepted > 0, "the table holds interchangeable families (G5 and G6)");
  });

  it("accepts several GPU groups of different families, each checked on its own", () => {
    const groups = [gpuGroup(["g5.xlarge", "g6.xlarge"]), gpuGroup(["p5.48xlarge"], "training")];
    assert.deepEqual(parseGroups(groups).issues, []);
    assert.deepEqual(
      gpuGroupWarnings(groups).map((w) => w.split(":")[1]),
      ["nodeGroups.gpu[1].instanceTypes"],
    );
    const mixed = [groups[0]!, gpuGroup(["g6e.xlarge", "g5.xlarge"], "training")];
    assert.deepEqual(parseGroups(mixed).issues.length, 1);
    assert.match(parseGroups(mixed).issues[0]!, /^gpu\.1\.instanceTypes\.1: /);
  });

  it("takes only Kubernetes-label-safe role names, unique, and not the CPU group's key", () => {
    for (const bad of ["Inference", "nvidia_24gb", "-gpu", "gpu-", "a".repeat(21), "cpu", "24gb"]) {
      assert.equal(parseGroups([gpuGroup(["g5.xlarge"], bad)]).ok, false, bad);
    }
    for (const good of ["inference", "batch-eval", "training2"]) {
      assert.equal(parseGroups([gpuGroup(["g5.xlarge"], good)]).ok, true, good);
    }
    assert.deepEqual(parseGroups([gpuGroup(["g5.xlarge"]), gpuGroup(["g6.xlarge"])]).issues, [
      "gpu.1.name: expected a unique group name",
    ]);
  });
});

describe("node groups: pure specs", () => {
  it("labels each group with its accelerator models, sorted", () => {
    for (const t of gpuTypes) {
      assert.equal(acceleratorLabel([t]), `nvidia-${gpuInstanceShapes[t]!.gpuModel}`);
    }
    assert.equal(acceleratorLabel(["g6.xlarge", "g5.xlarge"]), "nvidia-a10g-l4");
  });

  it("makes every GPU group SPOT on the NVIDIA AMI, tainted, labelled with its role and GPU count", () => {
    for (const t of gpuTypes) {
      const spec = gpuNodeGroupSpec(gpuGroup([t], "role-x"));
      assert.equal(spec.key, "role-x");
      assert.equal(spec.capacityType, "SPOT");
      assert.equal(spec.amiType, "AL2023_x86_64_NVIDIA");
      assert.deepEqual(spec.taints, [
        { key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" },
      ]);
      assert.deepEqual(spec.labels, {
        workload: "gpu",
        "k8s.amazonaws.com/accelerator": acceleratorLabel([t]),
        "nvidia.com/gpu.present": "true",
        [nodeGroupLabel]: "role-x",
      });
      assert.equal(spec.gpusPerNode, gpuInstanceShapes[t]!.gpus);
    }
  });

  it("makes the CPU group on-demand, untainted, labelled workload=cpu", () => {
    const spec = cpuNodeGroupSpec({ ...cpuGroup, desiredSize: 2, diskSizeGiB: 50 });
    assert.equal(spec.capacityType, "ON_DEMAND");
    assert.equal(spec.amiType, "AL2023_x86_64_STANDARD");
    assert.deepEqual(spec.taints, []);
    assert.deepEqual(spec.labels, { workload: "cpu", [nodeGroupLabel]: "cpu" });
  });

  it("describes every GPU group to the autoscaler: labels, taint, GPUs and disk, within ASG tag limits", () => {
    const prefix = "k8s.io/cluster-autoscaler";
    for (const t of gpuTypes) {
      for (const diskSizeGiB of [100, 200, 16384]) {
        const spec = gpuNodeGroupSpec({ ...gpuGroup([t]), diskSizeGiB });
        const tags = autoscalerAsgTags("llmplatform-staging", spec);
        const expected: Record<string, string> = {
          [`${prefix}/enabled`]: "true",
          [`${prefix}/llmplatform-staging`]: "owned",
          [`${prefix}/node-template/label/eks.amazonaws.com/capacityType`]: "SPOT",
          [`${prefix}/node-template/taint/nvidia.com/gpu`]: "true:NoSchedule",
          [`${prefix}/node-template/resources/nvidia.com/gpu`]: String(gpuInstanceShapes[t]!.gpus),
          [`${prefix}/node-template/resources/ephemeral-storage`]: `${diskSizeGiB}Gi`,
        };
        for (const [k, v] of Object.entries(spec.labels))
          expected[`${prefix}/node-template/label/${k}`] = v;
        assert.deepEqual(tags, expected, t);
        // Auto Scaling group tags: keys up to 128 characters, values up to 256.
        for (const [k, v] of Object.entries(tags)) assert.ok(k.length <= 128 && v.length <= 256);
      }
    }
  });

  it("turns on SOCI parallel pull through nodeadm on GPU groups that ask, in the MIME form EKS merges", () => {
    const spec = gpuNodeGroupSpec(gpuGroup(["g5.xlarge"]));
    assert.equal(spec.fastImagePull, true);
    assert.equal(spec.rootVolumeThroughputMiBs, 600);
    const text = nodeUserData(spec)!;
    const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
    const parts = text.split(`--${boundary}`);
    assert.equal(parts.length, 3, "one part between the boundaries, then the closing one");
    assert.match(parts[1]!, /^\nContent-Type: application\/node\.eks\.aws\n\n---\n/);
    assert.match(
      parts[1]!,
      /kind: NodeConfig\nspec:\n {2}featureGates:\n {4}FastImagePull: true\n/,
    );
    assert.equal(parts[2], "--\n");
    assert.equal(nodeUserData({ ...spec, fastImagePull: false }), undefined);
    assert.equal(
      nodeUserData(cpuNodeGroupSpec({ ...cpuGroup, desiredSize: 2, diskSizeGiB: 50 })),
      undefined,
    );
  });

  it("warns when parallel pull writes through less than the 600 MiB/s AWS advises, and caps gp3 at 750", () => {
    const g = { name: "x", instanceTypes: ["g5.xlarge", "g6.xlarge"] };
    assert.deepEqual(
      gpuGroupWarnings([{ ...g, fastImagePull: true, rootVolumeThroughputMiBs: 600 }]),
      [],
    );
    assert.deepEqual(
      gpuGroupWarnings([{ ...g, fastImagePull: false, rootVolumeThroughputMiBs: 125 }]),
      [],
    );
    const [w] = gpuGroupWarnings([{ ...g, fastImagePull: true, rootVolumeThroughputMiBs: 250 }]);
    assert.match(
      w!,
      /^llm-platform:nodeGroups\.gpu\[0\]\.rootVolumeThroughputMiBs: .*at least 600/,
    );
    const parsed = nodeGroupsSchema.safeParse({
      cpu: cpuGroup,
      gpu: [{ ...g, minSize: 0, maxSize: 1, rootVolumeThroughputMiBs: 1000 }],
    });
    assert.equal(parsed.success, false);
    assert.match(parsed.error.issues[0]!.message, /at most 750 MiB\/s/);
    assert.deepEqual(parsed.error.issues[0]!.path, ["gpu", 0, "rootVolumeThroughputMiBs"]);
  });

  it("gives the CPU group no GPU resource and no taint in its template", () => {
    const tags = autoscalerAsgTags(
      "c",
      cpuNodeGroupSpec({ ...cpuGroup, desiredSize: 2, diskSizeGiB: 50 }),
    );
    assert.ok(
      !Object.keys(tags).some((k) => k.includes("nvidia.com/gpu") || k.includes("/taint/")),
    );
  });
});

/** What the recorded node group, launch template and ASG tags of one group must say. */
function assertGroupResources(run: StackRun, prefix: string, spec: NodeGroupSpec): void {
  const name = `${prefix}-${spec.key}`;
  const ng = run.get("aws:eks/nodeGroup:NodeGroup", name).inputs;
  assert.equal(ng.clusterName, prefix);
  assert.equal(ng.nodeGroupNamePrefix, `${name}-`);
  assert.equal(ng.capacityType, spec.capacityType);
  assert.equal(ng.amiType, spec.amiType);
  assert.deepEqual(ng.instanceTypes, spec.instanceTypes);
  assert.deepEqual(ng.scalingConfig, {
    minSize: spec.minSize,
    desiredSize: spec.desiredSize,
    maxSize: spec.maxSize,
  });
  assert.deepEqual(ng.labels, spec.labels);
  assert.deepEqual(ng.taints ?? [], spec.taints);
  assert.deepEqual(ng.subnetIds, ["subnet-private-1", "subnet-private-2", "subnet-private-3"]);
  assert.deepEqual(ng.updateConfig, { maxUnavailable: 1 });
  assert.deepEqual(ng.launchTemplate, { id: `${name}-id`, version: "1" });
  assert.deepEqual(run.get("aws:eks/nodeGroup:NodeGroup", name).ignoreChanges, [
    "scalingConfig.desiredSize",
  ]);

  const lt = run.get("aws:ec2/launchTemplate:LaunchTemplate", name).inputs;
  assert.deepEqual(lt.metadataOptions, {
    httpEndpoint: "enabled",
    httpTokens: "required",
    httpPutResponseHopLimit: 1,
  });
  assert.equal(lt.keyName, undefined);
  assert.equal(lt.imageId, undefined);
  assert.deepEqual(lt.blockDeviceMappings, [
    {
      deviceName: "/dev/xvda",
      ebs: {
        volumeSize: spec.diskSizeGiB,
        volumeType: "gp3",
        iops: 3000,
        throughput: spec.rootVolumeThroughputMiBs,
        encrypted: "true",
        deleteOnTermination: "true",
      },
    },
  ]);
  // Parallel image pull is a nodeadm feature gate in the user data; without it the AMI's defaults.
  const userData = lt.userData && Buffer.from(lt.userData, "base64").toString("utf8");
  assert.equal(userData, nodeUserData(spec));
  assert.equal(/FastImagePull: true/.test(userData ?? ""), spec.fastImagePull);

  // The program owns the scale-from-zero template only; EKS adds the discovery pair itself.
  const tags = run
    .ofType("aws:autoscaling/tag:Tag")
    .filter((t) => t.inputs.autoscalingGroupName === `eks-${name}-asg`)
    .map((t) => t.inputs.tag);
  const expected = autoscalerAsgTags(prefix, spec);
  delete expected["k8s.io/cluster-autoscaler/enabled"];
  delete expected[`k8s.io/cluster-autoscaler/${prefix}`];
  assert.deepEqual(Object.fromEntries(tags.map((t) => [t.key, t.value])), expected);
  assert.equal(tags.length, Object.keys(expected).length, "one Tag resource per template tag");
  assert.ok(tags.every((t) => t.propagateAtLaunch === false));
}

describe("node groups: recorded resources follow the config", () => {
  for (const stack of stacks) {
    describe(stack, () => {
      const prefix = `llmplatform-${stack}`;
      let config: PlatformConfig;
      // Parsed in a hook, so a broken stack file fails these tests instead of stopping mocha at load.
      before(() => (config = parseConfig(cloneStackConfig(stack), stack)));

      it("creates the CPU group and every GPU group as their specs say, with launch templates and ASG tags", async () => {
        const run = await runStack(stack);
        assertGroupResources(run, prefix, cpuNodeGroupSpec(config.nodeGroups.cpu));
        for (const g of config.nodeGroups.gpu)
          assertGroupResources(run, prefix, gpuNodeGroupSpec(g));
        assert.equal(
          run.ofType("aws:eks/nodeGroup:NodeGroup").length,
          1 + config.nodeGroups.gpu.length,
        );
        for (const ng of run.ofType("aws:eks/nodeGroup:NodeGroup"))
          assert.equal(ng.inputs.version, config.cluster.kubernetesVersion);
      });

      it("shares one node role with least-privilege managed policies (no CNI policy: IRSA has it)", async () => {
        const run = await runStack(stack);
        const role = run.get("aws:iam/role:Role", `${prefix}-node`);
        assert.equal(role.inputs.name, `${prefix}-node`);
        assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement, [
          {
            Effect: "Allow",
            Principal: { Service: "ec2.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ]);
        const attached = run
          .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          .filter((a) => a.inputs.role === `${prefix}-node`)
          .map((a) => a.inputs.policyArn);
        assert.deepEqual(
          attached,
          nodeRolePolicies.map((p) => `arn:aws:iam::aws:policy/${p}`),
        );
        assert.ok(!attached.some((p) => p.includes("CNI")));
      });

      it("exports the node group names by key", async () => {
        const run = await runStack(stack);
        const keys = ["cpu", ...config.nodeGroups.gpu.map((g) => g.name)];
        assert.deepEqual(
          run.outputs.nodeGroupNames,
          Object.fromEntries(keys.map((k) => [k, `${prefix}-${k}-20261123`])),
        );
      });
    });
  }
});

describe("node groups: several GPU groups, variants placed per group", () => {
  it("creates each group and schedules each variant onto the group it names", async () => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    const prod = parseConfig(cloneStackConfig("prod"), "prod").models;
    const peak = (v: string) => replicaRange(variantConfig(prod, v)).max;
    const inference = raw["llm-platform:nodeGroups"].gpu[0];
    const variants = Object.keys(registry.models);
    // The judge moves to a group of its own sized for its peak; the first group keeps room for
    // exactly the peak of every other variant (all on the models-wide group).
    raw["llm-platform:models"].nodeGroup = inference.name;
    for (const v of variants) delete raw["llm-platform:models"].variants[v].nodeGroup;
    raw["llm-platform:nodeGroups"].gpu.push({
      ...inference,
      name: "judge",
      instanceTypes: ["g6e.2xlarge"],
      maxSize: peak("judge"),
    });
    inference.maxSize = variants.filter((v) => v !== "judge").reduce((n, v) => n + peak(v), 0);
    raw["llm-platform:models"].variants.judge.nodeGroup = "judge";
    const run = await runProgram("prod", raw);
    assert.equal(run.error, undefined, String(run.error));
    const config = parseConfig(raw, "prod");
    // The single-type judge group is warned about, and so is any other group of one type.
    assert.deepEqual(
      config.warnings.filter((w) => w.startsWith("llm-platform:nodeGroups.")),
      config.nodeGroups.gpu.flatMap((g, i) =>
        g.instanceTypes.length === 1 ? [singleTypeWarning(i, g)] : [],
      ),
    );
    assert.ok(config.warnings.includes(singleTypeWarning(1, config.nodeGroups.gpu[1]!)));
    for (const g of config.nodeGroups.gpu)
      assertGroupResources(run, "llmplatform-prod", gpuNodeGroupSpec(g));
    const groupOf = (v: string) =>
      run.get("kubernetes:apps/v1:Deployment", `vllm-${v}`).inputs.spec.template.spec.nodeSelector[
        nodeGroupLabel
      ];
    assert.deepEqual(
      variants.map(groupOf),
      variants.map((v) => (v === "judge" ? "judge" : inference.name)),
    );
  });
});
