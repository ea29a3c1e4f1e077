/**
 * The traffic the platform needs, checked against the NetworkPolicies: each flow names its sources and
 * destinations by the labels the program and the chart contract give them, must find pods on both
 * sides, and must be allowed for every pair.
 */
import {
  chartEndpoints,
  chartWorkloads,
  type ChartEndpoint,
} from "../../components/platform/chartContracts";
import {
  modelDesign,
  modelServerName,
  modelNamespace,
  serviceDesign,
  serviceNames,
  servicePort,
  teamApis,
} from "../../components/platform/registry";
import { benchmarkNames } from "../../components/benchmarks/settings";
import {
  containersOf,
  selects,
  type ClusterModel,
  type LabelSelector,
  type PodInstance,
} from "../model";
import { inAddressOrder, stsRegionalHostname } from "../../components/lib/aws/stsEndpoint";
import { weightsFromLabel } from "../../components/models/modelServer";
import { stagingApp } from "../../components/models/modelStaging";
import { denied, type Peer } from "./networkPolicies";
import { findings, type Finding } from "./problem";

/** Pods by namespace and label selector. */
export interface PodSet {
  readonly namespace?: string;
  readonly selector: LabelSelector;
  /** Only pods running as this ServiceAccount. */
  readonly serviceAccount?: string;
}

/** A connection the platform needs. */
export interface Flow {
  readonly name: string;
  readonly from: PodSet | { readonly ip: string; readonly name: string };
  readonly to: PodSet | { readonly ip: string; readonly name: string };
  readonly port: number;
  readonly protocol?: "TCP" | "UDP";
  /** The flow exists only when both ends are deployed (Mimir only where enabled, a variant at zero). */
  readonly optional?: boolean;
  /** The destination's container port by name (webhooks target named ports). */
  readonly namedPort?: string;
  /** A connection the platform must NOT allow (e.g. streaming model servers to the internet). */
  readonly deny?: boolean;
}

/** A public AWS service address (S3, STS): what HTTPS egress to AWS APIs must reach. */
const awsApiAddress = "52.94.0.10";

const endpoint = (e: ChartEndpoint): PodSet => ({
  namespace: e.namespace,
  selector: { matchLabels: { ...e.podLabels } },
});
const app = (namespace: string, name: string): PodSet => ({
  namespace,
  selector: { matchLabels: { app: name } },
});

/** The flows every stack needs, from the registry and the chart contract. */
function requiredFlows(model: ClusterModel, pods: readonly PodInstance[]): Flow[] {
  const ep = chartEndpoints;
  const alb = { ip: model.loadBalancerAddress, name: "ALB (public subnet)" };
  const services = serviceNames.map((s) => app(serviceDesign[s].namespace, s));
  const flows: Flow[] = [
    ...services.map((from, i) => ({
      name: `${serviceNames[i]} -> otel-collector`,
      from,
      to: endpoint(ep.otelCollectorGrpc),
      port: ep.otelCollectorGrpc.containerPort,
    })),
    {
      name: "otel-collector -> tempo",
      from: endpoint(ep.otelCollectorGrpc),
      to: endpoint(ep.tempoOtlpGrpc),
      port: ep.tempoOtlpGrpc.containerPort,
    },
    {
      name: "otel-collector -> loki",
      from: endpoint(ep.otelCollectorGrpc),
      to: endpoint(ep.loki),
      port: ep.loki.containerPort,
      // Only when Loki runs in the cluster (observability.loki.storage external: none).
      optional: true,
    },
    {
      name: "otel-collector -> prometheus",
      from: endpoint(ep.otelCollectorGrpc),
      to: endpoint(ep.prometheus),
      port: ep.prometheus.containerPort,
    },
    {
      name: "otel-agent -> loki",
      from: {
        namespace: chartWorkloads.otelAgent.namespace,
        selector: { matchLabels: { ...chartWorkloads.otelAgent.podLabels } },
      },
      to: endpoint(ep.loki),
      port: ep.loki.containerPort,
      // Only when Loki runs in the cluster (observability.loki.storage external: none).
      optional: true,
    },
    ...([ep.prometheus, ep.loki, ep.tempoQuery] as ChartEndpoint[]).map((to) => ({
      name: `grafana -> ${to.service}:${to.port}`,
      from: endpoint(ep.grafana),
      to: endpoint(to),
      port: to.containerPort,
      optional: to === ep.loki,
    })),
    {
      name: "grafana -> mimir-query-frontend",
      from: endpoint(ep.grafana),
      to: endpoint(ep.mimirQueryFrontend),
      port: ep.mimirQueryFrontend.containerPort,
      optional: true,
    },
    {
      name: "prometheus -> mimir-distributor",
      from: endpoint(ep.prometheus),
      to: endpoint(ep.mimirDistributor),
      port: ep.mimirDistributor.containerPort,
      optional: true,
    },
    ...Object.values(teamApis).map((api) => ({
      name: `gateway -> ${api}`,
      from: app(serviceDesign.gateway.namespace, "gateway"),
      to: app(serviceDesign[api].namespace, api),
      port: servicePort,
    })),
    ...Object.entries(modelDesign)
      .filter(([, d]) => d.client !== "gateway")
      .map(([variant, d]) => ({
        name: `${d.client} -> ${modelServerName(variant)}`,
        from: app(serviceDesign[d.client].namespace, d.client),
        to: app(modelNamespace, modelServerName(variant)),
        port: servicePort,
        optional: true,
      })),
    {
      name: "ALB -> gateway",
      from: alb,
      to: app(serviceDesign.gateway.namespace, "gateway"),
      port: servicePort,
    },
    { name: "ALB -> grafana", from: alb, to: endpoint(ep.grafana), port: ep.grafana.containerPort },
  ];
  return [
    ...flows,
    ...benchmarkFlows(),
    ...dnsFlows(model),
    ...irsaFlows(model, pods),
    ...webhookFlows(model),
    ...modelStoreFlows(model),
  ];
}

/** The benchmark client reaches every variant's server; its record step queries Prometheus. */
function benchmarkFlows(): Flow[] {
  const step = (name: string): PodSet => ({
    namespace: modelNamespace,
    selector: {
      matchLabels: { app: benchmarkNames.app, [benchmarkNames.stepLabel]: name },
    },
  });
  return [
    ...Object.keys(modelDesign).map((variant) => ({
      name: `benchmark client -> ${modelServerName(variant)}`,
      from: step("bench"),
      to: app(modelNamespace, modelServerName(variant)),
      port: servicePort,
    })),
    {
      name: "benchmark record -> prometheus",
      from: step("record"),
      to: endpoint(chartEndpoints.prometheus),
      port: chartEndpoints.prometheus.containerPort,
    },
  ];
}

/**
 * The model store's traffic: the staging Jobs reach the Hugging Face Hub and S3; streaming model
 * servers reach S3 through the gateway endpoint (STS: `irsaFlows`) and nothing on the internet, on
 * any port, nor the public AWS APIs, nor any other VPC address on 443 (pods, the Kubernetes API);
 * Hub-fallback servers still reach the Hub.
 */
function modelStoreFlows(model: ClusterModel): Flow[] {
  const streamers: PodSet = {
    namespace: modelNamespace,
    selector: { matchLabels: { [weightsFromLabel]: "store" } },
  };
  const hubServers: PodSet = {
    namespace: modelNamespace,
    selector: { matchLabels: { [weightsFromLabel]: "hub" } },
  };
  const stager = app(modelNamespace, stagingApp);
  const s3 = { ip: model.s3Address, name: "S3 (gateway endpoint)" };
  const internet = { ip: model.internetAddress, name: "the internet (e.g. huggingface.co)" };
  return [
    { name: "model staging -> S3", from: stager, to: s3, port: 443, optional: true },
    {
      name: "model staging -> Hugging Face Hub",
      from: stager,
      to: internet,
      port: 443,
      optional: true,
    },
    { name: "streaming model servers -> S3", from: streamers, to: s3, port: 443, optional: true },
    ...[443, 80].map((port) => ({
      name: `streaming model servers -/-> the internet:${port}`,
      from: streamers,
      to: internet,
      port,
      optional: true,
      deny: true,
    })),
    {
      name: "streaming model servers -/-> public AWS APIs (STS only through the VPC's endpoint)",
      from: streamers,
      to: { ip: awsApiAddress, name: "AWS APIs" },
      port: 443,
      optional: true,
      deny: true,
    },
    {
      name: "streaming model servers -/-> the VPC:443 (the STS endpoint's addresses only)",
      from: streamers,
      to: { ip: model.vpcAddress, name: "a VPC address (pods, the Kubernetes API)" },
      port: 443,
      optional: true,
      deny: true,
    },
    {
      name: "Hub-fallback model servers -> Hugging Face Hub",
      from: hubServers,
      to: internet,
      port: 443,
      optional: true,
    },
  ];
}

/** The addresses a pod's `hostAliases` give a host, in address order ([] when it leaves it to DNS). */
function aliasedAddresses(spec: any, host: string): string[] {
  return inAddressOrder(
    (spec.hostAliases ?? [])
      .filter((a: { hostnames?: string[] }) => (a.hostnames ?? []).includes(host))
      .map((a: { ip: string }) => a.ip),
  );
}

/** The STS hosts a pod's `hostAliases` name (`sts.` names): the pod resolves STS itself. */
function aliasedStsHosts(spec: any): string[] {
  return [
    ...new Set<string>(
      (spec.hostAliases ?? []).flatMap((a: { hostnames?: string[] }) =>
        (a.hostnames ?? []).filter((h) => h.startsWith("sts.")),
      ),
    ),
  ];
}

/**
 * Every pod running with an IRSA role that carries permissions reaches AWS APIs (STS, S3) on 443: the
 * public endpoints, or, for pods that resolve the regional STS name to the VPC's STS interface
 * endpoint themselves (`hostAliases`; `checkStsResolution` proves they do so correctly), each of the
 * endpoint's addresses.
 */
function irsaFlows(model: ClusterModel, pods: readonly PodInstance[]): Flow[] {
  const roleName = (arn: string | undefined) => arn?.split(":role/")[1]?.split("/").pop();
  return model.objects
    .filter(
      (o) =>
        o.obj.kind === "ServiceAccount" &&
        model.permittedRoles.includes(
          roleName(o.obj.metadata.annotations?.["eks.amazonaws.com/role-arn"]) ?? "",
        ),
    )
    .flatMap(({ obj }): Flow[] => {
      const from = {
        namespace: obj.metadata.namespace!,
        selector: {},
        serviceAccount: obj.metadata.name,
      };
      const mine = podsOf(pods, from);
      const viaEndpoint = mine.length > 0 && mine.every((p) => aliasedStsHosts(p.spec).length > 0);
      return viaEndpoint
        ? model.stsEndpointAddresses.map((ip) => ({
            name: `${obj.metadata.namespace}/${obj.metadata.name} (IRSA) -> STS interface endpoint ${ip}`,
            from,
            to: { ip, name: `STS interface endpoint (${ip})` },
            port: 443,
          }))
        : [
            {
              name: `${obj.metadata.namespace}/${obj.metadata.name} (IRSA) -> AWS APIs`,
              from,
              to: { ip: awsApiAddress, name: "AWS APIs" },
              port: 443,
              optional: true,
            },
          ];
    });
}

/**
 * Pods that resolve STS themselves (`hostAliases` naming an `sts.` host) reach the VPC's STS interface
 * endpoint from every container, whatever SDK it runs: each container names its region (the SDKs
 * build `sts.<region>.amazonaws.com` from it) and asks for the regional endpoint
 * (`AWS_STS_REGIONAL_ENDPOINTS=regional`; on the legacy default some SDKs call `sts.amazonaws.com`,
 * which neither the aliases nor the endpoint's certificate cover), and the pod resolves that name to
 * exactly the endpoint's addresses (a missing one loses an AZ; a foreign one sends the web-identity
 * token elsewhere). components/lib/aws/stsEndpoint.ts.
 */
export function checkStsResolution(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("sts-endpoint");
  const endpoint = inAddressOrder(model.stsEndpointAddresses);
  for (const pod of pods) {
    const aliased = aliasedStsHosts(pod.spec);
    if (aliased.length === 0) continue;
    if (endpoint.length === 0) {
      f.add(
        pod.owner,
        "resolves STS through hostAliases, but the cluster has no STS interface endpoint",
      );
      continue;
    }
    const used = new Set<string>();
    for (const c of containersOf(pod.spec)) {
      const subject = `${pod.owner} container ${c.name}`;
      const env = new Map<string, string | undefined>(
        (c.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]),
      );
      const regions = [
        ...new Set([env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION")].filter((r) => r)),
      ] as string[];
      if (regions.length !== 1) {
        f.add(
          subject,
          regions.length === 0
            ? "names no region (AWS_REGION, AWS_DEFAULT_REGION): its SDK cannot build the regional STS name"
            : `names two regions (${regions.join(", ")})`,
        );
        continue;
      }
      if (env.get("AWS_STS_REGIONAL_ENDPOINTS") !== "regional")
        f.add(
          subject,
          "does not set AWS_STS_REGIONAL_ENDPOINTS=regional: an SDK on the legacy default calls sts.amazonaws.com, outside the aliases and the endpoint's certificate",
        );
      const host = stsRegionalHostname(regions[0]!);
      used.add(host);
      const ips = aliasedAddresses(pod.spec, host);
      if (ips.join() !== endpoint.join())
        f.add(
          subject,
          `resolves ${host} to [${ips.join(", ")}], not the STS interface endpoint's addresses [${endpoint.join(", ")}]`,
        );
    }
    for (const host of aliased.filter((h) => !used.has(h)))
      f.add(pod.owner, `hostAliases name ${host}, which no container's region builds`);
  }
  return f.out;
}

/** The API server (control-plane ENIs in the VPC) reaches every admission webhook's pods. */
function webhookFlows(model: ClusterModel): Flow[] {
  const out: Flow[] = [];
  for (const { obj } of model.objects) {
    if (
      obj.kind !== "MutatingWebhookConfiguration" &&
      obj.kind !== "ValidatingWebhookConfiguration"
    )
      continue;
    for (const w of obj.webhooks ?? []) {
      const s = w.clientConfig?.service;
      if (!s) continue;
      const svc = model.objects.find(
        (o) =>
          o.obj.kind === "Service" &&
          o.obj.metadata.name === s.name &&
          o.obj.metadata.namespace === s.namespace,
      );
      const port = svc?.obj.spec.ports?.find((p: any) => p.port === (s.port ?? 443));
      if (!svc || !port) {
        out.push({
          name: `webhook ${w.name} -> missing Service ${s.namespace}/${s.name}:${s.port ?? 443}`,
          from: { ip: model.vpcAddress, name: "API server" },
          to: {
            namespace: s.namespace,
            selector: { matchLabels: { "webhook-service-missing": "true" } },
          },
          port: s.port ?? 443,
        });
        continue;
      }
      out.push({
        name: `API server -> webhook ${w.name}`,
        from: { ip: model.vpcAddress, name: "API server" },
        to: { namespace: s.namespace, selector: { matchLabels: svc.obj.spec.selector ?? {} } },
        port: typeof port.targetPort === "number" ? port.targetPort : port.port,
        ...(typeof port.targetPort === "string" ? { namedPort: port.targetPort } : {}),
      });
    }
  }
  return out;
}

function podsOf(pods: readonly PodInstance[], set: PodSet): PodInstance[] {
  return pods.filter(
    (p) =>
      (!set.namespace || p.namespace === set.namespace) &&
      selects(set.selector, p.labels) &&
      (!set.serviceAccount || (p.spec.serviceAccountName ?? "default") === set.serviceAccount),
  );
}

/** The container port a flow lands on at a pod (a webhook's named target port resolves per pod). */
function landingPort(flow: Flow, pod: PodInstance): number | undefined {
  if (!flow.namedPort) return flow.port;
  for (const c of pod.spec.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === flow.namedPort) return p.containerPort;
  return undefined;
}

/** Every required flow has pods at both ends and passes the NetworkPolicies for every pair. */
export function checkFlows(
  model: ClusterModel,
  pods: readonly PodInstance[],
  flows = requiredFlows(model, pods),
): Finding[] {
  const f = findings("network-flows");
  const ends = (side: Flow["from"]): Peer[] | undefined =>
    "ip" in side ? [side] : podsOf(pods, side).map((pod) => ({ pod }));
  for (const flow of flows) {
    const from = ends(flow.from)!;
    const to = ends(flow.to)!;
    if (flow.optional && (from.length === 0 || to.length === 0)) continue;
    if (from.length === 0) {
      f.add(flow.name, "no source pod matches");
      continue;
    }
    if (to.length === 0) {
      f.add(flow.name, "no destination pod matches");
      continue;
    }
    for (const s of from) {
      for (const d of to) {
        const port = "pod" in d ? landingPort(flow, d.pod) : flow.port;
        if (port === undefined) {
          f.add(flow.name, `${"pod" in d ? d.pod.owner : d.name} has no port ${flow.namedPort}`);
          continue;
        }
        const why = denied(model, s, d, port, flow.protocol ?? "TCP");
        const pair = `${"pod" in s ? s.pod.owner : s.name} -> ${"pod" in d ? d.pod.owner : d.name}:${port}`;
        if (why && !flow.deny) f.add(flow.name, `${pair}: ${why}`);
        if (!why && flow.deny) f.add(flow.name, `${pair}: allowed, and must not be`);
      }
    }
  }
  return f.out;
}

/** A destination only the load balancer may reach, and who else may (from other namespaces). */
interface LoadBalancerBackend {
  readonly name: string;
  readonly to: PodSet;
  readonly port: number;
  /** Pods of other namespaces that may still connect, and why. */
  readonly except?: { readonly pods: PodSet; readonly why: string };
}

/** The ALB's backends: the gateway and Grafana (registry and chart contract). */
function loadBalancerBackends(): LoadBalancerBackend[] {
  return [
    {
      name: "gateway",
      to: app(serviceDesign.gateway.namespace, "gateway"),
      port: servicePort,
      except: {
        pods: endpoint(chartEndpoints.prometheus),
        why: "Prometheus scrapes /metrics on the service port",
      },
    },
    { name: "grafana", to: endpoint(chartEndpoints.grafana), port: chartEndpoints.grafana.port },
  ];
}

/**
 * The load balancer's backends are reached through the load balancer only: no pod of another
 * namespace connects to them directly (which would skip the WAF and the ALB's authentication), save
 * the listed exceptions. Pod IPs are VPC addresses, so a rule admitting the VPC would fail this.
 */
export function checkLoadBalancerOnly(
  model: ClusterModel,
  pods: readonly PodInstance[],
  backends = loadBalancerBackends(),
): Finding[] {
  const f = findings("load-balancer-only");
  for (const b of backends) {
    const targets = podsOf(pods, b.to);
    if (targets.length === 0) continue;
    const excepted = b.except ? podsOf(pods, b.except.pods) : [];
    for (const src of pods) {
      if (src.namespace === b.to.namespace || excepted.includes(src)) continue;
      for (const dst of targets) {
        if (!denied(model, { pod: src }, { pod: dst }, b.port))
          f.add(
            `${b.name}:${b.port}`,
            `${src.owner} reaches ${dst.owner} without the load balancer`,
          );
      }
    }
  }
  return f.out;
}

/** Pods of every namespace resolve names: CoreDNS on UDP 53 (host-network pods use the node's). */
function dnsFlows(model: ClusterModel): Flow[] {
  const namespaces = model.objects
    .filter((o) => o.obj.kind === "Namespace" && o.origin === "program")
    .map((o) => o.obj.metadata.name);
  return namespaces.map((ns) => ({
    name: `${ns} -> kube-dns`,
    from: { namespace: ns, selector: {} },
    to: { namespace: "kube-system", selector: { matchLabels: { "k8s-app": "kube-dns" } } },
    port: 53,
    protocol: "UDP" as const,
    optional: true,
  }));
}
