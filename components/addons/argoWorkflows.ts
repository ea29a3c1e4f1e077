/**
 * Argo Workflows, the workflow engine of the design's benchmark pipeline (components/benchmarks/ holds
 * the templates). An add-on because the engine has no feature of its own: like KEDA it is cluster
 * infrastructure that features use, and the next pipeline (fine-tuning, evaluation) would use the same
 * controller.
 *
 * Where it runs: the controller alone in its own namespace, `argo` (quota, LimitRange, Pod Security
 * `restricted`, default-deny NetworkPolicies from the registry), so no other workload can borrow its
 * service account. It manages workflows in exactly one namespace (`--namespaced
 * --managed-namespace`): the chart's RBAC is off and the controller gets a Role there with the rules
 * the chart's namespaced install grants, minus what these workflows never use (volume claims,
 * disruption budgets, the HTTP agent's CA Secret), and read access to its own ConfigMap in `argo`. It
 * cannot create a pod anywhere else.
 *
 * No server: the Argo Server (UI and API) is off, so Argo opens no door into the cluster. Workflows
 * are submitted through the Kubernetes API (`argo submit`, kubectl), with its authentication and RBAC.
 *
 * CRDs: the chart's minimal CRDs as plain templates (`crds.full: false`). The full CRDs come from a
 * pre-install hook Job that downloads them from GitHub, which needs internet egress at install time
 * and fails offline renders; the minimal ones do not validate workflow specs in the API server, so
 * the tests validate every template the program emits against Argo's schema instead
 * (@kubernetes-models/argo-workflows).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { helmRelease } from "../lib/k8s/helm";
import { createNetworkPolicies, type NetworkPolicyDef } from "../lib/k8s/networkPolicies";
import { grantRole, type PolicyRule } from "../lib/k8s/rbac";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { chartWorkloads, prometheusPodLabels } from "../platform/chartContracts";
import type { PlatformContext } from "../platform/context";
import { workloadLabels } from "../platform/scheduling";
import { charts, images } from "../platform/versions";

const controller = chartWorkloads.argoWorkflowsController;

/** The release's name, which its `fullnameOverride` makes the prefix of every object it creates. */
const releaseName = controller.release;
/** The controller's service account (the chart names it `<fullname>-workflow-controller`). */
export const argoControllerServiceAccount = controller.name;
const metricsPort = controller.ports[0].containerPort;

/**
 * What the controller may do in the namespace it manages: run and watch workflow pods (and signal
 * their containers through exec on `argo stop`), read ConfigMaps (artifact repository, parameters),
 * record events, check service accounts, manage workflows and their task sets, results and cron
 * schedules, read templates. Its informers list and watch each of these at start-up.
 */
export function argoControllerRules(): PolicyRule[] {
  const all = ["get", "list", "watch", "update", "patch", "delete", "create"];
  return [
    {
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["create", "get", "list", "watch", "update", "patch", "delete"],
    },
    { apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] },
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "watch", "list"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "list"] },
    {
      apiGroups: ["argoproj.io"],
      resources: [
        "workflows",
        "workflows/finalizers",
        "workflowtasksets",
        "workflowtasksets/finalizers",
        "workflowtasksets/status",
        "workflowartifactgctasks",
      ],
      verbs: all,
    },
    {
      apiGroups: ["argoproj.io"],
      resources: ["workflowtemplates", "workflowtemplates/finalizers"],
      verbs: ["get", "list", "watch"],
    },
    {
      apiGroups: ["argoproj.io"],
      resources: ["workflowtaskresults", "workflowtaskresults/finalizers"],
      verbs: ["list", "watch", "deletecollection"],
    },
    {
      apiGroups: ["argoproj.io"],
      resources: ["cronworkflows", "cronworkflows/finalizers"],
      verbs: ["get", "list", "watch", "update", "patch", "delete"],
    },
  ];
}

/** In its own namespace the controller only reads its configuration (a ConfigMap it watches). */
export function argoControllerConfigRules(): PolicyRule[] {
  return [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "watch", "list"] }];
}

/** What every workflow pod's executor (init and wait containers, resource steps) runs with. */
export function argoExecutorSettings() {
  return {
    image: { ...images.argoExec },
    resources: {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    },
    // Pod Security `restricted`: the chart sets none for the executor by default.
    securityContext: restrictedContainerSecurityContext(),
  };
}

/** Workflows are kept for a week after they finish (their results are in S3 either way). */
const workflowTtlSeconds = 7 * 24 * 3600;

/**
 * Helm values: minimal CRDs, no server, no chart RBAC, a controller that manages `managedNamespace`
 * only, on CPU nodes, under Pod Security `restricted`, serving plain-HTTP metrics for Prometheus; the
 * non-root executor under `restricted` too; finished pods collected and workflows expired.
 */
export function argoWorkflowsValues(managedNamespace: string) {
  const executor = argoExecutorSettings();
  return {
    fullnameOverride: releaseName,
    crds: { install: true, keep: true, full: false },
    createAggregateRoles: false,
    singleNamespace: true,
    images: { pullPolicy: "IfNotPresent" },
    server: { enabled: false, clusterWorkflowTemplates: { enabled: false } },
    useStaticCredentials: false,
    // Workflow service accounts and their RBAC belong to the features that run workflows.
    workflow: {
      namespace: managedNamespace,
      serviceAccount: { create: false },
      rbac: { create: false },
    },
    controller: {
      rbac: { create: false },
      // One controller, so the chart sets LEADER_ELECTION_DISABLE=true: its Role has no
      // coordination.k8s.io leases rule (`argoControllerRules`). Two replicas would need one, or no
      // controller ever leads and no workflow runs (tests/addons/argoWorkflows.test.ts: the render).
      replicas: 1,
      extraArgs: ["--managed-namespace", managedNamespace],
      workflowNamespaces: [managedNamespace],
      clusterWorkflowTemplates: { enabled: false },
      nodeSelector: workloadLabels.cpu,
      resources: {
        requests: { cpu: "100m", memory: "256Mi" },
        limits: { cpu: "1", memory: "512Mi" },
      },
      podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      securityContext: restrictedContainerSecurityContext(),
      // Plain HTTP on `metrics` (9090) for the in-cluster Prometheus. Custom metrics not updated for a
      // week are dropped (the GC runs every TTL, so a series goes 1-2 weeks after its last update):
      // a renamed scenario does not linger, and the benchmark gauges, one series per run
      // (`recordedMetricLabels`), stay bounded by the runs of the last two weeks. The dashboard reads
      // them from Prometheus (30 days back), not from the controller.
      metricsConfig: { enabled: true, secure: false, metricsTTL: "168h" },
      workflowDefaults: {
        spec: {
          podGC: { strategy: "OnPodSuccess" },
          ttlStrategy: { secondsAfterCompletion: workflowTtlSeconds },
        },
      },
    },
    executor: {
      image: executor.image,
      resources: executor.resources,
      securityContext: executor.securityContext,
    },
  };
}

/**
 * The controller's NetworkPolicies in `argo` (on top of the namespace's default-deny baseline): it
 * calls the Kubernetes API (VPC endpoint ENIs and the `kubernetes` Service), and Prometheus scrapes
 * its metrics.
 */
export function argoControllerPolicies(vpcCidr: string, serviceCidr: string): NetworkPolicyDef[] {
  const pods = { matchLabels: { ...controller.podLabels } };
  const tcp = (port: number) => [{ protocol: "TCP", port }];
  return [
    {
      name: "allow-argo-controller-to-kube-apiserver",
      spec: {
        podSelector: pods,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: vpcCidr } }, { ipBlock: { cidr: serviceCidr } }],
            ports: tcp(443),
          },
        ],
      },
    },
    {
      name: `allow-prometheus-scrape-argo-controller-${metricsPort}`,
      spec: {
        podSelector: pods,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": "observability" },
                },
                podSelector: { matchLabels: prometheusPodLabels },
              },
            ],
            ports: tcp(metricsPort),
          },
        ],
      },
    },
  ];
}

export interface ArgoWorkflowsArgs {
  /** VPC and Service CIDRs (the controller's egress to the Kubernetes API). */
  readonly ctx: PlatformContext;
  /** The controller's namespace (`argo`). */
  readonly namespace: pulumi.Output<string>;
  /** The one namespace whose workflows it runs. */
  readonly managedNamespace: pulumi.Output<string>;
  /** What the release waits for (CPU nodes to run on). */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * Argo Workflows (pinned chart) with its controller's RBAC and NetworkPolicies. WorkflowTemplates
 * depend on `release`: it installs their CRDs and the controller that runs them.
 */
export class ArgoWorkflows extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  /** Where workflows run. */
  readonly managedNamespace: pulumi.Output<string>;

  constructor(name: string, args: ArgoWorkflowsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:addons:ArgoWorkflows", name, {}, opts);
    const o = { parent: this };
    const subjects = [{ name: argoControllerServiceAccount, namespace: args.namespace }];
    // The roles exist before the controller starts, so its informers sync on the first try.
    const grants = [
      ...grantRole(
        name,
        {
          role: "argo-workflows-controller",
          namespace: args.managedNamespace,
          rules: argoControllerRules(),
          subjects,
        },
        o,
      ),
      ...grantRole(
        name,
        {
          role: "argo-workflows-controller-config",
          namespace: args.namespace,
          rules: argoControllerConfigRules(),
          subjects,
        },
        o,
      ),
    ];
    this.release = helmRelease(
      releaseName,
      charts.argoWorkflows,
      args.namespace,
      args.managedNamespace.apply(argoWorkflowsValues),
      { ...o, dependsOn: [...args.dependsOn, ...grants] },
    );
    createNetworkPolicies(
      "argo",
      args.namespace,
      argoControllerPolicies(args.ctx.vpcCidr, args.ctx.serviceCidr),
      o,
    );
    this.managedNamespace = args.managedNamespace;
    this.registerOutputs({});
  }
}
