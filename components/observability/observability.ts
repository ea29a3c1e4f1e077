import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../platform/context";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { allowHttpsEgress, type NetworkPolicyDef } from "../lib/k8s/networkPolicies";
import type { ObservabilityConfig } from "../config/observability";
import { renamedFrom } from "../platform/typeTokens";
import type { UnitScope } from "./unitScope";
import { createLogAgent, createOtelCollector, type CollectorEndpoints } from "./collectors";
import { createGrafana } from "./grafana";
import { createLoki } from "./loki";
import { createMimir } from "./mimir";
import { createPrometheus, type PrometheusEndpoints } from "./prometheus";
import type { ModelStartBudgets } from "./modelStart";
import { createTempo } from "./tempo";

export { dashboards } from "./grafana";

/**
 * NetworkPolicies of the observability namespace, on top of its default-deny baseline: its
 * components talk among themselves; Prometheus scrapes pods and nodes anywhere in the VPC; the
 * Kubernetes API (service discovery, operators) and webhooks from the control plane; HTTPS out for S3,
 * STS and the alert webhook; the ALB reaches Grafana.
 */
function observabilityPolicies(vpcCidr: string, serviceCidr: string): NetworkPolicyDef[] {
  const all = {};
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
    {
      name: "allow-kube-apiserver",
      spec: {
        podSelector: all,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: vpcCidr } }, { ipBlock: { cidr: serviceCidr } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
        ],
      },
    },
    {
      name: "allow-webhooks-from-control-plane",
      spec: {
        podSelector: all,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ ipBlock: { cidr: vpcCidr } }],
            ports: [8443, 9443, 10250].map((port) => ({ protocol: "TCP", port })),
          },
        ],
      },
    },
    {
      name: "allow-prometheus-scrape-anywhere",
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }, { namespaceSelector: {} }] }],
      },
    },
    allowHttpsEgress("allow-https-to-aws-and-webhooks", {}, vpcCidr),
    {
      name: "allow-alb-to-grafana-3000",
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port: 3000 }] },
        ],
      },
    },
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
}

/**
 * Metrics (Prometheus, Mimir where enabled), logs (Loki + node log agent), traces (Tempo), the OTEL
 * Collector, Grafana with datasources and dashboards, alert rules and scrape targets, all in
 * `observability`, on the CPU nodes. Each store or chart is a unit of its own (./prometheus.ts, ./mimir.ts,
 * ...) that returns the endpoints it serves; this component only wires one unit's endpoints into the
 * next. Providers come through `opts.providers` (kubernetes, aws).
 */
export class Observability extends pulumi.ComponentResource {
  readonly grafanaAdminPassword: pulumi.Output<string>;
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
    };
    const mimir = args.config.mimir.enabled ? createMimir(scope) : undefined;
    this.prometheus = createPrometheus(scope, {
      ...(mimir ? { remoteWriteUrl: mimir.pushUrl } : {}),
      ...(args.alertWebhookUrl ? { alertWebhookUrl: args.alertWebhookUrl } : {}),
      ...(args.modelStart ? { modelStart: args.modelStart } : {}),
    });
    const loki = createLoki(scope);
    const tempo = createTempo(scope, this.prometheus.remoteWriteUrl);
    this.collector = createOtelCollector(scope, {
      traces: tempo.exporter,
      metrics: this.prometheus.exporter,
      logs: loki.exporter,
    });
    createLogAgent(scope, loki.exporter);
    this.grafanaAdminPassword = createGrafana(scope, args.grafanaUrl, {
      // Long-term history where Mimir runs.
      metrics: (mimir ?? this.prometheus).datasource,
      logs: loki.datasource,
      traces: tempo.datasource,
    });
    createNetworkPolicies(
      "observability",
      args.namespace,
      observabilityPolicies(args.ctx.vpcCidr, args.ctx.serviceCidr),
      { parent: this },
    );
    this.registerOutputs({ grafanaAdminPassword: this.grafanaAdminPassword });
  }
}
