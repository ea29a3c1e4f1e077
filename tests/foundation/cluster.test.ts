import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { accessEntries, controlPlaneLogTypes } from "../../components/foundation/cluster";
import { parseConfig } from "../../components/config/platformConfig";
import {
  cloneStackConfig,
  runProgram,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
} from "../../verify/program";

function resolve<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((ok) => pulumi.output(o).apply((v) => ok(v as T)));
}

describe("cluster", () => {
  it("makes a private-only endpoint without a public allow-list", async () => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    raw["llm-platform:cluster"].endpoint = { publicAccess: false, privateAccess: true };
    const run = await runProgram("prod", raw);
    assert.equal(run.error, undefined);
    const c = run.get("eks:index:Cluster", "llmplatform-prod-eks").inputs;
    assert.deepEqual(
      [c.endpointPublicAccess, c.endpointPrivateAccess, c.publicAccessCidrs],
      [false, true, undefined],
    );
  });

  it("maps access entries to EKS access policies with a stable key and scope", async () => {
    const entries = accessEntries(
      [
        { principalArn: "arn:aws:iam::111122223333:role/platform-admins", policy: "cluster-admin" },
        {
          principalArn: "arn:aws:iam::111122223333:role/teams/quant",
          policy: "edit",
          namespaces: ["quant"],
        },
      ],
      "aws",
    );
    assert.deepEqual(Object.keys(entries), [
      "111122223333-role-platform-admins",
      "111122223333-role-teams-quant",
    ]);
    const admin = entries["111122223333-role-platform-admins"]!;
    assert.equal(admin.principalArn, "arn:aws:iam::111122223333:role/platform-admins");
    const adminPolicy = await resolve(admin.accessPolicies!["cluster-admin"]!);
    assert.equal(
      await resolve(adminPolicy.policyArn),
      "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    );
    assert.deepEqual(adminPolicy.accessScope, { type: "cluster" });
    const quant = await resolve(entries["111122223333-role-teams-quant"]!.accessPolicies!["edit"]!);
    assert.equal(
      await resolve(quant.policyArn),
      "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
    );
    assert.deepEqual(quant.accessScope, { type: "namespace", namespaces: ["quant"] });
  });

  for (const stack of stacks) {
    describe(stack, () => {
      const prefix = `llmplatform-${stack}`;

      it("creates EKS with API auth, OIDC, KMS secrets encryption, all log types, no default node group", async () => {
        const run = await runStack(stack);
        const c = run.get("eks:index:Cluster", `${prefix}-eks`).inputs;
        assert.equal(c.name, prefix);
        assert.equal(c.version, stackConfig(stack).cluster.kubernetesVersion);
        assert.equal(c.authenticationMode, "API");
        assert.equal(c.createOidcProvider, true);
        assert.equal(c.skipDefaultNodeGroup, true);
        assert.equal(c.skipDefaultSecurityGroups, true);
        assert.equal(c.nodeAssociatePublicIpAddress, false);
        assert.deepEqual(controlPlaneLogTypes, [
          "api",
          "audit",
          "authenticator",
          "controllerManager",
          "scheduler",
        ]);
        assert.deepEqual(c.enabledClusterLogTypes, controlPlaneLogTypes);
        assert.equal(
          c.encryptionConfigKeyArn,
          `arn:aws:mock:${stackConfig(stack).region}:${testAccountId}:Key/${prefix}-secrets`,
        );
        assert.deepEqual(c.accessEntries, {});
        assert.deepEqual(c.upgradePolicy, { supportType: "STANDARD" });
        assert.equal(c.deletionProtection, stackConfig(stack).cluster.deletionProtection);
      });

      it("puts nodes in private subnets and applies the endpoint allow-list", async () => {
        const run = await runStack(stack);
        const c = run.get("eks:index:Cluster", `${prefix}-eks`).inputs;
        assert.equal(c.vpcId, "vpc-0mock0000000001");
        assert.deepEqual(c.privateSubnetIds, [
          "subnet-private-1",
          "subnet-private-2",
          "subnet-private-3",
        ]);
        assert.deepEqual(c.publicSubnetIds, [
          "subnet-public-1",
          "subnet-public-2",
          "subnet-public-3",
        ]);
        const endpoint = parseConfig(cloneStackConfig(stack), stack).cluster.endpoint;
        assert.equal(c.endpointPublicAccess, endpoint.publicAccess);
        assert.equal(c.endpointPrivateAccess, endpoint.privateAccess);
        assert.deepEqual(c.publicAccessCidrs, endpoint.publicAccessCidrs);
      });

      it("leaves add-ons to addons.ts (no pulumi-eks CoreDNS/kube-proxy/CNI copies)", async () => {
        const run = await runStack(stack);
        const c = run.get("eks:index:Cluster", `${prefix}-eks`).inputs;
        assert.equal(c.useDefaultVpcCni, true);
        assert.equal(c.kubeProxyAddonOptions.enabled, false);
        assert.equal(c.corednsAddonOptions.enabled, false);
      });

      it("encrypts secrets with a rotating customer key", async () => {
        const run = await runStack(stack);
        const key = run.get("aws:kms/key:Key", `${prefix}-secrets`).inputs;
        assert.equal(key.enableKeyRotation, true);
        assert.equal(key.deletionWindowInDays, 30);
        assert.equal(
          run.get("aws:kms/alias:Alias", `${prefix}-secrets`).inputs.name,
          `alias/${prefix}-eks-secrets`,
        );
      });

      it("creates the control-plane log group first, with retention", async () => {
        const run = await runStack(stack);
        const group = run.get("aws:cloudwatch/logGroup:LogGroup", `${prefix}-control-plane`);
        assert.equal(group.inputs.name, `/aws/eks/${prefix}/cluster`);
        assert.equal(group.inputs.retentionInDays, stackConfig(stack).cluster.logRetentionDays);
        assert.deepEqual(run.get("eks:index:Cluster", `${prefix}-eks`).dependsOn, [
          `aws:cloudwatch/logGroup:LogGroup::${prefix}-control-plane`,
        ]);
      });

      it("derives the one kubernetes provider from the cluster's kubeconfig", async () => {
        const run = await runStack(stack);
        const providers = run.ofType("pulumi:providers:kubernetes");
        assert.deepEqual(
          providers.map((p) => p.name),
          [`${prefix}-k8s`],
        );
        assert.deepEqual(providers[0]!.secretPaths, ["kubeconfig"]);
        assert.deepEqual(JSON.parse(providers[0]!.inputs.kubeconfig), {
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: prefix }],
        });
      });
    });
  }
});
