import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ModelCacheFileSystemArgs {
  readonly vpcId: pulumi.Input<string>;
  readonly vpcCidr: string;
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
 * environment. Encrypted at rest (AWS-managed key) and in transit (the CSI driver mounts with TLS).
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
    const sg = nfsSecurityGroup(name, this, args.vpcId, args.vpcCidr);
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

/** The mount targets' security group: NFS from inside the VPC only. */
function nfsSecurityGroup(
  name: string,
  parent: pulumi.Resource,
  vpcId: pulumi.Input<string>,
  vpcCidr: string,
): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(
    `${name}-nfs`,
    {
      description: "NFS from the VPC to the model cache mount targets",
      vpcId,
      ingress: [
        {
          description: "NFS (TLS-wrapped by efs-utils)",
          protocol: "tcp",
          fromPort: 2049,
          toPort: 2049,
          cidrBlocks: [vpcCidr],
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
