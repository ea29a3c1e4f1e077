import * as assert from "node:assert/strict";
import { gpuInstanceShapes } from "../components/aws/gpuInstances";
import { nodeRolePolicies } from "../components/aws/nodeGroups";
import {
  acceleratorLabel,
  autoscalerAsgTags,
  cpuNodeGroupSpec,
  gpuNodeGroupSpec,
} from "../components/aws/nodeGroupSpecs";
import { runStack, stacks } from "./harness";

const gpuGroup = {
  name: "nvidia-24gb",
  instanceTypes: ["g5.xlarge", "g6.xlarge"],
  minSize: 0,
  desiredSize: 0,
  maxSize: 4,
  diskSizeGiB: 200,
};

describe("node groups: pure specs", () => {
  it("knows the shapes the autoscaler compares", () => {
    assert.deepEqual(gpuInstanceShapes["g5.xlarge"], {
      vcpu: 4,
      memoryGiB: 16,
      gpus: 1,
      gpuMemoryGiB: 24,
      gpuModel: "a10g",
    });
    assert.deepEqual(gpuInstanceShapes["g6.12xlarge"], {
      vcpu: 48,
      memoryGiB: 192,
      gpus: 4,
      gpuMemoryGiB: 24,
      gpuModel: "l4",
    });
    assert.deepEqual(gpuInstanceShapes["g6e.xlarge"], {
      vcpu: 4,
      memoryGiB: 32,
      gpus: 1,
      gpuMemoryGiB: 48,
      gpuModel: "l40s",
    });
  });

  it("names the accelerator class of a group", () => {
    assert.equal(acceleratorLabel(["g5.xlarge"]), "nvidia-a10g");
    assert.equal(acceleratorLabel(["g6.xlarge", "g5.xlarge"]), "nvidia-a10g-l4");
  });

  it("makes GPU groups SPOT on the NVIDIA AMI, tainted and labelled", () => {
    const spec = gpuNodeGroupSpec(gpuGroup);
    assert.equal(spec.capacityType, "SPOT");
    assert.equal(spec.amiType, "AL2023_x86_64_NVIDIA");
    assert.deepEqual(spec.taints, [
      { key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" },
    ]);
    assert.deepEqual(spec.labels, {
      workload: "gpu",
      "k8s.amazonaws.com/accelerator": "nvidia-a10g-l4",
      "nvidia.com/gpu.present": "true",
      "llmplatform.io/node-group": "nvidia-24gb",
    });
    assert.equal(spec.gpusPerNode, 1);
  });

  it("makes the CPU group on-demand, untainted, labelled workload=cpu", () => {
    const spec = cpuNodeGroupSpec({
      instanceTypes: ["m6i.xlarge"],
      minSize: 2,
      desiredSize: 2,
      maxSize: 4,
      diskSizeGiB: 50,
    });
    assert.equal(spec.capacityType, "ON_DEMAND");
    assert.equal(spec.amiType, "AL2023_x86_64_STANDARD");
    assert.deepEqual(spec.taints, []);
    assert.deepEqual(spec.labels, { workload: "cpu", "llmplatform.io/node-group": "cpu" });
  });

  it("derives the autoscaler discovery and scale-from-zero tags from the group", () => {
    assert.deepEqual(autoscalerAsgTags("llmplatform-dev", gpuNodeGroupSpec(gpuGroup)), {
      "k8s.io/cluster-autoscaler/enabled": "true",
      "k8s.io/cluster-autoscaler/llmplatform-dev": "owned",
      "k8s.io/cluster-autoscaler/node-template/label/workload": "gpu",
      "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator":
        "nvidia-a10g-l4",
      "k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.present": "true",
      "k8s.io/cluster-autoscaler/node-template/label/llmplatform.io/node-group": "nvidia-24gb",
      "k8s.io/cluster-autoscaler/node-template/label/eks.amazonaws.com/capacityType": "SPOT",
      "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
      "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage": "200Gi",
    });
    const fourGpus = gpuNodeGroupSpec({
      ...gpuGroup,
      instanceTypes: ["g5.12xlarge", "g6.12xlarge"],
    });
    assert.equal(
      autoscalerAsgTags("c", fourGpus)[
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"
      ],
      "4",
    );
  });
});

describe("node groups: recorded resources", () => {
  for (const stack of stacks) {
    describe(stack, () => {
      const prefix = `llmplatform-${stack}`;
      const gpuName = `${prefix}-nvidia-24gb`;

      it("creates the CPU group on demand in private subnets", async () => {
        const run = await runStack(stack);
        const ng = run.get("aws:eks/nodeGroup:NodeGroup", `${prefix}-cpu`);
        assert.equal(ng.inputs.clusterName, prefix);
        assert.equal(ng.inputs.nodeGroupNamePrefix, `${prefix}-cpu-`);
        assert.equal(ng.inputs.version, "1.35");
        assert.equal(ng.inputs.capacityType, "ON_DEMAND");
        assert.equal(ng.inputs.amiType, "AL2023_x86_64_STANDARD");
        assert.deepEqual(
          ng.inputs.instanceTypes,
          stack === "dev" ? ["m6i.xlarge"] : ["m6i.2xlarge"],
        );
        assert.deepEqual(
          ng.inputs.scalingConfig,
          stack === "dev"
            ? { minSize: 2, desiredSize: 2, maxSize: 4 }
            : { minSize: 3, desiredSize: 3, maxSize: 9 },
        );
        assert.deepEqual(ng.inputs.subnetIds, [
          "subnet-private-1",
          "subnet-private-2",
          "subnet-private-3",
        ]);
        assert.deepEqual(ng.inputs.labels, { workload: "cpu", "llmplatform.io/node-group": "cpu" });
        assert.deepEqual(ng.inputs.taints ?? [], []);
        assert.deepEqual(ng.inputs.updateConfig, { maxUnavailable: 1 });
        assert.deepEqual(ng.ignoreChanges, ["scalingConfig.desiredSize"]);
      });

      it("creates the SPOT GPU group with taint, labels, NVIDIA AMI and scale-from-zero sizing", async () => {
        const run = await runStack(stack);
        const ng = run.get("aws:eks/nodeGroup:NodeGroup", gpuName);
        assert.equal(ng.inputs.capacityType, "SPOT");
        assert.equal(ng.inputs.amiType, "AL2023_x86_64_NVIDIA");
        assert.deepEqual(
          ng.inputs.instanceTypes,
          stack === "dev" ? ["g5.xlarge", "g6.xlarge"] : ["g5.2xlarge", "g6.2xlarge"],
        );
        assert.deepEqual(ng.inputs.taints, [
          { key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" },
        ]);
        assert.deepEqual(ng.inputs.labels, {
          workload: "gpu",
          "k8s.amazonaws.com/accelerator": "nvidia-a10g-l4",
          "nvidia.com/gpu.present": "true",
          "llmplatform.io/node-group": "nvidia-24gb",
        });
        assert.deepEqual(
          ng.inputs.scalingConfig,
          stack === "dev"
            ? { minSize: 0, desiredSize: 0, maxSize: 4 }
            : { minSize: 0, desiredSize: 0, maxSize: 8 },
        );
        assert.deepEqual(ng.inputs.launchTemplate, { id: `${gpuName}-id`, version: "1" });
        assert.deepEqual(ng.ignoreChanges, ["scalingConfig.desiredSize"]);
      });

      it("launches nodes with IMDSv2 only (hop limit 1), no SSH key and an encrypted gp3 root volume", async () => {
        const run = await runStack(stack);
        for (const [key, size] of [
          ["cpu", stack === "dev" ? 50 : 100],
          ["nvidia-24gb", 200],
        ] as const) {
          const lt = run.get("aws:ec2/launchTemplate:LaunchTemplate", `${prefix}-${key}`).inputs;
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
                volumeSize: size,
                volumeType: "gp3",
                iops: 3000,
                throughput: 250,
                encrypted: "true",
                deleteOnTermination: "true",
              },
            },
          ]);
        }
      });

      it("tags the GPU Auto Scaling group with the scale-from-zero template (EKS adds the discovery pair)", async () => {
        const run = await runStack(stack);
        const tags = run
          .ofType("aws:autoscaling/tag:Tag")
          .filter((t) => t.inputs.autoscalingGroupName === `eks-${gpuName}-asg`)
          .map((t) => t.inputs.tag);
        const expected = autoscalerAsgTags(
          prefix,
          gpuNodeGroupSpec({
            ...gpuGroup,
            instanceTypes:
              stack === "dev" ? ["g5.xlarge", "g6.xlarge"] : ["g5.2xlarge", "g6.2xlarge"],
          }),
        );
        delete expected["k8s.io/cluster-autoscaler/enabled"];
        delete expected[`k8s.io/cluster-autoscaler/${prefix}`];
        assert.deepEqual(Object.fromEntries(tags.map((t) => [t.key, t.value])), expected);
        assert.equal(tags.length, 8);
        assert.ok(tags.every((t) => t.propagateAtLaunch === false));
        const cpuTags = run
          .ofType("aws:autoscaling/tag:Tag")
          .filter((t) => t.inputs.autoscalingGroupName === `eks-${prefix}-cpu-asg`);
        assert.equal(cpuTags.length, 4);
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
        assert.deepEqual(run.outputs.nodeGroupNames, {
          cpu: `${prefix}-cpu-20261123`,
          "nvidia-24gb": `${gpuName}-20261123`,
        });
      });
    });
  }
});
