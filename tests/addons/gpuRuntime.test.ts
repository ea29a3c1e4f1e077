import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { clusterAutoscalerPolicy } from "../../components/addons/gpuRuntime";
import { charts } from "../../components/platform/versions";
import { chartPackagePath } from "../../verify/charts";
import { runStack, stackConfig, stacks, testAccountId } from "../../verify/program";
import { renderedObjects } from "../../verify/stack";

const R = "kubernetes:helm.sh/v3:Release";

describe("GPU runtime: autoscaler IAM", () => {
  it("scales only this cluster's tagged groups and reads only its node groups", () => {
    const doc = clusterAutoscalerPolicy("aws", "us-west-2", "111122223333", "llmplatform-dev");
    assert.deepEqual(doc.Statement[0], {
      Sid: "ScaleOwnedGroupsOnly",
      Effect: "Allow",
      Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      Resource: "*",
      Condition: {
        StringEquals: {
          "aws:ResourceTag/k8s.io/cluster-autoscaler/llmplatform-dev": "owned",
          "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
        },
      },
    });
    assert.deepEqual(doc.Statement[2], {
      Sid: "ReadThisClustersNodeGroups",
      Effect: "Allow",
      Action: "eks:DescribeNodegroup",
      Resource: "arn:aws:eks:us-west-2:111122223333:nodegroup/llmplatform-dev/*/*",
    });
    const writes = doc.Statement.flatMap((s) => ([] as string[]).concat(s.Action)).filter(
      (a) => !/:(Describe|Get)/.test(a),
    );
    assert.deepEqual(writes, [
      "autoscaling:SetDesiredCapacity",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]);
  });
});

for (const stack of stacks) {
  describe(`GPU runtime (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;

    it("installs the pinned NVIDIA device plugin on GPU nodes only", async () => {
      const run = await runStack(stack);
      const r = run.get(R, "nvidia-device-plugin").inputs;
      assert.deepEqual(
        [r.chart, r.version, r.repositoryOpts.repo, r.namespace],
        [
          "nvidia-device-plugin",
          "0.20.0",
          "https://nvidia.github.io/k8s-device-plugin",
          "kube-system",
        ],
      );
      const { resources, ...placement } = r.values;
      assert.deepEqual(placement, {
        nodeSelector: { workload: "gpu" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        gfd: { enabled: false },
      });
      assert.ok(resources.requests.cpu && resources.requests.memory && resources.limits.memory);
      assert.equal(r.atomic, true);
    });

    it("never schedules the device plugin chart's privileged MPS daemon: no node carries its label", async function () {
      const pin = charts.nvidiaDevicePlugin;
      if (!fs.existsSync(chartPackagePath(pin.chart, pin.version))) this.skip();
      this.timeout(60_000);
      const run = await runStack(stack);
      const podSpecs = (await renderedObjects(run, ["nvidia-device-plugin"]))
        .filter((o) => o.kind === "DaemonSet")
        .map((o) => ({ name: o.metadata.name, pod: o.spec.template.spec }));
      const privileged = podSpecs.filter(
        ({ pod }) =>
          pod.hostPID ||
          [...(pod.initContainers ?? []), ...pod.containers].some(
            (c: { securityContext?: { privileged?: boolean } }) => c.securityContext?.privileged,
          ),
      );
      assert.deepEqual(
        privileged.map((d) => d.name),
        ["nvidia-device-plugin-mps-control-daemon"],
      );
      // Only GPU feature discovery labels nodes for MPS, and it must stay off.
      assert.ok(
        !podSpecs.some((d) => /feature-discovery/.test(d.name)),
        podSpecs.map((d) => d.name).join(),
      );
      const nodeLabels = run
        .ofType("aws:eks/nodeGroup:NodeGroup")
        .flatMap((g) => Object.keys(g.inputs.labels ?? {}));
      assert.ok(nodeLabels.length > 0, "node groups carry labels");
      const selector = Object.keys(privileged[0]!.pod.nodeSelector ?? {});
      assert.ok(
        selector.some((key) => !nodeLabels.includes(key)),
        `the MPS daemon selects ${selector.join(", ")}, all of which a node group sets`,
      );
    });

    it("runs the DCGM exporter on GPU nodes, in the privileged observability namespace, scrapeable", async () => {
      const run = await runStack(stack);
      const r = run.get(R, "dcgm-exporter").inputs;
      assert.deepEqual(
        [r.chart, r.version, r.namespace],
        ["dcgm-exporter", "4.8.2", "observability"],
      );
      assert.deepEqual(r.values.nodeSelector, { workload: "gpu" });
      assert.deepEqual(r.values.tolerations, [
        { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
      ]);
      assert.deepEqual(r.values.serviceMonitor, { enabled: false });
      assert.equal(
        r.values.podAnnotations,
        undefined,
        "scraped through the observability stack's PodMonitor",
      );
      const np = run.get(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "dcgm-exporter-allow-prometheus-scrape-dcgm-9400",
      ).inputs;
      assert.equal(np.metadata.namespace, "observability");
      assert.deepEqual(np.spec.ingress[0].ports, [{ protocol: "TCP", port: 9400 }]);
    });

    it("runs the cluster autoscaler matching the Kubernetes minor, with auto-discovery and balancing", async () => {
      const run = await runStack(stack);
      const r = run.get(R, "cluster-autoscaler").inputs;
      assert.deepEqual(
        [r.chart, r.version, r.repositoryOpts.repo, r.namespace],
        ["cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler", "kube-system"],
      );
      assert.equal(r.values.image.tag, "v1.35.2");
      assert.deepEqual(r.values.autoDiscovery, { clusterName: prefix });
      assert.equal(r.values.awsRegion, stackConfig(stack).region);
      assert.equal(r.values.cloudProvider, "aws");
      assert.equal(r.values.fullnameOverride, "cluster-autoscaler");
      assert.deepEqual(r.values.rbac.serviceAccount, {
        create: true,
        name: "cluster-autoscaler",
        annotations: {
          "eks.amazonaws.com/role-arn": `arn:aws:iam::${testAccountId}:role/${prefix}-cluster-autoscaler-irsa`,
        },
      });
      assert.equal(r.values.extraArgs["balance-similar-node-groups"], true);
      assert.equal(r.values.extraArgs.expander, "least-waste");
      assert.deepEqual(r.values.nodeSelector, { workload: "cpu" });
    });

    it("waits for the CPU nodes (and the autoscaler for its role)", async () => {
      const run = await runStack(stack);
      const cpu = `aws:eks/nodeGroup:NodeGroup::${prefix}-cpu`;
      assert.deepEqual(run.get(R, "nvidia-device-plugin").dependsOn, [cpu]);
      assert.deepEqual(run.get(R, "dcgm-exporter").dependsOn, [
        cpu,
        "kubernetes:helm.sh/v3:Release::aws-load-balancer-controller",
      ]);
      assert.deepEqual(run.get(R, "cluster-autoscaler").dependsOn, [
        cpu,
        `llmplatform:aws:IrsaRole::${prefix}-gpu-cluster-autoscaler`,
      ]);
    });

    it("binds the autoscaler's role to its service account and this cluster's policy", async () => {
      const run = await runStack(stack);
      const policy = JSON.parse(
        run.get(
          "aws:iam/rolePolicy:RolePolicy",
          `${prefix}-gpu-cluster-autoscaler-scale-node-groups`,
        ).inputs.policy,
      );
      assert.deepEqual(
        policy,
        clusterAutoscalerPolicy("aws", stackConfig(stack).region, testAccountId, prefix),
      );
    });
  });
}
