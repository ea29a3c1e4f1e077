import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConfig } from "../config/platformConfig";
import type { AwsContext } from "../platform/context";
import { awsProviderOf, serviceTrustPolicy } from "../lib/aws/iam";
import { inAddressOrder } from "../lib/aws/stsEndpoint";
import type { PolicyDocument } from "../platform/policyDocument";

/** Subnet tags the AWS Load Balancer Controller uses to discover where to place load balancers. */
export const subnetRoleTags = {
  public: { "kubernetes.io/role/elb": "1" },
  private: { "kubernetes.io/role/internal-elb": "1" },
} as const;

/** awsx NAT strategy for the config's NAT choice. */
export function natStrategy(
  nat: NetworkConfig["natGateways"],
): awsx.types.enums.ec2.NatGatewayStrategy {
  return nat === "onePerAz"
    ? awsx.ec2.NatGatewayStrategy.OnePerAz
    : awsx.ec2.NatGatewayStrategy.Single;
}

export interface NetworkArgs {
  /** Its account id goes into the flow-log role's confused-deputy condition. */
  readonly ctx: AwsContext;
  /** VPC layout, NAT strategy and flow-log retention (all defaulted by components/config/platformConfig.ts). */
  readonly network: NetworkConfig;
}

/**
 * The VPC: public and private subnets in every AZ (private ones for nodes and pods), NAT per config,
 * VPC flow logs (all traffic, 1-minute aggregation) into a CloudWatch log group with retention, and
 * private endpoints for S3 (gateway) and STS (interface).
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  /**
   * The public subnets' CIDRs, as AWS reports them: where internet-facing load balancers put their
   * ENIs, so the only sources NetworkPolicies admit for "load balancer -> pod" traffic.
   */
  readonly publicSubnetCidrs: pulumi.Output<string[]>;
  /**
   * S3's address ranges in the region (the gateway endpoint's prefix list, as read at the last
   * `pulumi up`/refresh): where pods reach S3 through the gateway endpoint.
   */
  readonly s3Cidrs: pulumi.Output<string[]>;
  /**
   * The private addresses of the STS interface endpoint's network interfaces (one per private subnet,
   * in address order): what pods without internet egress resolve the regional STS name to, and the
   * only VPC addresses their NetworkPolicy opens (lib/aws/stsEndpoint.ts).
   */
  readonly stsEndpointAddresses: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:Network", name, {}, opts);
    const network = vpc(name, this, args.network);
    flowLogs(name, this, {
      vpcId: network.vpcId,
      accountId: args.ctx.accountId,
      retentionInDays: args.network.flowLogRetentionDays,
    });
    const endpoints = awsEndpoints(name, this, network, args);

    this.vpcId = network.vpcId;
    this.publicSubnetIds = network.publicSubnetIds;
    this.privateSubnetIds = network.privateSubnetIds;
    this.publicSubnetCidrs = subnetCidrs(this, network.publicSubnetIds, args.network);
    this.s3Cidrs = endpoints.s3Cidrs;
    this.stsEndpointAddresses = endpoints.stsEndpointAddresses;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      s3Cidrs: this.s3Cidrs,
      stsEndpointAddresses: this.stsEndpointAddresses,
    });
  }
}

/** The route tables of the private subnets (awsx gives each subnet its own). */
export function privateRouteTableIds(
  associations: readonly { subnetId: string; routeTableId: string }[],
  privateSubnetIds: readonly string[],
): string[] {
  const ids = associations
    .filter((a) => privateSubnetIds.includes(a.subnetId))
    .map((a) => a.routeTableId);
  if (ids.length !== privateSubnetIds.length) {
    throw new Error(
      `expected one route table per private subnet (${privateSubnetIds.length}), found ${ids.length}`,
    );
  }
  return [...new Set(ids)];
}

/**
 * Private paths to the AWS APIs the model servers need, so they need no internet:
 * - S3 through a gateway endpoint on the private subnets' route tables (free; image layers from ECR,
 *   which S3 serves, take it too instead of the NAT gateways). Its default policy (full access) is
 *   kept: IAM and the bucket policies decide who reads what, and the nodes' ECR pulls cross it too.
 * - STS through an interface endpoint in every private subnet, private DNS off: IRSA's web-identity
 *   exchange works without the internet for the pods that resolve the regional STS name to the
 *   endpoint's addresses themselves (`hostAliases`, lib/aws/stsEndpoint.ts), while every other pod
 *   keeps the public STS name (their NetworkPolicies exclude the VPC from HTTPS egress). Private DNS
 *   on would move every IRSA pod's STS calls into the VPC, so every one of their policies would have
 *   to open the endpoint too; off, only the pods that need it change.
 */
function awsEndpoints(
  name: string,
  parent: pulumi.Resource,
  network: awsx.ec2.Vpc,
  args: NetworkArgs,
): { s3Cidrs: pulumi.Output<string[]>; stsEndpointAddresses: pulumi.Output<string[]> } {
  const routeTableIds = pulumi
    .all([network.routeTableAssociations, network.privateSubnetIds])
    .apply(([associations, subnets]) =>
      pulumi.all(associations.map((a) => pulumi.all([a.subnetId, a.routeTableId]))).apply((pairs) =>
        privateRouteTableIds(
          pairs.map(([subnetId, routeTableId]) => ({
            subnetId: subnetId ?? "",
            routeTableId,
          })),
          subnets,
        ),
      ),
    );
  const s3 = new aws.ec2.VpcEndpoint(
    `${name}-s3`,
    {
      vpcId: network.vpcId,
      serviceName: `com.amazonaws.${args.ctx.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds,
      tags: { Name: `${name}-s3` },
    },
    { parent },
  );
  const sg = new aws.ec2.SecurityGroup(
    `${name}-sts-endpoint`,
    {
      description: "HTTPS from the VPC to the STS interface endpoint",
      vpcId: network.vpcId,
      ingress: [
        {
          description: "STS (HTTPS) from pods and nodes",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrBlocks: [args.network.cidr],
        },
      ],
      tags: { Name: `${name}-sts-endpoint` },
    },
    { parent },
  );
  const sts = new aws.ec2.VpcEndpoint(
    `${name}-sts`,
    {
      vpcId: network.vpcId,
      serviceName: `com.amazonaws.${args.ctx.region}.sts`,
      vpcEndpointType: "Interface",
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [sg.id],
      privateDnsEnabled: false,
      tags: { Name: `${name}-sts` },
    },
    { parent },
  );
  return {
    s3Cidrs: s3.cidrBlocks,
    stsEndpointAddresses: endpointAddresses(name, parent, sts, args.network.availabilityZones),
  };
}

/**
 * The private addresses of an interface endpoint's network interfaces, read back from EC2: one lookup
 * per private subnet (so the count is known at preview, as `subnetCidrs` does), in address order (EC2
 * lists the interfaces in no fixed order). An endpoint interface is requester-managed: its address
 * stays for the life of the endpoint in that subnet, and a replaced endpoint brings new addresses to
 * the pods and policies built on them in the same `pulumi up`.
 */
function endpointAddresses(
  name: string,
  parent: pulumi.Resource,
  endpoint: aws.ec2.VpcEndpoint,
  count: number,
): pulumi.Output<string[]> {
  const addresses = Array.from(
    { length: count },
    (_, i) =>
      aws.ec2.getNetworkInterfaceOutput(
        {
          id: endpoint.networkInterfaceIds.apply((ids) => {
            const id = [...ids].sort()[i];
            if (!id)
              throw new Error(
                `${name}-sts: the interface endpoint reports ${ids.length} network interfaces, expected ${count} (one per private subnet)`,
              );
            return id;
          }),
        },
        { parent },
      ).privateIp,
  );
  return pulumi.all(addresses).apply(inAddressOrder);
}

/** The awsx VPC: private subnets for nodes and pods, public ones for load balancers, NAT per config. */
function vpc(name: string, parent: pulumi.Resource, n: NetworkConfig): awsx.ec2.Vpc {
  return new awsx.ec2.Vpc(
    `${name}-vpc`,
    {
      cidrBlock: n.cidr,
      numberOfAvailabilityZones: n.availabilityZones,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      natGateways: { strategy: natStrategy(n.natGateways) },
      subnetStrategy: awsx.ec2.SubnetAllocationStrategy.Auto,
      subnetSpecs: [
        {
          type: awsx.ec2.SubnetType.Private,
          cidrMask: n.privateSubnetCidrMask,
          tags: { ...subnetRoleTags.private },
        },
        {
          type: awsx.ec2.SubnetType.Public,
          cidrMask: n.publicSubnetCidrMask,
          tags: { ...subnetRoleTags.public },
        },
      ],
      tags: { Name: name },
    },
    // A remote component: it takes the AWS provider explicitly instead of inheriting it.
    { parent, providers: awsProviderOf(parent) },
  );
}

/**
 * The CIDR of each subnet, read back from AWS (one lookup per AZ, so the count is known at preview)
 * rather than recomputed from awsx's allocation rules: the NetworkPolicies built on them can never
 * disagree with the subnets that exist.
 */
function subnetCidrs(
  parent: pulumi.Resource,
  subnetIds: pulumi.Output<string[]>,
  n: NetworkConfig,
): pulumi.Output<string[]> {
  const cidrs = Array.from(
    { length: n.availabilityZones },
    (_, i) =>
      aws.ec2.getSubnetOutput(
        {
          id: subnetIds.apply((ids) => {
            const id = ids[i];
            if (!id) throw new Error(`no subnet ${i + 1} of ${n.availabilityZones}`);
            return id;
          }),
        },
        { parent },
      ).cidrBlock,
  );
  return pulumi.all(cidrs);
}

/** What the flow-log role may do: write streams into its one log group. */
function flowLogDeliveryPolicy(logGroupArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
      // Listed by the AWS flow-log role documentation; a list call, not scoped by resource.
      { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
    ],
  };
}

/**
 * The role VPC flow logs assume (this account only), with its delivery policy. The returned policy
 * is what the flow log waits for.
 */
function flowLogRole(
  name: string,
  parent: pulumi.Resource,
  logGroupArn: pulumi.Output<string>,
  accountId: pulumi.Input<string>,
): { role: aws.iam.Role; delivery: aws.iam.RolePolicy } {
  const role = new aws.iam.Role(
    `${name}-flow-logs`,
    {
      description: `VPC flow log delivery for ${name}`,
      assumeRolePolicy: pulumi
        .output(accountId)
        .apply((id) => JSON.stringify(serviceTrustPolicy("vpc-flow-logs.amazonaws.com", id))),
    },
    { parent },
  );
  const delivery = new aws.iam.RolePolicy(
    `${name}-flow-logs`,
    {
      role: role.name,
      policy: logGroupArn.apply((arn) => JSON.stringify(flowLogDeliveryPolicy(arn))),
    },
    { parent },
  );
  return { role, delivery };
}

/** VPC flow logs (all traffic, 1-minute aggregation) into a CloudWatch log group with retention. */
function flowLogs(
  name: string,
  parent: pulumi.Resource,
  args: {
    vpcId: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
    retentionInDays: number;
  },
): void {
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-flow-logs`,
    { name: `/aws/vpc/${name}/flow-logs`, retentionInDays: args.retentionInDays },
    { parent },
  );
  const { role, delivery } = flowLogRole(name, parent, logGroup.arn, args.accountId);
  new aws.ec2.FlowLog(
    `${name}-flow-logs`,
    {
      vpcId: args.vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    },
    // Delivery starts at once; without the policy in place the first deliveries fail.
    { parent, dependsOn: [delivery] },
  );
}
