import * as pulumi from "@pulumi/pulumi";
import { chartWorkloads } from "../platform/chartContracts";
import type { PolicyDocument } from "../platform/policyDocument";
import { IrsaRole } from "../lib/aws/irsaRole";
import type { PlatformContext } from "../platform/context";
import { gpuTaint, workloadLabels } from "../platform/scheduling";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { podsIn } from "../lib/k8s/networkPolicies";
import { prometheusPodLabels } from "../platform/chartContracts";
import { helmRelease } from "../lib/k8s/helm";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { charts, kubernetesMinors, type KubernetesMinor } from "../platform/versions";
import { renamedFrom } from "../platform/typeTokens";

/** Schedules a DaemonSet onto GPU nodes only, through their taint. */
const onGpuNodes = {
  nodeSelector: workloadLabels.gpu,
  tolerations: [{ key: gpuTaint.key, operator: "Exists", effect: "NoSchedule" }],
};

/**
 * The cluster autoscaler's permissions, scoped to this cluster: it may change the size of, or
 * terminate instances in, only Auto Scaling groups tagged as owned by this cluster; the read-only
 * calls cannot be scoped by resource in IAM, except DescribeNodegroup (this cluster's groups), which
 * it uses to build scale-from-zero templates from the managed node group's labels and taints.
 */
export function clusterAutoscalerPolicy(
  partition: string,
  region: string,
  accountId: string,
  clusterName: string,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ScaleOwnedGroupsOnly",
        Effect: "Allow",
        Action: [
          "autoscaling:SetDesiredCapacity",
          "autoscaling:TerminateInstanceInAutoScalingGroup",
        ],
        Resource: "*",
        Condition: {
          StringEquals: {
            [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
          },
        },
      },
      {
        Sid: "Discover",
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
        ],
        Resource: "*",
      },
      {
        Sid: "ReadThisClustersNodeGroups",
        Effect: "Allow",
        Action: "eks:DescribeNodegroup",
        Resource: `arn:${partition}:eks:${region}:${accountId}:nodegroup/${clusterName}/*/*`,
      },
    ],
  };
}

/** Helm values of the cluster autoscaler. */
function clusterAutoscalerValues(
  clusterName: string,
  region: string,
  minor: KubernetesMinor,
  roleArn: string,
) {
  return {
    // Predictable object names (deploy/cluster-autoscaler) instead of <release>-aws-cluster-autoscaler.
    fullnameOverride: "cluster-autoscaler",
    cloudProvider: "aws",
    awsRegion: region,
    autoDiscovery: { clusterName },
    image: { tag: kubernetesMinors[minor].clusterAutoscalerTag },
    rbac: {
      serviceAccount: {
        create: true,
        name: "cluster-autoscaler",
        annotations: { "eks.amazonaws.com/role-arn": roleArn },
      },
    },
    extraArgs: {
      // Spreads scale-ups across groups of the same shape and labels (e.g. one role split per AZ).
      // Groups of different roles differ in their llmplatform.io/node-group label, so they are never
      // treated as interchangeable and each variant only scales its own group.
      "balance-similar-node-groups": true,
      expander: "least-waste",
      "skip-nodes-with-system-pods": false,
      "scale-down-unneeded-time": "10m",
      "scale-down-delay-after-add": "10m",
      // Pods with local emptyDir scratch (vLLM caches) must not pin idle GPU nodes forever.
      "skip-nodes-with-local-storage": false,
    },
    nodeSelector: workloadLabels.cpu,
    // Pod Security `restricted`: the image is distroless `static:nonroot` (UID 65532), which needs no
    // write access outside the API and AWS; the chart sets no securityContext by default.
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containerSecurityContext: restrictedContainerSecurityContext(),
    replicaCount: 1,
    resources: {
      requests: { cpu: "100m", memory: "300Mi" },
      limits: { cpu: "1", memory: "600Mi" },
    },
  };
}

export interface GpuRuntimeArgs {
  /** Cluster name, region, partition, account and OIDC (the cluster autoscaler's role). */
  readonly ctx: PlatformContext;
  readonly kubernetesVersion: KubernetesMinor;
  /** The observability namespace (DCGM exporter needs its privileged Pod Security level). */
  readonly observabilityNamespace: pulumi.Output<string>;
  /** What the Helm releases wait for (the CPU node group: their controllers run there). */
  readonly dependsOn: pulumi.Resource[];
  /** What pods in the observability namespace also wait for (the load balancer controller's webhook). */
  readonly observabilityDependsOn: pulumi.Resource[];
}

/** Options of the GPU runtime's children: parent (providers) and what they wait for. */
type ChildOpts = { parent: pulumi.Resource; dependsOn: pulumi.Resource[] };

/**
 * The NVIDIA device plugin on the GPU nodes: advertises `nvidia.com/gpu`. Two Pod Security
 * exceptions, both the chart's own and both in kube-system (which no Pod Security label of ours
 * governs):
 * - the plugin runs as root: it serves its gRPC socket from the kubelet's root-owned
 *   /var/lib/kubelet/device-plugins (a hostPath), where the kubelet looks for device plugins;
 * - the chart always renders an MPS control daemon (privileged, hostPID), selected onto nodes labelled
 *   `nvidia.com/mps.capable=true`. Only GPU feature discovery sets that label, for an MPS sharing
 *   config; it is off here (`gfd.enabled: false`) and no sharing config is given, so the daemon never
 *   schedules (tests/addons/gpuRuntime.test.ts proves no node of the platform carries the label).
 */
function nvidiaDevicePlugin(o: ChildOpts) {
  helmRelease(
    "nvidia-device-plugin",
    charts.nvidiaDevicePlugin,
    "kube-system",
    {
      ...onGpuNodes,
      gfd: { enabled: false },
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    },
    o,
  );
}

/**
 * The DCGM exporter (GPU metrics), scraped by Prometheus. It runs as the chart ships it, as root with
 * SYS_ADMIN, in observability, the one namespace that enforces `privileged` (see registry.ts).
 * SYS_ADMIN is what DCGM's profiling fields (DCGM_FI_PROF_*, in the chart's default collector list)
 * need; the platform's dashboards, alerts and benchmarks read only DCGM_FI_DEV_* fields, so a custom
 * list without profiling fields could drop it, but that is unproven without a GPU node to run it on.
 */
function dcgmExporter(args: GpuRuntimeArgs, o: ChildOpts) {
  helmRelease(
    "dcgm-exporter",
    charts.dcgmExporter,
    args.observabilityNamespace,
    // Scraped through the PodMonitor the observability stack defines.
    { ...onGpuNodes, serviceMonitor: { enabled: false } },
    o,
  );
  createNetworkPolicies(
    "dcgm-exporter",
    args.observabilityNamespace,
    [
      {
        name: "allow-prometheus-scrape-dcgm-9400",
        spec: {
          podSelector: { matchLabels: { ...chartWorkloads.dcgmExporter.podLabels } },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [podsIn("observability", prometheusPodLabels)],
              ports: [{ protocol: "TCP", port: 9400 }],
            },
          ],
        },
      },
    ],
    { parent: o.parent },
  );
}

/** The cluster autoscaler (scales SPOT GPU groups from zero) with its IRSA role. */
function clusterAutoscaler(name: string, args: GpuRuntimeArgs, o: ChildOpts) {
  const { ctx } = args;
  const role = new IrsaRole(
    `${name}-cluster-autoscaler`,
    {
      oidc: ctx.oidc,
      namespace: "kube-system",
      serviceAccount: "cluster-autoscaler",
      roleName: `${ctx.clusterName}-cluster-autoscaler-irsa`,
      inlinePolicies: {
        "scale-node-groups": pulumi
          .all([ctx.partition, ctx.accountId])
          .apply(([partition, account]) =>
            clusterAutoscalerPolicy(partition, ctx.region, account, ctx.clusterName),
          ),
      },
    },
    { parent: o.parent },
  );
  helmRelease(
    "cluster-autoscaler",
    charts.clusterAutoscaler,
    "kube-system",
    role.roleArn.apply((arn) =>
      clusterAutoscalerValues(ctx.clusterName, ctx.region, args.kubernetesVersion, arn),
    ),
    { ...o, dependsOn: [...o.dependsOn, role] },
  );
}

/**
 * What GPU workloads need from the cluster: the NVIDIA device plugin (advertises `nvidia.com/gpu`),
 * the DCGM exporter (GPU metrics), and the cluster autoscaler (scales SPOT GPU groups from zero).
 * Spot interruptions need no extra handler: managed node groups cordon and drain on rebalance
 * recommendations and interruption notices themselves. The Kubernetes provider comes through
 * `opts.providers`.
 */
export class GpuRuntime extends pulumi.ComponentResource {
  constructor(name: string, args: GpuRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:gpu:GpuRuntime", name, {}, renamedFrom("llmplatform:GpuRuntime", opts));
    const o = { parent: this, dependsOn: args.dependsOn };
    nvidiaDevicePlugin(o);
    dcgmExporter(args, { ...o, dependsOn: [...args.dependsOn, ...args.observabilityDependsOn] });
    clusterAutoscaler(name, args, o);
    this.registerOutputs({});
  }
}
