import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AccessEntryConfig, AccessPolicy, ClusterConfig } from "../config/platformConfig";
import type { AwsContext } from "../platform/context";
import { awsProviderOf } from "../lib/aws/iam";
import type { OidcIdentity } from "../platform/context";
import type { Network } from "./network";

/**
 * The Services' ClusterIP range, fixed rather than chosen by EKS, so NetworkPolicies can name the
 * Kubernetes API's service address (config validation keeps the VPC out of it).
 */
export const serviceCidr = "172.20.0.0/16";

/** Every EKS control-plane log type: audits and authenticator logs are what incident reviews need. */
export const controlPlaneLogTypes = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
];

const accessPolicyNames: Record<AccessPolicy, string> = {
  "cluster-admin": "AmazonEKSClusterAdminPolicy",
  admin: "AmazonEKSAdminPolicy",
  edit: "AmazonEKSEditPolicy",
  view: "AmazonEKSViewPolicy",
};

/**
 * EKS access entries for the configured principals, keyed by a stable name derived from the ARN
 * (account + principal path), so reordering the config list never replaces an entry.
 */
export function accessEntries(
  entries: readonly AccessEntryConfig[],
  partition: pulumi.Input<string>,
): Record<string, eks.types.input.AccessEntryArgs> {
  return Object.fromEntries(
    entries.map((e) => {
      const [, , , , account, resource] = e.principalArn.split(":");
      const key = `${account}-${resource}`.replace(/[^A-Za-z0-9-]+/g, "-").toLowerCase();
      const scope = e.namespaces
        ? { type: "namespace", namespaces: [...e.namespaces] }
        : { type: "cluster" };
      return [
        key,
        {
          principalArn: e.principalArn,
          accessPolicies: {
            [e.policy]: {
              policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${accessPolicyNames[e.policy]}`,
              accessScope: scope,
            },
          },
        },
      ];
    }),
  );
}

export interface ClusterArgs {
  /** The cluster's name (physical EKS name) and partition (access policy ARNs). */
  readonly ctx: AwsContext;
  /** Version, endpoint access, access entries, logging and upgrade policy (defaulted by config). */
  readonly cluster: ClusterConfig;
  /** Where it runs: nodes and the control plane's ENIs live in the private subnets. */
  readonly network: Pick<Network, "vpcId" | "publicSubnetIds" | "privateSubnetIds">;
}

/**
 * The EKS control plane: API-only authentication with access entries, an IAM OIDC provider for IRSA,
 * secrets envelope-encrypted with a rotating customer KMS key, all control-plane logs with retention,
 * no default node group, and the one kubernetes Provider every in-cluster resource uses.
 *
 * Add-ons are not managed here (pulumi-eks only manages CoreDNS with its default node group, and its
 * VPC CNI options cannot take an IRSA role from the cluster's own OIDC provider): see addons.ts.
 */
export class Cluster extends pulumi.ComponentResource {
  /** Resolves once the control plane exists; use it to order resources after the cluster. */
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidc: OidcIdentity & {
    readonly providerArn: pulumi.Output<string>;
    readonly issuer: pulumi.Output<string>;
  };
  /** The kubernetes Provider for everything in-cluster. */
  readonly provider: k8s.Provider;
  /**
   * The managed nodes' security group: EKS's cluster security group (managed node groups use it;
   * pulumi-eks's own groups are skipped).
   */
  readonly nodeSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:Cluster", name, {}, opts);
    const clusterName = args.ctx.clusterName;
    const secretsKey = secretsEncryptionKey(name, this, clusterName);
    const logs = controlPlaneLogGroup(name, this, clusterName, args.cluster.logRetentionDays);
    const cluster = eksCluster(name, this, args, secretsKey.arn, logs);

    this.clusterName = cluster.eksCluster.name;
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.oidc = { providerArn: cluster.oidcProviderArn, issuer: cluster.oidcIssuer };
    this.nodeSecurityGroupId = cluster.nodeSecurityGroupId;
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig },
      { parent: this },
    );

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidc.providerArn,
    });
  }
}

/** The customer KMS key (rotating, with an alias) that envelope-encrypts the cluster's Secrets. */
function secretsEncryptionKey(
  name: string,
  parent: pulumi.Resource,
  clusterName: string,
): aws.kms.Key {
  const key = new aws.kms.Key(
    `${name}-secrets`,
    {
      description: `EKS secrets envelope encryption for ${clusterName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    },
    { parent },
  );
  new aws.kms.Alias(
    `${name}-secrets`,
    { name: `alias/${clusterName}-eks-secrets`, targetKeyId: key.keyId },
    { parent },
  );
  return key;
}

/**
 * The log group EKS writes control-plane logs to. EKS would create it itself, with "never expire";
 * creating it first (under the name EKS uses) gives the logs a retention.
 */
function controlPlaneLogGroup(
  name: string,
  parent: pulumi.Resource,
  clusterName: string,
  retentionInDays: number,
): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    `${name}-control-plane`,
    { name: `/aws/eks/${clusterName}/cluster`, retentionInDays },
    { parent },
  );
}

/** The pulumi-eks cluster: control plane only (no default node group, add-ons in addons.ts). */
function eksCluster(
  name: string,
  parent: pulumi.Resource,
  args: ClusterArgs,
  secretsKeyArn: pulumi.Input<string>,
  logs: aws.cloudwatch.LogGroup,
): eks.Cluster {
  const c = args.cluster;
  return new eks.Cluster(
    `${name}-eks`,
    {
      name: args.ctx.clusterName,
      version: c.kubernetesVersion,
      vpcId: args.network.vpcId,
      publicSubnetIds: args.network.publicSubnetIds,
      privateSubnetIds: args.network.privateSubnetIds,
      nodeAssociatePublicIpAddress: false,
      endpointPublicAccess: c.endpoint.publicAccess,
      endpointPrivateAccess: c.endpoint.privateAccess,
      ...(c.endpoint.publicAccess ? { publicAccessCidrs: [...c.endpoint.publicAccessCidrs] } : {}),
      kubernetesServiceIpAddressRange: serviceCidr,
      authenticationMode: eks.AuthenticationMode.Api,
      accessEntries: accessEntries(c.accessEntries, args.ctx.partition),
      createOidcProvider: true,
      encryptionConfigKeyArn: secretsKeyArn,
      enabledClusterLogTypes: controlPlaneLogTypes,
      skipDefaultNodeGroup: true,
      // Managed node groups use the EKS-created cluster security group; the extra groups
      // pulumi-eks makes are for self-managed nodes.
      skipDefaultSecurityGroups: true,
      // The EKS-bootstrapped vpc-cni, kube-proxy and CoreDNS are adopted as managed add-ons in addons.ts.
      useDefaultVpcCni: true,
      kubeProxyAddonOptions: { enabled: false },
      corednsAddonOptions: { enabled: false },
      upgradePolicy: { supportType: c.upgradeSupport },
      deletionProtection: c.deletionProtection,
    },
    // A remote component: it takes the AWS provider explicitly instead of inheriting it.
    { parent, providers: awsProviderOf(parent), dependsOn: [logs] },
  );
}
