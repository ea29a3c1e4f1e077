import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConfig } from "../config";
import { awsProviderOf, serviceTrustPolicy } from "./iam";

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
  /** VPC layout, NAT strategy and flow-log retention (all defaulted by components/config.ts). */
  readonly network: NetworkConfig;
  /** Account id, for the flow-log role's confused-deputy condition. */
  readonly accountId: pulumi.Input<string>;
}

/**
 * The VPC: public and private subnets in every AZ (private ones for nodes and pods), NAT per config,
 * and VPC flow logs (all traffic, 1-minute aggregation) into a CloudWatch log group with retention.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:Network", name, {}, opts);
    const n = args.network;

    const vpc = new awsx.ec2.Vpc(
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
      { parent: this, providers: awsProviderOf(this) },
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { name: `/aws/vpc/${name}/flow-logs`, retentionInDays: n.flowLogRetentionDays },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        description: `VPC flow log delivery for ${name}`,
        assumeRolePolicy: pulumi
          .output(args.accountId)
          .apply((id) => JSON.stringify(serviceTrustPolicy("vpc-flow-logs.amazonaws.com", id))),
      },
      { parent: this },
    );

    const delivery = new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.name,
        policy: logGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
              // Listed by the AWS flow-log role documentation; a list call, not scoped by resource.
              { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
            ],
          }),
        ),
      },
      { parent: this },
    );

    new aws.ec2.FlowLog(
      `${name}-flow-logs`,
      {
        vpcId: vpc.vpcId,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
      },
      // Delivery starts at once; without the policy in place the first deliveries fail.
      { parent: this, dependsOn: [delivery] },
    );

    this.vpcId = vpc.vpcId;
    this.publicSubnetIds = vpc.publicSubnetIds;
    this.privateSubnetIds = vpc.privateSubnetIds;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
    });
  }
}
