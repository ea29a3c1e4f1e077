import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CpuNodeGroupConfig, GpuNodeGroupConfig } from "../config/platformConfig";
import type { PlatformContext } from "../platform/context";
import { nodeRoleName } from "../platform/scheduling";
import { awsManagedPolicyArn, ec2TrustPolicy } from "../lib/aws/iam";
import {
  autoscalerAsgTags,
  cpuNodeGroupSpec,
  gpuNodeGroupSpec,
  nodeUserData,
  type NodeGroupSpec,
} from "./nodeGroupSpecs";

/** The launch template's `userData` (base64), when the group needs any. */
function userDataOf(spec: NodeGroupSpec): { userData?: string } {
  const text = nodeUserData(spec);
  return text === undefined ? {} : { userData: Buffer.from(text, "utf8").toString("base64") };
}

/** Policies of the shared node role. The VPC CNI has its own IRSA role, so no CNI policy here. */
export const nodeRolePolicies = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEC2ContainerRegistryPullOnly",
  // Session Manager instead of SSH: no key pairs, no open port 22, every session audited.
  "AmazonSSMManagedInstanceCore",
];

export interface NodeGroupsArgs {
  /** The cluster's name (also in the autoscaler's ASG tag keys) and partition (policy ARNs). */
  readonly ctx: PlatformContext;
  /** Kubernetes minor of the nodes; follows the control plane when the config bumps it. */
  readonly kubernetesVersion: string;
  /** Private subnets, one per AZ. */
  readonly subnetIds: pulumi.Input<string[]>;
  readonly cpu: CpuNodeGroupConfig;
  readonly gpu: readonly GpuNodeGroupConfig[];
  /** What must exist before nodes join: the control plane and its networking add-ons. */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * EKS managed node groups: one on-demand CPU group and one SPOT group per GPU config entry. Each has
 * its own launch template (IMDSv2 only, no SSH key, encrypted gp3 root volume), ignores desired-size
 * drift (the cluster autoscaler owns it), and tags its Auto Scaling group for autoscaler discovery and
 * scale-from-zero.
 *
 * aws.eks.NodeGroup rather than eks.ManagedNodeGroup: the launch template is ours anyway, and the ASG
 * tags need the group's `resources` output, which the remote component returns only as a reference.
 */
export class NodeGroups extends pulumi.ComponentResource {
  /** The CPU group; Deployment-based add-ons wait for it. */
  readonly cpu: aws.eks.NodeGroup;
  /** Physical node group names by config key (`cpu`, then each GPU group's name). */
  readonly names: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: NodeGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:NodeGroups", name, {}, opts);

    const role = new aws.iam.Role(
      `${name}-node`,
      {
        name: nodeRoleName(args.ctx.clusterName),
        assumeRolePolicy: JSON.stringify(ec2TrustPolicy()),
      },
      { parent: this },
    );
    const attachments = nodeRolePolicies.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${policy}`,
          { role: role.name, policyArn: awsManagedPolicyArn(args.ctx.partition, policy) },
          { parent: this },
        ),
    );

    const create = (spec: NodeGroupSpec) =>
      this.nodeGroup(`${name}-${spec.key}`, spec, args, role.arn, [
        ...args.dependsOn,
        ...attachments,
      ]);

    this.cpu = create(cpuNodeGroupSpec(args.cpu));
    const gpu = args.gpu.map((g) => create(gpuNodeGroupSpec(g)));
    this.names = {
      cpu: this.cpu.nodeGroupName,
      ...Object.fromEntries(args.gpu.map((g, i) => [g.name, gpu[i]!.nodeGroupName])),
    };
    this.registerOutputs({ names: this.names });
  }

  private nodeGroup(
    name: string,
    spec: NodeGroupSpec,
    args: NodeGroupsArgs,
    roleArn: pulumi.Output<string>,
    dependsOn: pulumi.Resource[],
  ): aws.eks.NodeGroup {
    const template = new aws.ec2.LaunchTemplate(
      name,
      {
        description: `${args.ctx.clusterName} ${spec.key} nodes`,
        updateDefaultVersion: true,
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          // Hop limit 1: pods (one network hop away) cannot reach the instance role through IMDS; they get
          // AWS credentials only through IRSA. Host-network agents (vpc-cni, kube-proxy) are unaffected.
          httpPutResponseHopLimit: 1,
        },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda", // root device of the AL2023 EKS AMIs
            ebs: {
              volumeSize: spec.diskSizeGiB,
              volumeType: "gp3",
              // Image pulls of multi-GiB vLLM layers are throughput-bound (parallel pull writes at the
              // volume's rate); 3000 IOPS is the gp3 baseline and allows up to 750 MiB/s.
              iops: 3000,
              throughput: spec.rootVolumeThroughputMiBs,
              // The account's aws/ebs key: a customer key would also need a grant for the
              // Auto Scaling service-linked role, or instances fail to launch.
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        ...userDataOf(spec),
        tagSpecifications: ["instance", "volume"].map((resourceType) => ({
          resourceType,
          tags: { Name: `${args.ctx.clusterName}-${spec.key}` },
        })),
      },
      { parent: this },
    );

    const group = new aws.eks.NodeGroup(
      name,
      {
        clusterName: args.ctx.clusterName,
        nodeGroupNamePrefix: `${args.ctx.clusterName}-${spec.key}-`,
        version: args.kubernetesVersion,
        nodeRoleArn: roleArn,
        subnetIds: args.subnetIds,
        amiType: spec.amiType,
        capacityType: spec.capacityType,
        instanceTypes: [...spec.instanceTypes],
        scalingConfig: {
          minSize: spec.minSize,
          desiredSize: spec.desiredSize,
          maxSize: spec.maxSize,
        },
        updateConfig: { maxUnavailable: 1 },
        labels: { ...spec.labels },
        taints: spec.taints.map((t) => ({ ...t })),
        launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
      },
      {
        parent: this,
        dependsOn,
        // The cluster autoscaler changes desired size at run time; do not reset it on every `up`.
        ignoreChanges: ["scalingConfig.desiredSize"],
      },
    );

    const asgName = group.resources.apply((r) => {
      const asg = r[0]?.autoscalingGroups[0]?.name;
      if (!asg) throw new Error(`node group ${name} reports no Auto Scaling group`);
      return asg;
    });
    // EKS tags managed node group ASGs with the discovery pair (enabled, <cluster>=owned) itself; owning
    // those here would delete EKS's tags when a Tag resource is removed or renamed. The program owns
    // only the scale-from-zero template.
    const templateTags = Object.entries(autoscalerAsgTags(args.ctx.clusterName, spec)).filter(
      ([key]) => key.includes("/node-template/"),
    );
    for (const [key, value] of templateTags) {
      new aws.autoscaling.Tag(
        `${name}-asg-${key.replace(/^k8s\.io\/cluster-autoscaler\//, "").replace(/[^A-Za-z0-9.-]+/g, "-")}`,
        { autoscalingGroupName: asgName, tag: { key, value, propagateAtLaunch: false } },
        { parent: this },
      );
    }
    return group;
  }
}
