import * as assert from "node:assert/strict";
import { addonSpecs } from "../../components/foundation/eksAddons";
import { kubernetesMinors, supportedKubernetesVersions } from "../../components/platform/versions";
import { registry } from "../../components/platform/registry";
import { runStack, stacks } from "../../verify/program";

describe("EKS add-ons", () => {
  it("pins every add-on per Kubernetes minor, matching kube-proxy to the minor", () => {
    for (const minor of supportedKubernetesVersions) {
      const v = kubernetesMinors[minor].addons;
      for (const version of Object.values(v))
        assert.match(version, /^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
      assert.ok(
        v["kube-proxy"].startsWith(`v${minor}.`),
        `kube-proxy ${v["kube-proxy"]} for ${minor}`,
      );
    }
  });

  it("installs DaemonSet add-ons before nodes and Deployment add-ons after them", () => {
    const specs = addonSpecs("1.35");
    assert.deepEqual(
      specs.beforeNodes.map((a) => a.name),
      ["vpc-cni", "kube-proxy"],
    );
    assert.deepEqual(
      specs.afterNodes.map((a) => a.name),
      ["coredns", "aws-ebs-csi-driver", "metrics-server", "aws-efs-csi-driver"],
    );
    assert.deepEqual(specs.beforeNodes[0]?.configurationValues, { enableNetworkPolicy: "true" });
  });

  for (const stack of stacks) {
    describe(stack, () => {
      const prefix = `llmplatform-${stack}`;
      const expected = {
        [`${prefix}-networking-vpc-cni`]: ["vpc-cni", "v1.21.1-eksbuild.7"],
        [`${prefix}-networking-kube-proxy`]: ["kube-proxy", "v1.35.3-eksbuild.2"],
        [`${prefix}-compute-coredns`]: ["coredns", "v1.13.2-eksbuild.4"],
        [`${prefix}-compute-aws-ebs-csi-driver`]: ["aws-ebs-csi-driver", "v1.59.0-eksbuild.1"],
        [`${prefix}-compute-metrics-server`]: ["metrics-server", "v0.8.1-eksbuild.6"],
        [`${prefix}-compute-aws-efs-csi-driver`]: ["aws-efs-csi-driver", "v3.1.0-eksbuild.1"],
      };

      it("installs the six managed add-ons at their pinned versions, adopting EKS's copies", async () => {
        const run = await runStack(stack);
        const addons = run.ofType("aws:eks/addon:Addon");
        assert.deepEqual(
          Object.fromEntries(
            addons.map((a) => [a.name, [a.inputs.addonName, a.inputs.addonVersion]]),
          ),
          expected,
        );
        for (const a of addons) {
          assert.equal(a.inputs.clusterName, prefix);
          assert.equal(a.inputs.resolveConflictsOnCreate, "OVERWRITE");
          assert.equal(a.inputs.resolveConflictsOnUpdate, "OVERWRITE");
        }
      });

      it("enables network policy enforcement in the VPC CNI and gives it its own IRSA role", async () => {
        const run = await runStack(stack);
        const cni = run.get("aws:eks/addon:Addon", `${prefix}-networking-vpc-cni`);
        assert.equal(cni.inputs.configurationValues, '{"enableNetworkPolicy":"true"}');
        assert.equal(
          cni.inputs.serviceAccountRoleArn,
          `arn:aws:iam::111122223333:role/${prefix}-vpc-cni-irsa`,
        );
        assert.deepEqual(cni.dependsOn, [`llmplatform:aws:IrsaRole::${prefix}-networking-vpc-cni`]);
        const attach = run.get(
          "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          `${prefix}-networking-vpc-cni-amazoneks-cni-policy`,
        );
        assert.equal(attach.inputs.policyArn, "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy");
      });

      it("gives the EFS CSI driver its IRSA role with the AWS-managed policy", async () => {
        const run = await runStack(stack);
        const efs = run.get("aws:eks/addon:Addon", `${prefix}-compute-aws-efs-csi-driver`);
        assert.equal(
          efs.inputs.serviceAccountRoleArn,
          `arn:aws:iam::111122223333:role/${prefix}-aws-efs-csi-driver-irsa`,
        );
        assert.equal(
          efs.inputs.configurationValues,
          undefined,
          "the node DaemonSet tolerates every taint by default (GPU nodes included)",
        );
        const attach = run.get(
          "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          `${prefix}-compute-aws-efs-csi-driver-amazonefscsidriverpolicy`,
        );
        assert.equal(
          attach.inputs.policyArn,
          "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
        );
      });

      it("gives the EBS CSI driver its IRSA role with the AWS-managed policy", async () => {
        const run = await runStack(stack);
        const ebs = run.get("aws:eks/addon:Addon", `${prefix}-compute-aws-ebs-csi-driver`);
        assert.equal(
          ebs.inputs.serviceAccountRoleArn,
          `arn:aws:iam::111122223333:role/${prefix}-aws-ebs-csi-driver-irsa`,
        );
        const attach = run.get(
          "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          `${prefix}-compute-aws-ebs-csi-driver-amazonebscsidriverpolicy`,
        );
        assert.equal(
          attach.inputs.policyArn,
          "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        );
      });

      it("orders: CoreDNS and EBS CSI wait for the CPU nodes, the nodes wait for networking", async () => {
        const run = await runStack(stack);
        const cpu = `aws:eks/nodeGroup:NodeGroup::${prefix}-cpu`;
        assert.deepEqual(run.get("aws:eks/addon:Addon", `${prefix}-compute-coredns`).dependsOn, [
          cpu,
        ]);
        assert.deepEqual(
          run.get("aws:eks/addon:Addon", `${prefix}-compute-metrics-server`).dependsOn,
          [cpu],
        );
        assert.deepEqual(
          run.get("aws:eks/addon:Addon", `${prefix}-compute-aws-ebs-csi-driver`).dependsOn,
          [cpu, `llmplatform:aws:IrsaRole::${prefix}-compute-aws-ebs-csi-driver`],
        );
        for (const ng of run.ofType("aws:eks/nodeGroup:NodeGroup")) {
          assert.ok(
            ng.dependsOn.includes(`llmplatform:aws:EksAddons::${prefix}-networking`),
            ng.name,
          );
        }
        assert.deepEqual(
          run.get("aws:eks/addon:Addon", `${prefix}-networking-kube-proxy`).dependsOn,
          [],
        );
      });

      it("deletes every namespace, and with it its volume claims, before the CSI drivers that delete their volumes", async () => {
        const run = await runStack(stack);
        // Both CSI drivers are add-ons of the compute set, which every namespace depends on: on
        // destroy Pulumi deletes the namespaces (a namespace is gone once its claims are) first.
        for (const driver of ["aws-ebs-csi-driver", "aws-efs-csi-driver"])
          assert.equal(
            run.get("aws:eks/addon:Addon", `${prefix}-compute-${driver}`).parent,
            `${prefix}-compute`,
          );
        const namespaces = run.ofType("kubernetes:core/v1:Namespace");
        assert.deepEqual(
          namespaces.map((n) => n.inputs.metadata.name).sort(),
          Object.keys(registry.namespaces).sort(),
        );
        for (const ns of namespaces)
          assert.deepEqual(ns.dependsOn, [`llmplatform:aws:EksAddons::${prefix}-compute`], ns.name);
        // The claims live in these namespaces: the program's own (the EFS model cache) and those of
        // the releases that keep data (Prometheus, Loki, Tempo, Mimir, Grafana).
        const claims = run.ofType("kubernetes:core/v1:PersistentVolumeClaim");
        assert.ok(claims.length > 0);
        for (const c of claims)
          assert.ok(registry.namespaces[c.inputs.metadata.namespace], `claim ${c.name}`);
        const stores = ["kube-prometheus-stack", "loki", "tempo", "mimir", "grafana"];
        const releases = run
          .ofType("kubernetes:helm.sh/v3:Release")
          .filter((r) => stores.includes(r.name));
        assert.ok(releases.length >= 4, releases.map((r) => r.name).join(", "));
        for (const r of releases)
          assert.ok(registry.namespaces[r.inputs.namespace], `${r.name} in ${r.inputs.namespace}`);
      });
    });
  }
});
