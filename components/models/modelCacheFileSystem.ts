import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "../platform/policyDocument";

export interface ModelCacheFileSystemArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The nodes' security group (EKS's cluster security group): the only NFS clients admitted. */
  readonly nodeSecurityGroupId: pulumi.Input<string>;
  /** Private subnets, one per AZ; a mount target goes in each. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /** Number of AZs (plain, so the mount targets are known at preview). */
  readonly availabilityZones: number;
}

/**
 * The shared Hugging Face model cache: one regional (multi-AZ) EFS file system with a mount target in
 * every private subnet. Why EFS and not EBS: an EBS volume lives in one AZ, so a model cached on it
 * strands its pods when SPOT capacity leaves that AZ, and every node would download its own copy.
 * EFS is ReadWriteMany across all AZs and outlives every node: a model is downloaded once per
 * environment. Encrypted at rest (AWS-managed key) and in transit: the CSI driver mounts with TLS
 * (efs-utils' stunnel), and the file-system policy refuses any client that does not. NFS reaches the
 * mount targets only from the nodes' security group (the CSI node plugin mounts on the node).
 */
export class ModelCacheFileSystem extends pulumi.ComponentResource {
  readonly fileSystemId: pulumi.Output<string>;

  constructor(
    name: string,
    args: ModelCacheFileSystemArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("llmplatform:aws:ModelCacheFileSystem", name, {}, opts);
    const fs = fileSystem(name, this);
    new aws.efs.FileSystemPolicy(
      name,
      { fileSystemId: fs.id, policy: fs.arn.apply((arn) => JSON.stringify(tlsOnlyPolicy(arn))) },
      { parent: this },
    );
    const sg = nfsSecurityGroup(name, this, args.vpcId, args.nodeSecurityGroupId);
    mountTargets(name, this, fs.id, sg.id, args);
    this.fileSystemId = fs.id;
    this.registerOutputs({ fileSystemId: this.fileSystemId });
  }
}

/** The encrypted, elastic-throughput file system, colder files moved to IA, without backups. */
function fileSystem(name: string, parent: pulumi.Resource): aws.efs.FileSystem {
  const fs = new aws.efs.FileSystem(
    name,
    {
      encrypted: true,
      performanceMode: "generalPurpose",
      // Elastic throughput: model loads are bursts of GiB/s after long idle periods.
      throughputMode: "elastic",
      lifecyclePolicies: [
        { transitionToIa: "AFTER_30_DAYS" },
        { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" },
      ],
      tags: { Name: name },
    },
    { parent },
  );
  // A cache is re-downloadable: no AWS Backup charges for it.
  new aws.efs.BackupPolicy(
    name,
    { fileSystemId: fs.id, backupPolicy: { status: "DISABLED" } },
    { parent },
  );
  return fs;
}

/**
 * The file-system policy: refuse every request not made over TLS. Once a file system has a policy,
 * access is no longer implicitly allowed, and the CSI driver mounts without IAM authorization
 * (anonymously), so mounts through a mount target are allowed explicitly (what the AWS console's
 * "enforce in-transit encryption" setting writes, and terraform-aws-modules/efs).
 */
export function tlsOnlyPolicy(fileSystemArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: fileSystemArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "AllowMountsThroughMountTargets",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [
          "elasticfilesystem:ClientMount",
          "elasticfilesystem:ClientWrite",
          "elasticfilesystem:ClientRootAccess",
        ],
        Resource: fileSystemArn,
        Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
      },
    ],
  };
}

/** The mount targets' security group: NFS from the nodes' security group only. */
function nfsSecurityGroup(
  name: string,
  parent: pulumi.Resource,
  vpcId: pulumi.Input<string>,
  nodeSecurityGroupId: pulumi.Input<string>,
): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(
    `${name}-nfs`,
    {
      description: "NFS from the nodes to the model cache mount targets",
      vpcId,
      ingress: [
        {
          description: "NFS (TLS-wrapped by efs-utils) from the nodes",
          protocol: "tcp",
          fromPort: 2049,
          toPort: 2049,
          securityGroups: [nodeSecurityGroupId],
        },
      ],
      tags: { Name: `${name}-nfs` },
    },
    { parent },
  );
}

/** One mount target per AZ, in that AZ's private subnet, named by AZ number (`-az1`, `-az2`, ...). */
function mountTargets(
  name: string,
  parent: pulumi.Resource,
  fileSystemId: pulumi.Input<string>,
  securityGroupId: pulumi.Input<string>,
  args: Pick<ModelCacheFileSystemArgs, "privateSubnetIds" | "availabilityZones">,
): void {
  for (let i = 0; i < args.availabilityZones; i++) {
    new aws.efs.MountTarget(
      `${name}-az${i + 1}`,
      {
        fileSystemId,
        subnetId: pulumi.output(args.privateSubnetIds).apply((ids) => {
          const id = ids[i];
          if (!id) throw new Error(`no private subnet ${i + 1} of ${args.availabilityZones}`);
          return id;
        }),
        securityGroups: [securityGroupId],
      },
      { parent },
    );
  }
}
