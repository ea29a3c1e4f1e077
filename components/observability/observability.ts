import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../platform/context";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import {
  allowHttpsEgress,
  allowKubeApiserverEgress,
  allowLoadBalancerTo,
  type NetworkPolicyDef,
} from "../lib/k8s/networkPolicies";
import { chartEndpoints, chartWorkloads } from "../platform/chartContracts";
import type { ObservabilityConfig } from "../config/observability";
import { renamedFrom } from "../platform/typeTokens";
import type { UnitScope } from "./unitScope";
import type { SecretStore } from "../lib/k8s/syncedSecret";
import { createLogAgent, createOtelCollector, type CollectorEndpoints } from "./collectors";
import { createGrafana } from "./grafana";
import { createLoki } from "./loki";
import { createMimir } from "./mimir";
import { createPrometheus, type PrometheusEndpoints } from "./prometheus";
import type { ModelStartBudgets } from "./modelStart";
import { createTempo } from "./tempo";

export { dashboards } from "./grafana";

/**
 * The admission webhooks the control plane calls in this namespace, each only on the pods that serve
 * it and on its one port: the Prometheus Operator's (PrometheusRule and AlertmanagerConfig
 * validation), and, where Mimir runs, its rollout-operator's (8443, pods as the chart contract
 * names them). The source stays the VPC: EKS places the control
 * plane's ENIs in any of the cluster's subnets, public and private alike.
 */
function controlPlaneWebhookPolicies(vpcCidr: string, mimir: boolean): NetworkPolicyDef[] {
  const operator = chartWorkloads.prometheusOperator;
  const rollout = chartWorkloads.mimirRolloutOperator;
  const fromControlPlane = (name: string, podLabels: Record<string, string>, port: number) => ({
    name,
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port }] }],
    },
  });
  return [
    fromControlPlane(
      `allow-control-plane-to-prometheus-operator-webhook-${operator.ports[0].containerPort}`,
      { ...operator.podLabels },
      operator.ports[0].containerPort,
    ),
    ...(mimir
      ? [
          fromControlPlane(
            `allow-control-plane-to-mimir-rollout-operator-webhook-${rollout.ports[0].containerPort}`,
            { ...rollout.podLabels },
            rollout.ports[0].containerPort,
          ),
        ]
      : []),
  ];
}

/**
 * NetworkPolicies of the observability namespace, on top of its default-deny baseline: its
 * components talk among themselves; Prometheus scrapes pods and nodes anywhere in the VPC; the
 * Kubernetes API (service discovery, operators) and webhooks from the control plane; HTTPS out for S3,
 * STS and the alert webhook; the ALB (from the public subnets only) reaches Grafana.
 */
function observabilityPolicies(
  ctx: Pick<PlatformContext, "vpcCidr" | "serviceCidr" | "loadBalancerCidrs">,
  mimir: boolean,
): NetworkPolicyDef[] {
  const all = {};
  const { vpcCidr, serviceCidr } = ctx;
  return [
    {
      name: "allow-within-observability",
      spec: {
        podSelector: all,
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: all }] }],
        egress: [{ to: [{ podSelector: all }] }],
      },
    },
    allowKubeApiserverEgress("allow-kube-apiserver", all, vpcCidr, serviceCidr),
    ...controlPlaneWebhookPolicies(vpcCidr, mimir),
    {
      name: "allow-prometheus-scrape-anywhere",
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }, { namespaceSelector: {} }] }],
      },
    },
    allowHttpsEgress("allow-https-to-aws-and-webhooks", {}, vpcCidr),
    allowLoadBalancerTo(
      { "app.kubernetes.io/name": "grafana" },
      chartEndpoints.grafana.containerPort,
      ctx.loadBalancerCidrs,
      `allow-alb-to-grafana-${chartEndpoints.grafana.containerPort}`,
    ),
  ];
}

export interface ObservabilityArgs {
  /** Cluster, region, OIDC, CIDRs. */
  readonly ctx: PlatformContext;
  readonly config: ObservabilityConfig;
  /** Grafana's public URL (its root_url): https://<host>, or http://<alb>:<port> without TLS. */
  readonly grafanaUrl: pulumi.Input<string>;
  /** Alertmanager's webhook URL (secret); none: alerts go nowhere but Grafana. */
  readonly alertWebhookUrl?: pulumi.Output<string>;
  /** The model servers' predicted starts: recorded beside the measured ones, alerted on overrun. */
  readonly modelStart?: ModelStartBudgets;
  readonly namespace: pulumi.Output<string>;
  /** The CPU nodes, and the load balancer controller whose webhook admits pods in this namespace. */
  readonly dependsOn: pulumi.Resource[];
  /** Where Grafana's admin login and the alert webhook are kept (Secrets Manager, synced by ESO). */
  readonly secrets: SecretStore;
}

/**
 * Metrics (Prometheus, Mimir where enabled), logs (Loki + node log agent), traces (Tempo), the OTEL
 * Collector, Grafana with datasources and dashboards, alert rules and scrape targets, all in
 * `observability`, on the CPU nodes. Each store or chart is a unit of its own (./prometheus.ts, ./mimir.ts,
 * ...) that returns the endpoints it serves; this component only wires one unit's endpoints into the
 * next. Providers come through `opts.providers` (kubernetes, aws).
 */
export class Observability extends pulumi.ComponentResource {
  /** Secrets Manager name of Grafana's admin login (JSON: admin-user, admin-password). */
  readonly grafanaAdminSecret: string;
  /** Prometheus, for in-cluster clients that need the newest samples (KEDA's scalers). */
  readonly prometheus: PrometheusEndpoints;
  /** Where applications send OTLP. */
  readonly collector: CollectorEndpoints;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "llmplatform:observability:Observability",
      name,
      {},
      renamedFrom("llmplatform:Observability", opts),
    );
    const scope: UnitScope = {
      name,
      parent: this,
      ctx: args.ctx,
      config: args.config,
      namespace: args.namespace,
      dependsOn: args.dependsOn,
      secrets: args.secrets,
    };
    const mimir = args.config.mimir.enabled ? createMimir(scope) : undefined;
    this.prometheus = createPrometheus(scope, {
      ...(mimir ? { remoteWriteUrl: mimir.pushUrl } : {}),
      ...(args.alertWebhookUrl ? { alertWebhookUrl: args.alertWebhookUrl } : {}),
      ...(args.modelStart ? { modelStart: args.modelStart } : {}),
    });
    const loki = createLoki(scope);
    // Metrics pushed to a Prometheus Service land on one replica; where Mimir dedupes the replicas
    // (mimir.ts), samples on the replica it does not elect would never reach it. So pushers write to
    // Mimir directly where it runs: Tempo's span metrics and the collector's OTLP metrics.
    const tempo = createTempo(scope, mimir ? mimir.pushUrl : this.prometheus.remoteWriteUrl);
    this.collector = createOtelCollector(scope, {
      traces: tempo.exporter,
      metrics: (mimir ?? this.prometheus).exporter,
      logs: loki.exporter,
    });
    createLogAgent(scope, loki.exporter);
    this.grafanaAdminSecret = createGrafana(scope, args.grafanaUrl, {
      // Long-term history where Mimir runs.
      metrics: (mimir ?? this.prometheus).datasource,
      logs: loki.datasource,
      traces: tempo.datasource,
    });
    createNetworkPolicies(
      "observability",
      args.namespace,
      observabilityPolicies(args.ctx, args.config.mimir.enabled),
      { parent: this },
    );
    this.registerOutputs({ grafanaAdminSecret: this.grafanaAdminSecret });
  }
}
