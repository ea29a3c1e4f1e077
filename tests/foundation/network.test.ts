import * as assert from "node:assert/strict";
import {
  natStrategy,
  privateRouteTableIds,
  subnetRoleTags,
} from "../../components/foundation/network";
import { runStack, stackConfig, stacks, testAccountId } from "../../verify/program";

describe("network", () => {
  it("finds the private subnets' route tables, one each, and refuses a layout it does not know", () => {
    const assoc = [
      { subnetId: "s-pub-1", routeTableId: "rtb-pub-1" },
      { subnetId: "s-priv-1", routeTableId: "rtb-priv-1" },
      { subnetId: "s-priv-2", routeTableId: "rtb-priv-2" },
    ];
    assert.deepEqual(privateRouteTableIds(assoc, ["s-priv-1", "s-priv-2"]), [
      "rtb-priv-1",
      "rtb-priv-2",
    ]);
    assert.throws(
      () => privateRouteTableIds(assoc, ["s-priv-1", "s-priv-3"]),
      /expected one route table per private subnet \(2\), found 1/,
    );
  });

  it("maps the NAT choice to awsx strategies", () => {
    assert.equal(natStrategy("single"), "Single");
    assert.equal(natStrategy("onePerAz"), "OnePerAz");
  });

  for (const stack of stacks) {
    describe(stack, () => {
      it("builds the configured VPC with ELB-tagged public and private subnets", async () => {
        const run = await runStack(stack);
        const { network } = stackConfig(stack);
        const vpc = run.get("awsx:ec2:Vpc", `llmplatform-${stack}-vpc`);
        assert.equal(vpc.inputs.cidrBlock, network.cidr);
        assert.equal(vpc.inputs.numberOfAvailabilityZones, network.availabilityZones);
        assert.equal(vpc.inputs.enableDnsHostnames, true);
        assert.equal(vpc.inputs.subnetStrategy, "Auto");
        assert.deepEqual(vpc.inputs.subnetSpecs, [
          {
            type: "Private",
            cidrMask: network.privateSubnetCidrMask,
            tags: { "kubernetes.io/role/internal-elb": "1" },
          },
          {
            type: "Public",
            cidrMask: network.publicSubnetCidrMask,
            tags: { "kubernetes.io/role/elb": "1" },
          },
        ]);
        assert.deepEqual(subnetRoleTags.public, { "kubernetes.io/role/elb": "1" });
      });

      it("places NAT gateways as configured (network.natGateways)", async () => {
        const run = await runStack(stack);
        const vpc = run.get("awsx:ec2:Vpc", `llmplatform-${stack}-vpc`);
        assert.deepEqual(vpc.inputs.natGateways, {
          strategy: natStrategy(stackConfig(stack).network.natGateways),
        });
      });

      it("sends all VPC traffic to flow logs with the configured retention", async () => {
        const run = await runStack(stack);
        const name = `llmplatform-${stack}-flow-logs`;
        const group = run.get("aws:cloudwatch/logGroup:LogGroup", name);
        assert.equal(group.inputs.name, `/aws/vpc/llmplatform-${stack}/flow-logs`);
        assert.equal(group.inputs.retentionInDays, stackConfig(stack).network.flowLogRetentionDays);
        const flow = run.get("aws:ec2/flowLog:FlowLog", name);
        assert.equal(flow.inputs.trafficType, "ALL");
        assert.equal(flow.inputs.logDestinationType, "cloud-watch-logs");
        assert.equal(flow.inputs.vpcId, "vpc-0mock0000000001");
        assert.equal(flow.inputs.maxAggregationInterval, 60);
        assert.deepEqual(flow.dependsOn, [`aws:iam/rolePolicy:RolePolicy::${name}`]);
      });

      it("reaches S3 through a gateway endpoint on the private route tables, STS through an interface endpoint", async () => {
        const run = await runStack(stack);
        const { region, network } = stackConfig(stack);
        const name = `llmplatform-${stack}`;
        const s3 = run.get("aws:ec2/vpcEndpoint:VpcEndpoint", `${name}-s3`).inputs;
        const privateTables = Array.from(
          { length: network.availabilityZones },
          (_, i) => `rtb-private-${i + 1}`,
        );
        assert.deepEqual(
          { type: s3.vpcEndpointType, service: s3.serviceName, routes: s3.routeTableIds },
          { type: "Gateway", service: `com.amazonaws.${region}.s3`, routes: privateTables },
        );
        assert.equal(s3.policy, undefined, "the default policy: IAM and bucket policies decide");
        const sts = run.get("aws:ec2/vpcEndpoint:VpcEndpoint", `${name}-sts`).inputs;
        assert.deepEqual(
          {
            type: sts.vpcEndpointType,
            service: sts.serviceName,
            privateDns: sts.privateDnsEnabled,
            subnets: sts.subnetIds,
            groups: sts.securityGroupIds,
          },
          {
            type: "Interface",
            service: `com.amazonaws.${region}.sts`,
            // Private DNS would send every pod's STS calls into the VPC, where their policies do not go.
            privateDns: false,
            subnets: privateTables.map((t) => t.replace("rtb-", "subnet-")),
            groups: [`${name}-sts-endpoint-id`],
          },
        );
        const sg = run.get("aws:ec2/securityGroup:SecurityGroup", `${name}-sts-endpoint`).inputs;
        assert.deepEqual(
          sg.ingress.map((r: any) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks]),
          [["tcp", 443, 443, [network.cidr]]],
        );
      });

      it("lets only this account's flow-log service write only to its log group", async () => {
        const run = await runStack(stack);
        const name = `llmplatform-${stack}-flow-logs`;
        const trust = JSON.parse(run.get("aws:iam/role:Role", name).inputs.assumeRolePolicy);
        assert.deepEqual(trust.Statement, [
          {
            Effect: "Allow",
            Principal: { Service: "vpc-flow-logs.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": testAccountId } },
          },
        ]);
        const policy = JSON.parse(run.get("aws:iam/rolePolicy:RolePolicy", name).inputs.policy);
        const groupArn = `arn:aws:mock:${stackConfig(stack).region}:${testAccountId}:LogGroup/${name}`;
        assert.deepEqual(policy.Statement, [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [groupArn, `${groupArn}:*`],
          },
          { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        ]);
      });
    });
  }
});
