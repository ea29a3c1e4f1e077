import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { kubernetesMinors, type AddonVersions, type KubernetesMinor } from "../platform/versions";
import { awsManagedPolicyArn } from "../lib/aws/iam";
import type { PlatformContext } from "../platform/context";
import type { Cluster } from "./cluster";
import { IrsaRole } from "../lib/aws/irsaRole";

/** One EKS managed add-on as this platform installs it. */
export interface AddonSpec {
  readonly name: keyof AddonVersions;
  readonly version: string;
  /** JSON configuration values (schema: `aws eks describe-addon-configuration`). */
  readonly configurationValues?: Record<string, unknown>;
  /** The add-on's controller service account, given an IRSA role with this AWS-managed policy. */
  readonly irsa?: {
    readonly namespace: string;
    readonly serviceAccount: string;
    readonly managedPolicy: string;
  };
}

/**
 * The EKS managed add-ons for a Kubernetes minor, split by when they can become healthy:
 * - `beforeNodes`: DaemonSets (vpc-cni, kube-proxy) are healthy with zero nodes, and nodes need them
 *   to become Ready, so they go right after the control plane.
 * - `afterNodes`: Deployments (CoreDNS, the EBS CSI controller) need a node to run on, so they go
 *   after the CPU node group; otherwise add-on creation waits until it times out.
 */
export function addonSpecs(minor: KubernetesMinor): {
  beforeNodes: AddonSpec[];
  afterNodes: AddonSpec[];
} {
  const v = kubernetesMinors[minor].addons;
  return {
    beforeNodes: [
      {
        name: "vpc-cni",
        version: v["vpc-cni"],
        // NetworkPolicy enforcement by the VPC CNI node agent (the value is a string in the add-on schema).
        configurationValues: { enableNetworkPolicy: "true" },
        // IRSA instead of the node role: pods on the node cannot borrow the CNI's EC2 permissions.
        irsa: {
          namespace: "kube-system",
          serviceAccount: "aws-node",
          managedPolicy: "AmazonEKS_CNI_Policy",
        },
      },
      { name: "kube-proxy", version: v["kube-proxy"] },
    ],
    afterNodes: [
      { name: "coredns", version: v.coredns },
      {
        name: "aws-ebs-csi-driver",
        version: v["aws-ebs-csi-driver"],
        irsa: {
          namespace: "kube-system",
          serviceAccount: "ebs-csi-controller-sa",
          managedPolicy: "service-role/AmazonEBSCSIDriverPolicy",
        },
      },
      // HPAs scale on the resource metrics API it serves; no AWS permissions needed.
      { name: "metrics-server", version: v["metrics-server"] },
      {
        name: "aws-efs-csi-driver",
        version: v["aws-efs-csi-driver"],
        irsa: {
          namespace: "kube-system",
          serviceAccount: "efs-csi-controller-sa",
          managedPolicy: "service-role/AmazonEFSCSIDriverPolicy",
        },
      },
    ],
  };
}

export interface EksAddonsArgs {
  /** OIDC (the IRSA roles' trust), partition (managed policy ARNs), name prefix (role names). */
  readonly ctx: PlatformContext;
  /**
   * The cluster, whose name as an Output of the control plane (unlike `ctx.clusterName`) makes every
   * add-on wait for the control plane.
   */
  readonly cluster: Pick<Cluster, "clusterName">;
  readonly addons: readonly AddonSpec[];
  /** Resources that must exist first (e.g. the CPU node group for Deployment-based add-ons). Default none. */
  readonly dependsOn?: pulumi.Resource[];
}

/**
 * A set of EKS managed add-ons. Conflicts are resolved with OVERWRITE so the add-on adopts the
 * self-managed copy EKS bootstrapped and the configuration here stays authoritative.
 */
export class EksAddons extends pulumi.ComponentResource {
  readonly addons: Record<string, aws.eks.Addon>;

  constructor(name: string, args: EksAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:EksAddons", name, {}, opts);
    this.addons = {};
    for (const spec of args.addons) {
      const role = spec.irsa
        ? new IrsaRole(
            `${name}-${spec.name}`,
            {
              oidc: args.ctx.oidc,
              namespace: spec.irsa.namespace,
              serviceAccount: spec.irsa.serviceAccount,
              roleName: `${args.ctx.namePrefix}-${spec.name}-irsa`,
              managedPolicyArns: {
                [policyKey(spec.irsa.managedPolicy)]: awsManagedPolicyArn(
                  args.ctx.partition,
                  spec.irsa.managedPolicy,
                ),
              },
            },
            { parent: this },
          )
        : undefined;
      this.addons[spec.name] = new aws.eks.Addon(
        `${name}-${spec.name}`,
        {
          clusterName: args.cluster.clusterName,
          addonName: spec.name,
          addonVersion: spec.version,
          configurationValues: spec.configurationValues
            ? JSON.stringify(spec.configurationValues)
            : undefined,
          serviceAccountRoleArn: role?.roleArn,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
        },
        // The role's policy attachment must exist before the add-on's pods first call AWS.
        { parent: this, dependsOn: [...(args.dependsOn ?? []), ...(role ? [role] : [])] },
      );
    }
    this.registerOutputs({});
  }
}

/** `service-role/AmazonEBSCSIDriverPolicy` -> `amazonebscsidriverpolicy` (a stable child name). */
function policyKey(policy: string): string {
  return (policy.split("/").pop() ?? policy).toLowerCase().replace(/_/g, "-");
}
