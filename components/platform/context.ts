import type * as pulumi from "@pulumi/pulumi";

/** What a cluster gives its IRSA roles: the OIDC provider and its issuer (host/path, no scheme). */
export interface OidcIdentity {
  readonly providerArn: pulumi.Input<string>;
  readonly issuer: pulumi.Input<string>;
}

/**
 * Where the platform runs in AWS, known from config and the account before any resource exists:
 * what the units built before the cluster (Network, Cluster) need. Built once in index.ts.
 */
export interface AwsContext {
  /** The stack (environment) name, used in labels such as Prometheus's `environment`. */
  readonly stack: string;
  /** EKS cluster name (chosen by config, so known before the cluster exists). */
  readonly clusterName: string;
  /** Prefix of every AWS name the platform creates (today equal to the cluster name). */
  readonly namePrefix: string;
  readonly region: string;
  /** AWS partition (`aws`, `aws-cn`, ...), for ARNs. */
  readonly partition: pulumi.Input<string>;
  readonly accountId: pulumi.Input<string>;
  /**
   * `pulumi destroy` deletes stored data with its container: ECR repositories with their images,
   * buckets with every object version (`llm-platform:destroyDeletesData`; on in dev, off in prod).
   */
  readonly destroyDeletesData: boolean;
}

/**
 * What every platform unit may need to know about where it runs, built once in index.ts right after
 * the cluster and handed to each unit as one object (as cdk-eks-blueprints hands its add-ons a
 * cluster context), instead of the same five values threaded through every constructor. Providers
 * are not in it: they travel through resource options (`providers`), so children inherit them from
 * their parent.
 */
export interface PlatformContext extends AwsContext {
  /** The cluster's OIDC provider, for IRSA trust policies. */
  readonly oidc: OidcIdentity;
  /** The VPC's CIDR (NetworkPolicies: nodes, load balancers, the control plane). */
  readonly vpcCidr: string;
  /** The cluster's Service CIDR (NetworkPolicies: the Kubernetes API's ClusterIP). */
  readonly serviceCidr: string;
  /**
   * The public subnets' CIDRs, where the internet-facing ALB's ENIs live: the only sources the
   * "load balancer -> pod" NetworkPolicies admit (pods, in the private subnets, are not among them).
   */
  readonly loadBalancerCidrs: pulumi.Input<string[]>;
  /** Where data buckets (services' buckets, observability stores) send S3 server access logs. */
  readonly dataBucketAccessLogs?: { readonly bucket: pulumi.Input<string> };
}
