import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartWorkloads } from "../chartContracts";
import * as random from "@pulumi/random";
import { PrivateBucket } from "../aws/bucket";
import { IrsaRole, type OidcIdentity } from "../aws/irsa";
import { bucketOwnerPolicy } from "../aws/servicePolicies";
import { modelNamespace, modelServerLabel, partOf, serviceDesign, serviceNames } from "../catalog";
import { helmRelease } from "../k8s/helm";
import { createNetworkPolicies } from "../k8s/namespaces";
import { allowHttpsEgress, type NetworkPolicyDef } from "../k8s/networkPolicies";
import type { ObservabilityConfig } from "../schema/observability";
import { charts } from "../versions";
import { platformRuleSpec } from "./alerts";
import gpuDashboard from "./dashboards/gpu.json";
import redDashboard from "./dashboards/platform-red.json";
import vllmDashboard from "./dashboards/vllm.json";
import { otelAgentValues, otelCollectorValues } from "./values/collectors";
import { grafanaValues } from "./values/grafana";
import { lokiValues, tempoValues } from "./values/logsAndTraces";
import { kubePrometheusStackValues, mimirValues } from "./values/metrics";
import { renamedFrom } from "../typeTokens";

/** The dashboards provisioned into Grafana, as JSON text by file name. */
export const dashboards: Record<string, string> = {
  "platform-red": JSON.stringify(redDashboard),
  vllm: JSON.stringify(vllmDashboard),
  gpu: JSON.stringify(gpuDashboard),
};

/** kube-state-metrics exports these node/pod labels, so alerts and dashboards can select GPU nodes. */
const kubeStateMetricsLabels = [
  "nodes=[workload,eks.amazonaws.com/capacityType,llmplatform.io/node-group]",
  "pods=[app]",
];

/** PodMonitors: the four services and the vLLM servers (/metrics on `http`), and the DCGM exporter. */
function podMonitorSpecs() {
  const endpoint = (port: string) => [{ port, path: "/metrics", interval: "30s" }];
  return {
    "platform-services": {
      namespaceSelector: {
        matchNames: [...new Set(serviceNames.map((s) => serviceDesign[s].namespace))],
      },
      selector: { matchExpressions: [{ key: "app", operator: "In", values: [...serviceNames] }] },
      podMetricsEndpoints: endpoint("http"),
      podTargetLabels: ["app", "team"],
    },
    "model-servers": {
      namespaceSelector: { matchNames: [modelNamespace] },
      selector: { matchLabels: { [modelServerLabel]: "true" } },
      podMetricsEndpoints: endpoint("http"),
      podTargetLabels: ["app", "llmplatform.io/model-variant"],
    },
    "dcgm-exporter": {
      namespaceSelector: { matchNames: ["observability"] },
      selector: { matchLabels: { ...chartWorkloads.dcgmExporter.podLabels } },
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
    },
  };
}

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
  readonly stack: string;
  readonly clusterName: string;
  readonly region: string;
  readonly vpcCidr: string;
  readonly serviceCidr: string;
  readonly o: ObservabilityConfig;
  /** Grafana's public URL (its root_url): https://<host>, or http://<alb>:<port> without TLS. */
  readonly grafanaUrl: pulumi.Input<string>;
  readonly alertWebhookUrl?: pulumi.Output<string>;
  readonly oidc: OidcIdentity;
  readonly namespace: pulumi.Output<string>;
  /** The CPU nodes, and the load balancer controller whose webhook admits pods in this namespace. */
  readonly dependsOn: pulumi.Resource[];
  readonly provider: k8s.Provider;
}

/**
 * Metrics (Prometheus, Mimir in prod), logs (Loki + node log agent), traces (Tempo), the OTEL
 * Collector, Grafana with datasources and dashboards, alert rules and scrape targets, all in
 * `observability`, on the CPU nodes.
 */
export class Observability extends pulumi.ComponentResource {
  readonly grafanaAdminPassword: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "llmplatform:observability:Observability",
      name,
      {},
      renamedFrom("llmplatform:Observability", opts),
    );
    const o = args.o;
    const ns = args.namespace;
    const k = { parent: this, provider: args.provider };
    const release = (
      releaseName: string,
      pin: (typeof charts)[keyof typeof charts],
      values: pulumi.Input<Record<string, unknown>>,
      deps: pulumi.Resource[] = [],
    ) =>
      helmRelease(releaseName, pin, ns, values, { ...k, dependsOn: [...args.dependsOn, ...deps] });

    /** An S3-backed store: its buckets and an IRSA role owning them. */
    const store = (component: string, buckets: string[]) => {
      const made = buckets.map(
        (b) => new PrivateBucket(`${args.clusterName}-${b}`, {}, { parent: this }),
      );
      const role = new IrsaRole(
        `${name}-${component}`,
        {
          oidc: args.oidc,
          namespace: "observability",
          serviceAccount: component,
          roleName: `${args.clusterName}-${component}-irsa`,
          inlinePolicies: {
            [`${component}-buckets`]: pulumi
              .all(made.map((m) => m.arn))
              .apply((arns) => bucketOwnerPolicy(arns)),
          },
        },
        { parent: this },
      );
      return { role, names: made.map((m) => m.bucketName) };
    };

    const webhook = args.alertWebhookUrl
      ? new k8s.core.v1.Secret(
          `${name}-alert-webhook`,
          {
            metadata: {
              name: "alertmanager-webhook",
              namespace: ns,
              labels: { "app.kubernetes.io/part-of": partOf },
            },
            stringData: { url: args.alertWebhookUrl },
          },
          k,
        )
      : undefined;
    const kps = release(
      "kube-prometheus-stack",
      charts.kubePrometheusStack,
      (() => {
        const v = kubePrometheusStackValues({
          stack: args.stack,
          clusterName: args.clusterName,
          o,
          ...(webhook ? { webhookSecret: "alertmanager-webhook" } : {}),
        });
        return {
          ...v,
          "kube-state-metrics": {
            ...v["kube-state-metrics"],
            metricLabelsAllowlist: kubeStateMetricsLabels,
          },
        };
      })(),
      webhook ? [webhook] : [],
    );

    if (o.mimir.enabled) {
      const mimir = store("mimir", ["mimir-blocks", "mimir-ruler"]);
      release(
        "mimir",
        charts.mimir,
        pulumi.all([mimir.role.roleArn, ...mimir.names]).apply(([roleArn, blocks, ruler]) =>
          mimirValues({
            region: args.region,
            roleArn: roleArn!,
            blocksBucket: blocks!,
            rulerBucket: ruler!,
            retentionDays: o.mimir.retentionDays,
          }),
        ),
        [mimir.role],
      );
    }

    const loki = o.loki.storage === "s3" ? store("loki", ["loki"]) : undefined;
    release(
      "loki",
      charts.loki,
      loki
        ? pulumi
            .all([loki.role.roleArn, loki.names[0]!])
            .apply(([roleArn, bucket]) => lokiValues({ o, region: args.region, roleArn, bucket }))
        : lokiValues({ o, region: args.region }),
      loki ? [loki.role] : [],
    );

    const tempo = o.tempo.storage === "s3" ? store("tempo", ["tempo"]) : undefined;
    release(
      "tempo",
      charts.tempo,
      tempo
        ? pulumi
            .all([tempo.role.roleArn, tempo.names[0]!])
            .apply(([roleArn, bucket]) => tempoValues({ o, region: args.region, roleArn, bucket }))
        : tempoValues({ o, region: args.region }),
      tempo ? [tempo.role] : [],
    );

    release("otel-collector", charts.opentelemetryCollector, otelCollectorValues(o));
    release("otel-agent", charts.opentelemetryCollector, otelAgentValues());

    const password = new random.RandomPassword(
      `${name}-grafana-admin`,
      { length: 32, special: false },
      { parent: this },
    );
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: {
          name: "grafana-admin",
          namespace: ns,
          labels: { "app.kubernetes.io/part-of": partOf },
        },
        stringData: { "admin-user": "admin", "admin-password": password.result },
      },
      k,
    );
    release(
      "grafana",
      charts.grafana,
      pulumi.output(args.grafanaUrl).apply((rootUrl) =>
        grafanaValues({
          rootUrl,
          adminSecret: "grafana-admin",
          mimir: o.mimir.enabled,
          persistenceGi: o.grafana.persistenceGi,
          dashboards,
        }),
      ),
      [adminSecret],
    );

    // Custom resources of the Prometheus Operator: their CRDs arrive with kube-prometheus-stack.
    const cr = { ...k, dependsOn: [kps] };
    for (const [monitor, spec] of Object.entries(podMonitorSpecs())) {
      new k8s.apiextensions.CustomResource(
        `${name}-${monitor}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PodMonitor",
          metadata: {
            name: monitor,
            namespace: ns,
            labels: { "app.kubernetes.io/part-of": partOf },
          },
          spec,
        },
        cr,
      );
    }
    new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: {
          name: "llm-platform",
          namespace: ns,
          labels: { "app.kubernetes.io/part-of": partOf },
        },
        spec: platformRuleSpec(),
      },
      cr,
    );

    createNetworkPolicies(
      "observability",
      ns,
      observabilityPolicies(args.vpcCidr, args.serviceCidr),
      k,
    );

    this.grafanaAdminPassword = password.result;
    this.registerOutputs({ grafanaAdminPassword: this.grafanaAdminPassword });
  }
}
