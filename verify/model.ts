/**
 * The cluster as a stack would build it, as plain objects: the program's own Kubernetes objects, the
 * objects its Helm releases render (or, where a chart could not be rendered, what the chart contract in
 * components/platform/chartContracts.ts says it provides), and what EKS itself puts there. The whole-cluster
 * checks (verify/checks/*) read only this model.
 */

/** A Kubernetes object as applied (manifest form). */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: any;
}

/** An object and where it comes from: `program`, `chart:<release>`, `contract:<release>` or `eks`. */
export interface ClusterObject {
  readonly obj: KObject;
  readonly origin: string;
}

/** A node group at its maximum size: what DaemonSets and quotas must be sized for. */
export interface NodePool {
  readonly name: string;
  readonly maxSize: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
}

/** A Helm release: its revisions are Secrets in its namespace. */
export interface ReleaseRecord {
  readonly name: string;
  readonly namespace: string;
  readonly maxHistory: number;
  /** How its objects entered the model. */
  readonly source: "rendered" | "contract";
}

/** An in-cluster address written somewhere by the program. */
export interface WrittenAddress {
  /** Where: `ConfigMap platform/gateway-config data.X` or `release loki values`. */
  readonly where: string;
  readonly host: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
}

/** What Argo's controller gives every workflow pod's executor containers (its `executor` config). */
export interface WorkflowExecutor {
  readonly image: string;
  readonly resources?: Record<string, unknown>;
  readonly securityContext?: Record<string, unknown>;
}

export interface ClusterModel {
  readonly objects: readonly ClusterObject[];
  /** Argo Workflows' executor, where the cluster runs Argo (its workflow pods are modelled). */
  readonly workflowExecutor?: WorkflowExecutor;
  readonly nodePools: readonly NodePool[];
  readonly releases: readonly ReleaseRecord[];
  readonly addresses: readonly WrittenAddress[];
  /** Names of the IAM roles that carry permissions (an IRSA role without any needs no AWS access). */
  readonly permittedRoles: readonly string[];
  /**
   * An address in a private subnet: pod IPs (VPC CNI) and the control plane's ENIs (EKS places them
   * in any of the cluster's subnets; a private one is where they meet the pods).
   */
  readonly vpcAddress: string;
  /** An address in a public subnet: the internet-facing ALB's ENIs. */
  readonly loadBalancerAddress: string;
  /** An S3 address in the region (inside the gateway endpoint's prefix list). */
  readonly s3Address: string;
  /** The STS interface endpoint's addresses (its network interfaces in the private subnets). */
  readonly stsEndpointAddresses: readonly string[];
  /** An address on the internet, neither AWS's nor the VPC's (huggingface.co, say). */
  readonly internetAddress: string;
}

/** An internet address for the model (RFC 5737 TEST-NET-3: outside the VPC, S3 and AWS ranges). */
export const internetAddress = "203.0.113.10";

/**
 * A cluster model of the program's objects alone, with no node pools, releases or written addresses
 * unless given: enough to evaluate NetworkPolicies and the other checks over hand-made objects. The
 * load balancer sits at `vpcAddress` too unless `extra` places it elsewhere.
 */
export function objectsModel(
  objects: readonly KObject[],
  vpcAddress: string,
  extra: Partial<ClusterModel> = {},
): ClusterModel {
  return {
    objects: objects.map((obj) => ({ obj, origin: "program" })),
    nodePools: [],
    releases: [],
    addresses: [],
    permittedRoles: [],
    vpcAddress,
    loadBalancerAddress: vpcAddress,
    s3Address: "52.218.128.10",
    stsEndpointAddresses: [],
    internetAddress,
    ...extra,
  };
}

export type Labels = Readonly<Record<string, string>>;

/** A label selector (matchLabels + matchExpressions). An empty selector selects everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether `selector` selects an object with `labels` (Kubernetes semantics). */
export function selects(selector: LabelSelector | undefined | null, labels: Labels = {}): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok =
      e.operator === "In"
        ? inValues
        : e.operator === "NotIn"
          ? !inValues
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** A Service selector (a plain label map; a Service without one selects nothing). */
export function serviceSelects(selector: Labels | undefined, labels: Labels = {}): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A pod as its controller would create it, with how many of it can run at once. */
export interface PodInstance {
  /** `Kind namespace/name` of the object that makes it. */
  readonly owner: string;
  readonly origin: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly spec: any;
  /** Pods of this template at the peak the quota must hold (HPA max, DaemonSet × eligible nodes). */
  readonly peak: number;
  /** Whether a rolling update adds a surge pod of this template. */
  readonly surges: boolean;
  readonly kind: string;
}

/** `Kind namespace/name` of an object. */
export function ref(o: KObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/** Whether a pod spec can run on a node pool (nodeSelector, required node affinity, taints). */
export function schedulableOn(spec: any, pool: NodePool): boolean {
  const labels: Labels = {
    ...pool.labels,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
  };
  for (const [k, v] of Object.entries((spec.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[k] !== v) return false;
  }
  const terms: any[] =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  if (
    terms.length &&
    !terms.some((t) => selects({ matchExpressions: t.matchExpressions }, labels))
  ) {
    return false;
  }
  const tolerations: any[] = spec.tolerations ?? [];
  return pool.taints
    .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
    .every((t) =>
      tolerations.some(
        (tol) =>
          (tol.effect === undefined || tol.effect === "" || tol.effect === t.effect) &&
          ((tol.operator === "Exists" && (tol.key === undefined || tol.key === t.key)) ||
            (tol.key === t.key && (tol.value ?? "") === (t.value ?? ""))),
      ),
    );
}

const byKind = (objects: readonly ClusterObject[], kind: string) =>
  objects.filter((o) => o.obj.kind === kind);

/**
 * Every pod template in the model and its peak count. Workloads the Prometheus Operator creates from
 * Prometheus and Alertmanager resources are derived the way the operator names and labels them.
 */
export function podInstances(
  model: Pick<ClusterModel, "objects" | "nodePools" | "workflowExecutor">,
): PodInstance[] {
  const { objects } = model;
  const hpaMax = new Map<string, number>();
  for (const { obj } of byKind(objects, "HorizontalPodAutoscaler")) {
    const t = obj.spec.scaleTargetRef;
    hpaMax.set(`${t.kind} ${obj.metadata.namespace}/${t.name}`, obj.spec.maxReplicas);
  }
  const out: PodInstance[] = [];
  for (const { obj, origin } of objects) {
    const ns = obj.metadata.namespace ?? "default";
    const base = { owner: ref(obj), origin, namespace: ns, kind: obj.kind };
    const template = (t: any, peak: number, surges: boolean) =>
      out.push({ ...base, labels: t.metadata?.labels ?? {}, spec: t.spec, peak, surges });
    switch (obj.kind) {
      case "Deployment":
        template(
          obj.spec.template,
          hpaMax.get(ref(obj)) ?? obj.spec.replicas ?? 1,
          obj.spec.strategy?.type !== "Recreate" &&
            !["0", "0%"].includes(String(obj.spec.strategy?.rollingUpdate?.maxSurge ?? "25%")),
        );
        break;
      case "StatefulSet":
        template(obj.spec.template, hpaMax.get(ref(obj)) ?? obj.spec.replicas ?? 1, false);
        break;
      case "DaemonSet": {
        const nodes = model.nodePools
          .filter((p) => schedulableOn(obj.spec.template.spec, p))
          .reduce((n, p) => n + p.maxSize, 0);
        template(obj.spec.template, nodes, false);
        break;
      }
      case "Job":
        template(obj.spec.template, obj.spec.parallelism ?? 1, false);
        break;
      case "CronJob":
        template(
          obj.spec.jobTemplate.spec.template,
          obj.spec.jobTemplate.spec.parallelism ?? 1,
          false,
        );
        break;
      case "Pod":
        out.push({
          ...base,
          labels: obj.metadata.labels ?? {},
          spec: obj.spec,
          peak: 1,
          surges: false,
        });
        break;
      case "WorkflowTemplate":
        if (obj.apiVersion.startsWith("argoproj.io/")) {
          out.push(...workflowPods(obj, model.workflowExecutor).map((p) => ({ ...base, ...p })));
        }
        break;
      case "Prometheus":
      case "Alertmanager":
        if (obj.apiVersion.startsWith("monitoring.coreos.com/")) {
          out.push({
            ...base,
            ...operatorPod(obj),
            peak: (obj.spec.replicas ?? 1) * (obj.spec.shards ?? 1),
            surges: false,
          });
        }
        break;
    }
  }
  return out;
}

/** CPU cores of a quantity ("2", "500m"): enough to rank pods by size. */
const cores = (q: unknown) =>
  typeof q === "number"
    ? q
    : /m$/.test(String(q))
      ? parseFloat(String(q)) / 1000
      : parseFloat(String(q)) || 0;

/**
 * The pods Argo's controller creates for a WorkflowTemplate's leaf templates (container, script and
 * resource), built the way argo-workflows v4.0.6 workflow/controller/workflowpod.go builds them: the
 * executor's `init` container; its `wait` container beside the `main` one (a resource step's `main`
 * is the executor itself, without `wait`); labels from `podMetadata` and the template's metadata;
 * service account, security context and scheduling from the template, else from the spec; the
 * executor's two emptyDirs plus the template's volumes. Workflow `parallelism` bounds how many run at
 * once: the largest that many count at peak, the others at zero (they still face every other check).
 */
function workflowPods(
  obj: KObject,
  executor: WorkflowExecutor | undefined,
): { labels: Labels; spec: any; peak: number; surges: boolean }[] {
  const spec = obj.spec ?? {};
  const exec = (name: string) => ({
    name,
    image: executor?.image ?? "argoexec",
    resources: executor?.resources ?? {},
    ...(executor?.securityContext ? { securityContext: executor.securityContext } : {}),
  });
  const pods = (spec.templates ?? [])
    .filter((t: any) => t.container || t.script || t.resource)
    .map((t: any) => {
      const main = t.resource ? exec("main") : { ...(t.container ?? t.script), name: "main" };
      const from = (key: string) => t[key] ?? spec[key];
      const podSpec = {
        restartPolicy: "Never",
        serviceAccountName: from("serviceAccountName"),
        automountServiceAccountToken: from("automountServiceAccountToken"),
        securityContext: from("securityContext"),
        nodeSelector: from("nodeSelector"),
        tolerations: from("tolerations"),
        affinity: from("affinity"),
        initContainers: [exec("init")],
        containers: t.resource ? [main] : [exec("wait"), main],
        volumes: [
          { name: "var-run-argo", emptyDir: {} },
          { name: "tmp-dir-argo", emptyDir: {} },
          ...(t.volumes ?? []),
        ],
      };
      const labels = {
        "workflows.argoproj.io/workflow": obj.metadata.name,
        "workflows.argoproj.io/completed": "false",
        ...(spec.podMetadata?.labels ?? {}),
        ...(t.metadata?.labels ?? {}),
      };
      const size = podSpec.containers.reduce(
        (n: number, c: any) => n + cores(c.resources?.limits?.cpu),
        0,
      );
      return { labels, spec: podSpec, size, surges: false };
    })
    .sort((a: { size: number }, b: { size: number }) => b.size - a.size);
  const parallel = spec.parallelism ?? pods.length;
  return pods.map(({ size: _size, ...p }: { size: number }, i: number) => ({
    ...(p as { labels: Labels; spec: any; surges: boolean }),
    peak: i < parallel ? 1 : 0,
  }));
}

/**
 * The pod the Prometheus Operator runs for a Prometheus or Alertmanager resource: its labels (what the
 * chart's Services select), the main container with the resource's `resources` and ports, and the
 * config-reloader sidecar with the operator's default resources (10m CPU, 50Mi memory).
 */
function operatorPod(obj: KObject): { labels: Labels; spec: any } {
  const prometheus = obj.kind === "Prometheus";
  const app = prometheus ? "prometheus" : "alertmanager";
  const s = obj.spec;
  const reloader = {
    name: "config-reloader",
    resources: { requests: { cpu: "10m", memory: "50Mi" }, limits: { cpu: "10m", memory: "50Mi" } },
    securityContext: s.containers?.[0]?.securityContext ?? {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
  };
  const main = {
    name: app,
    resources: s.resources ?? {},
    ports: [{ name: "http-web", containerPort: prometheus ? 9090 : 9093 }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
  };
  return {
    labels: {
      ...(s.podMetadata?.labels ?? {}),
      "app.kubernetes.io/name": app,
      "app.kubernetes.io/managed-by": "prometheus-operator",
      "app.kubernetes.io/instance": obj.metadata.name,
      [`operator.prometheus.io/name`]: obj.metadata.name,
      [app]: obj.metadata.name,
    },
    spec: {
      containers: [main, reloader],
      initContainers: [{ ...reloader, name: "init-config-reloader" }],
      securityContext: s.securityContext ?? {},
      serviceAccountName: s.serviceAccountName ?? "default",
      nodeSelector: s.nodeSelector,
      tolerations: s.tolerations,
      affinity: s.affinity,
    },
  };
}

/** PersistentVolumeClaims at peak: standalone ones and each StatefulSet/operator replica's claims. */
export function claims(
  objects: readonly ClusterObject[],
): { namespace: string; name: string; storageClassName?: string; owner: string }[] {
  const out: { namespace: string; name: string; storageClassName?: string; owner: string }[] = [];
  for (const { obj } of objects) {
    const ns = obj.metadata.namespace ?? "default";
    if (obj.kind === "PersistentVolumeClaim") {
      out.push({
        namespace: ns,
        name: obj.metadata.name,
        storageClassName: obj.spec?.storageClassName,
        owner: ref(obj),
      });
    } else if (obj.kind === "StatefulSet") {
      for (const t of obj.spec.volumeClaimTemplates ?? []) {
        for (let i = 0; i < (obj.spec.replicas ?? 1); i++) {
          out.push({
            namespace: ns,
            name: `${t.metadata.name}-${obj.metadata.name}-${i}`,
            storageClassName: t.spec?.storageClassName,
            owner: ref(obj),
          });
        }
      }
    } else if (
      (obj.kind === "Prometheus" || obj.kind === "Alertmanager") &&
      obj.spec?.storage?.volumeClaimTemplate
    ) {
      const t = obj.spec.storage.volumeClaimTemplate;
      for (let i = 0; i < (obj.spec.replicas ?? 1); i++) {
        out.push({
          namespace: ns,
          name: `${obj.kind.toLowerCase()}-${obj.metadata.name}-${i}`,
          storageClassName: t.spec?.storageClassName,
          owner: ref(obj),
        });
      }
    }
  }
  return out;
}

/** Every container (init, sidecar and main) of a pod spec. */
export function containersOf(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** The container port a Service port's targetPort names or numbers, on a pod (undefined if absent). */
export function resolveTargetPort(
  spec: any,
  targetPort: number | string,
  protocol = "TCP",
): number | undefined {
  for (const c of spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? "TCP") !== protocol) continue;
      if (typeof targetPort === "string" ? p.name === targetPort : p.containerPort === targetPort) {
        return p.containerPort;
      }
    }
  }
  return undefined;
}
