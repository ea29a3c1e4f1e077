import * as assert from "node:assert/strict";
import { natStrategy, subnetRoleTags } from "../../components/foundation/network";
import { runStack, stackConfig, stacks, testAccountId } from "../../verify/program";

describe("network", () => {
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
