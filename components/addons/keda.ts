/**
 * KEDA, the model autoscaler: it scales each autoscaled vLLM variant on vLLM's own metrics read from
 * Prometheus (the ScaledObjects are built by models/autoscaling.ts).
 *
 * Why KEDA: a maintained CNCF autoscaler whose Prometheus scaler reads these metrics directly, and the
 * only common choice that scales a Deployment to and from zero (a plain HPA stops at 1, and the
 * Prometheus Adapter + HPA route would need custom-metrics rules and still no zero).
 *
 * Where it runs: its own namespace, `keda` (registry.ts), with the namespace's quota, LimitRange,
 * Pod Security `restricted` and default-deny; only the flows below are allowed. Not kube-system: with
 * `permissions.operator.restrict.secret` the chart lets the operator read every Secret of the namespace
 * it is installed in (its certificate Role, templates/manager/minimal-rbac.yaml), which in kube-system
 * would be EKS's own. In its own namespace that is KEDA's certificates and Helm's release history.
 * Not a team or platform namespace either: anyone allowed to create pods there could borrow its
 * service account.
 *
 * Two bindings the chart makes to Kubernetes' built-in roles, which policy scanners reading the
 * rendered files alone report as admin or exec grants (the roles are not in the files):
 * `system:auth-delegator` (cluster-wide) and `extension-apiserver-authentication-reader` (in
 * kube-system). The metrics API server needs both, as every aggregated API server does: the first to
 * ask the API server who a caller is and what it may do, the second to read the client-CA ConfigMap.
 * Neither grants Secrets or pods/exec.
 *
 * Which Prometheus: the in-cluster Prometheus (kps-prometheus:9090) in every stack, not Mimir. A
 * 30-second control loop wants the newest samples with the fewest hops; Mimir adds remote-write lag
 * and a query-frontend cache and is there for long-term history (Grafana), which scaling never reads.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { helmRelease } from "../lib/k8s/helm";
import {
  allowKubeApiserverEgress,
  createNetworkPolicies,
  podsIn,
  type NetworkPolicyDef,
} from "../lib/k8s/networkPolicies";
import { chartWorkloads, prometheusPodLabels } from "../platform/chartContracts";
import type { PlatformContext } from "../platform/context";
import { modelNamespace } from "../platform/registry";
import { workloadLabels } from "../platform/scheduling";
import { renamedFrom } from "../platform/typeTokens";
import { charts } from "../platform/versions";

/** Namespace of the KEDA release (see the module comment for why). */
const kedaNamespace = chartWorkloads.kedaOperator.namespace;

/** The `app` labels of KEDA's three Deployments (chart contract). */
const kedaApps = {
  operator: chartWorkloads.kedaOperator.podLabels.app,
  metricsApiServer: chartWorkloads.kedaMetricsApiServer.podLabels.app,
  webhooks: chartWorkloads.kedaWebhooks.podLabels.app,
};

/** Ports KEDA listens on: operator gRPC (metrics API server -> operator), metrics API, webhooks. */
const kedaPorts = {
  operatorGrpc: chartWorkloads.kedaOperator.ports[0].containerPort,
  metricsApi: chartWorkloads.kedaMetricsApiServer.ports[0].containerPort,
  webhooks: chartWorkloads.kedaWebhooks.ports[0].containerPort,
};

/** The Prometheus the scalers query: its HTTP API base URL and Service port (from Observability). */
export interface ScalerPrometheus {
  readonly url: string;
  readonly port: number;
}

/** Helm values of KEDA: watch only the model namespace, CPU nodes, explicit resources and security. */
export function kedaValues() {
  const resources = {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "1", memory: "512Mi" },
  };
  const podSecurity = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
  const containerSecurity = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
  return {
    // ScaledObjects live only in the model namespace.
    watchNamespace: modelNamespace,
    image: { pullPolicy: "IfNotPresent" },
    nodeSelector: workloadLabels.cpu,
    resources: { operator: resources, metricServer: resources, webhooks: resources },
    podSecurityContext: { operator: podSecurity, metricServer: podSecurity, webhooks: podSecurity },
    securityContext: {
      operator: containerSecurity,
      metricServer: containerSecurity,
      webhooks: containerSecurity,
    },
    // The Prometheus triggers need no credentials. `restrict.secret` keeps the operator's Secret
    // access to its own namespace (its certificate Role): without it the chart gives the operator
    // list/watch on the Secrets of every namespace it watches.
    permissions: {
      operator: { restrict: { secret: true, namesAllowList: ["kedaorg-certs"] } },
      metricServer: { restrict: { secret: true } },
    },
    // The ScaledObjects target Deployments only. Custom scale targets would give the operator `get` on
    // every resource (`*/*`), Secrets included, in each watched namespace.
    rbac: { enabledCustomScaledRefKinds: false },
  };
}

/**
 * NetworkPolicies of the KEDA pods, on top of their namespace's default-deny and DNS: the Kubernetes
 * API (VPC endpoint ENIs and the `kubernetes` Service); the control plane calls the metrics API and
 * the admission webhook (each only on the pods serving it, on its one port; from the VPC, since EKS
 * places its ENIs in any of the cluster's subnets); the metrics API server calls the operator over
 * gRPC; the operator queries Prometheus.
 */
export function kedaPolicies(
  vpcCidr: string,
  serviceCidr: string,
  prometheusPort: number,
): NetworkPolicyDef[] {
  const allKeda = {
    matchExpressions: [{ key: "app", operator: "In", values: Object.values(kedaApps) }],
  };
  const app = (name: string) => ({ matchLabels: { app: name } });
  const tcp = (port: number) => [{ protocol: "TCP", port }];
  return [
    allowKubeApiserverEgress("allow-kube-apiserver", allKeda, vpcCidr, serviceCidr),
    {
      name: "allow-control-plane-to-metrics-api",
      spec: {
        podSelector: app(kedaApps.metricsApiServer),
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: vpcCidr } }], ports: tcp(kedaPorts.metricsApi) }],
      },
    },
    {
      name: "allow-control-plane-to-webhooks",
      spec: {
        podSelector: app(kedaApps.webhooks),
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: vpcCidr } }], ports: tcp(kedaPorts.webhooks) }],
      },
    },
    {
      name: "allow-metrics-api-to-operator",
      spec: {
        podSelector: app(kedaApps.operator),
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ podSelector: app(kedaApps.metricsApiServer) }],
            ports: tcp(kedaPorts.operatorGrpc),
          },
        ],
      },
    },
    {
      name: "allow-metrics-api-egress-to-operator",
      spec: {
        podSelector: app(kedaApps.metricsApiServer),
        policyTypes: ["Egress"],
        egress: [
          { to: [{ podSelector: app(kedaApps.operator) }], ports: tcp(kedaPorts.operatorGrpc) },
        ],
      },
    },
    {
      name: "allow-operator-to-prometheus",
      spec: {
        podSelector: app(kedaApps.operator),
        policyTypes: ["Egress"],
        egress: [
          {
            to: [podsIn("observability", prometheusPodLabels)],
            ports: tcp(prometheusPort),
          },
        ],
      },
    },
  ];
}

/** The observability side of the scaler flow: Prometheus admits queries from the KEDA operator. */
function prometheusFromKedaPolicy(prometheusPort: number): NetworkPolicyDef {
  return {
    name: `allow-keda-operator-to-prometheus-${prometheusPort}`,
    spec: {
      podSelector: { matchLabels: prometheusPodLabels },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [podsIn(kedaNamespace, { app: kedaApps.operator })],
          ports: [{ protocol: "TCP", port: prometheusPort }],
        },
      ],
    },
  };
}

export interface KedaArgs {
  /** VPC and Service CIDRs (its NetworkPolicies). */
  readonly ctx: PlatformContext;
  /** Its namespace, `keda` (an Output of the Namespace, so the release waits for it). */
  readonly namespace: pulumi.Output<string>;
  /** The Prometheus the scalers query (Observability's in-cluster Prometheus, see above). */
  readonly prometheus: ScalerPrometheus;
  /** The observability namespace (Prometheus admits the operator's queries there). */
  readonly observabilityNamespace: pulumi.Output<string>;
  /** What the release waits for (CPU nodes to run on). */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * KEDA (pinned chart) in its own namespace with its NetworkPolicies and Prometheus's matching rule.
 * The Kubernetes provider comes through `opts.providers`.
 */
export class Keda extends pulumi.ComponentResource {
  /** The Helm release: ScaledObjects depend on it (it installs their CRD and admission webhook). */
  readonly release: k8s.helm.v3.Release;
  /** Where the ScaledObjects' Prometheus triggers query. */
  readonly prometheusUrl: string;

  constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:models:Keda", name, {}, renamedFrom("llmplatform:Keda", opts));
    const k = { parent: this };
    this.release = helmRelease("keda", charts.keda, args.namespace, kedaValues(), {
      ...k,
      dependsOn: args.dependsOn,
      // Moving the release out of kube-system (stacks deployed before) replaces it; the new release
      // cannot install while the old one owns KEDA's CRDs, so the old one goes first.
      deleteBeforeReplace: true,
    });
    createNetworkPolicies(
      kedaNamespace,
      args.namespace,
      kedaPolicies(args.ctx.vpcCidr, args.ctx.serviceCidr, args.prometheus.port),
      k,
    );
    createNetworkPolicies(
      "observability",
      args.observabilityNamespace,
      [prometheusFromKedaPolicy(args.prometheus.port)],
      k,
    );
    this.prometheusUrl = args.prometheus.url;
    this.registerOutputs({});
  }
}
