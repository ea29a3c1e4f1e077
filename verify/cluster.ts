/**
 * Builds the whole-cluster model of one stack run: the program's Kubernetes objects, each Helm release
 * rendered by its real chart or, where it was not rendered, what components/platform/chartContracts.ts says it
 * provides, and the objects EKS itself creates.
 */
import {
  chartClusterNames,
  chartEndpoints,
  chartPrometheus,
  chartWorkloads,
  type ChartEndpoint,
  type ChartWorkload,
} from "../components/platform/chartContracts";
import { charts } from "../components/platform/versions";
import { isKubernetesObject, testS3Cidrs, type StackRun } from "./program";
import type { ReleaseRender, ReleaseSpec } from "./charts";
import {
  internetAddress,
  ref,
  type ClusterModel,
  type ClusterObject,
  type KObject,
  type NodePool,
  type WorkflowExecutor,
  type WrittenAddress,
} from "./model";

/** The Helm releases of a run, as the program registers them. */
export function releasesOf(run: StackRun): ReleaseSpec[] {
  return run.ofType("kubernetes:helm.sh/v3:Release").map((r) => ({
    name: r.inputs.name,
    namespace: r.inputs.namespace,
    repo: r.inputs.repositoryOpts?.repo,
    chart: r.inputs.chart,
    version: r.inputs.version,
    values: r.inputs.values ?? {},
    maxHistory: r.inputs.maxHistory ?? 0,
  }));
}

/**
 * Argo Workflows' executor as its release configures it: the chart writes `executor` into the
 * controller's ConfigMap as given, and the controller puts it into every workflow pod.
 */
function workflowExecutorOf(releases: readonly ReleaseSpec[]): WorkflowExecutor | undefined {
  const argo = releases.find((r) => r.chart === charts.argoWorkflows.chart);
  if (!argo) return undefined;
  const e = (argo.values.executor ?? {}) as Record<string, any>;
  const i = e.image ?? {};
  return {
    image: `${i.registry ?? "quay.io"}/${i.repository ?? "argoproj/argoexec"}:${i.tag ?? argo.version}`,
    ...(e.resources ? { resources: e.resources } : {}),
    ...(e.securityContext ? { securityContext: e.securityContext } : {}),
  };
}

/** The node groups of a run at their maximum size. */
function nodePoolsOf(run: StackRun): NodePool[] {
  const effects: Record<string, string> = {
    NO_SCHEDULE: "NoSchedule",
    NO_EXECUTE: "NoExecute",
    PREFER_NO_SCHEDULE: "PreferNoSchedule",
  };
  return run.ofType("aws:eks/nodeGroup:NodeGroup").map((g) => ({
    name: g.name,
    maxSize: g.inputs.scalingConfig.maxSize,
    labels: g.inputs.labels ?? {},
    taints: (g.inputs.taints ?? []).map((t: any) => ({
      key: t.key,
      value: t.value,
      effect: effects[t.effect] ?? t.effect,
    })),
  }));
}

/**
 * The objects a contract says a release provides: its Services with pods behind them, its other
 * workloads, the Prometheus resource (whose pods the operator makes), cluster-scoped names.
 */
function contractObjects(release: string, namespace: string): KObject[] {
  const endpoints = (Object.values(chartEndpoints) as ChartEndpoint[]).filter(
    (e) => e.release === release,
  );
  const out: KObject[] = [];
  const workload = (name: string, labels: Record<string, string>, ports: object[]): KObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name, image: "contract", ports }] },
      },
    },
  });
  for (const service of new Set(endpoints.map((e) => e.service))) {
    const mine = endpoints.filter((e) => e.service === service);
    const labels = Object.assign({}, ...mine.map((e) => e.podLabels)) as Record<string, string>;
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: service, namespace },
      spec: {
        selector: labels,
        ports: mine.map((e) => ({ name: `p${e.port}`, port: e.port, targetPort: e.containerPort })),
      },
    });
    if (release !== chartPrometheus.release) {
      const ports = mine.map((e) => ({
        name: `p${e.containerPort}`,
        containerPort: e.containerPort,
      }));
      out.push(workload(service, labels, ports));
    }
  }
  for (const w of Object.values(chartWorkloads) as ChartWorkload[]) {
    if (w.release === release) out.push(workload(w.name, { ...w.podLabels }, [...w.ports]));
  }
  if (chartPrometheus.release === release) {
    const all = {};
    out.push({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Prometheus",
      metadata: { name: chartPrometheus.name, namespace },
      spec: {
        podMonitorSelector: all,
        podMonitorNamespaceSelector: all,
        serviceMonitorSelector: all,
        serviceMonitorNamespaceSelector: all,
      },
    });
  }
  if (chartClusterNames.ingressClass.release === release) {
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: chartClusterNames.ingressClass.name },
      spec: { controller: "ingress.k8s.aws/alb" },
    });
  }
  return out;
}

/**
 * What EKS and Kubernetes put in every cluster that the platform relies on, and what install-time jobs
 * create: kube-system, the API server's `default/kubernetes` Service, CoreDNS (the `coredns` add-on:
 * Service kube-dns, pods k8s-app=kube-dns), each namespace's `default` ServiceAccount and
 * `kube-root-ca.crt` ConfigMap, the kubelet Service the Prometheus Operator maintains when told to
 * (--kubelet-service), and the webhook certificate Secrets that kube-webhook-certgen hook Jobs create
 * (`create --secret-name=...`) or operators rotate themselves (`--cert-secret-name`).
 */
function eksObjects(namespaces: string[], objects: readonly ClusterObject[]): KObject[] {
  const dnsLabels = { "k8s-app": "kube-dns" };
  const out: KObject[] = [
    ...["kube-system", "default"].map((n) => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: n, labels: { "kubernetes.io/metadata.name": n } },
    })),
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels: dnsLabels },
      spec: {
        replicas: 2,
        selector: { matchLabels: dnsLabels },
        template: {
          metadata: { labels: dnsLabels },
          spec: {
            containers: [
              {
                name: "coredns",
                ports: [
                  { name: "dns", containerPort: 53, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                  { name: "metrics", containerPort: 9153, protocol: "TCP" },
                ],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: "kube-system" },
      spec: {
        selector: dnsLabels,
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        ],
      },
    },
  ];
  out.push({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { component: "apiserver", provider: "kubernetes" },
    },
    spec: { ports: [{ name: "https", port: 443, targetPort: 443 }] },
  });
  for (const n of [...namespaces, "kube-system", "default"]) {
    out.push(
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: n } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: n } },
    );
  }
  for (const { obj } of objects) {
    const containers: any[] =
      obj.kind === "Deployment" || obj.kind === "Job"
        ? (obj.spec.template.spec.containers ?? [])
        : [];
    for (const c of containers) {
      const args = (c.args ?? []).map(String);
      const flag = (name: string) =>
        args.find((a: string) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
      // An operator that rotates its own serving certificates into a Secret (KEDA).
      const rotated = args.includes("--enable-cert-rotation=true") && flag("cert-secret-name");
      if (rotated) {
        out.push({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: rotated, namespace: obj.metadata.namespace! },
        });
      }
      const certSecret = flag("secret-name");
      if (obj.kind === "Job" && args.includes("create") && certSecret) {
        out.push({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: certSecret, namespace: flag("namespace") ?? obj.metadata.namespace! },
        });
      }
      for (const arg of args) {
        const m = /^--kubelet-service=([^/]+)\/(.+)$/.exec(arg);
        if (!m) continue;
        out.push({
          apiVersion: "v1",
          kind: "Service",
          metadata: {
            name: m[2]!,
            namespace: m[1]!,
            labels: { "k8s-app": "kubelet", "app.kubernetes.io/name": "kubelet" },
          },
          spec: {
            clusterIP: "None",
            ports: [
              { name: "https-metrics", port: 10250 },
              { name: "http-metrics", port: 10255 },
              { name: "cadvisor", port: 4194 },
            ],
          },
        });
      }
    }
  }
  return out;
}

/**
 * The Secrets the External Secrets Operator writes: one per ExternalSecret whose ClusterSecretStore
 * exists and admits its namespace (`spec.conditions`), named by its target. An ExternalSecret whose
 * store is missing or refuses its namespace makes nothing, so a pod mounting its Secret fails the
 * references check, as it would fail to start.
 */
export function syncedSecrets(objects: readonly ClusterObject[]): KObject[] {
  const stores = objects.filter((o) => o.obj.kind === "ClusterSecretStore").map((o) => o.obj);
  const admits = (store: KObject, namespace: string) => {
    const conditions: any[] = store.spec?.conditions ?? [];
    return (
      conditions.length === 0 || conditions.some((c) => (c.namespaces ?? []).includes(namespace))
    );
  };
  const out: KObject[] = [];
  for (const { obj } of objects) {
    if (obj.kind !== "ExternalSecret") continue;
    const ns = obj.metadata.namespace!;
    const ref = obj.spec?.secretStoreRef ?? {};
    const store =
      ref.kind === "ClusterSecretStore"
        ? stores.find((s) => s.metadata.name === ref.name)
        : undefined;
    if (!store || !admits(store, ns)) continue;
    out.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: obj.spec.target?.name ?? obj.metadata.name, namespace: ns },
    });
  }
  return out;
}

const addressPattern =
  /(?:(https?|grpc):\/\/)?\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc(?:\.cluster\.local)?\b(?::(\d+))?/g;

/** Every in-cluster Service address (`name.namespace.svc[.cluster.local][:port]`) in a value. */
export function findAddresses(value: unknown, where: string): WrittenAddress[] {
  const out: WrittenAddress[] = [];
  const walk = (v: unknown, at: string) => {
    if (typeof v === "string") {
      for (const m of v.matchAll(addressPattern)) {
        const port = m[4] ? Number(m[4]) : m[1] === "https" ? 443 : 80;
        out.push({ where: at, host: m[0], service: m[2]!, namespace: m[3]!, port });
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${at}[${i}]`));
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, at ? `${at}.${k}` : k);
    }
  };
  walk(value, "");
  return out.map((a) => ({ ...a, where: `${where} ${a.where}`.trim() }));
}

/** First usable address of a CIDR plus `offset` (a representative in-VPC address). */
export function addressIn(cidr: string, offset: number): string {
  const [ip] = cidr.split("/");
  const n = ip!.split(".").reduce((a, o) => a * 256 + Number(o), 0) + offset;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/**
 * The cluster model of a run. `renders` holds the real charts' output where they were rendered; every
 * other release enters through its contract.
 */
export function buildModel(
  run: StackRun,
  net: {
    readonly vpcCidr: string;
    readonly loadBalancerCidr: string;
    /** The STS interface endpoint's addresses, as EC2 reports them (none: the model has no endpoint). */
    readonly stsEndpointAddresses?: readonly string[];
  },
  renders: readonly ReleaseRender[] = [],
): ClusterModel {
  const objects: ClusterObject[] = run.resources
    .filter((r) => isKubernetesObject(r.type))
    .map((r) => ({ obj: r.inputs as KObject, origin: "program" }));
  const addresses = objects.flatMap(({ obj }) => findAddresses(obj, ref(obj)));
  const releases = releasesOf(run).map((release) => {
    const rendered = renders.find((x) => x.release.name === release.name && "objects" in x);
    addresses.push(...findAddresses(release.values, `release ${release.name} values`));
    const chartObjects =
      rendered && "objects" in rendered
        ? rendered.objects.map((obj) => ({ obj, origin: `chart:${release.name}` }))
        : contractObjects(release.name, release.namespace).map((obj) => ({
            obj,
            origin: `contract:${release.name}`,
          }));
    objects.push(...chartObjects);
    return {
      name: release.name,
      namespace: release.namespace,
      maxHistory: release.maxHistory,
      source: rendered ? ("rendered" as const) : ("contract" as const),
    };
  });
  const namespaces = objects
    .filter((o) => o.obj.kind === "Namespace")
    .map((o) => o.obj.metadata.name);
  objects.push(...eksObjects(namespaces, objects).map((obj) => ({ obj, origin: "eks" })));
  objects.push(
    ...syncedSecrets(objects).map((obj) => ({ obj, origin: "operator:external-secrets" })),
  );
  const permittedRoles = [
    ...run.ofType("aws:iam/rolePolicy:RolePolicy"),
    ...run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
  ].map((r) => String(r.inputs.role));
  const workflowExecutor = workflowExecutorOf(releasesOf(run));
  return {
    objects,
    ...(workflowExecutor ? { workflowExecutor } : {}),
    permittedRoles,
    nodePools: nodePoolsOf(run),
    releases,
    addresses,
    vpcAddress: addressIn(net.vpcCidr, 4242),
    loadBalancerAddress: addressIn(net.loadBalancerCidr, 10),
    // An S3 address of the mocked gateway endpoint's prefix list (what its NetworkPolicy names).
    s3Address: addressIn(testS3Cidrs[testS3Cidrs.length - 1]!, 10),
    stsEndpointAddresses: net.stsEndpointAddresses ?? [],
    internetAddress,
  };
}
