/**
 * The whole-cluster checks themselves (verify/checks): each catches what it exists to catch, on small
 * hand-made clusters, and passes the correct version of the same cluster.
 */
import * as assert from "node:assert/strict";
import { addressIn, findAddresses, syncedSecrets } from "../verify/cluster";
import { checkAddresses } from "../verify/checks/addresses";
import { checkFlows, checkLoadBalancerOnly, type Flow } from "../verify/checks/flows";
import { checkMonitors } from "../verify/checks/monitors";
import { checkPolicySelectors, denied, inCidr } from "../verify/checks/networkPolicies";
import { restrictedViolations } from "../verify/checks/podSecurity";
import { checkQuotas, effectiveResources, parseQuantity } from "../verify/checks/quota";
import { checkReferences } from "../verify/checks/references";
import { checkTeardown } from "../verify/checks/teardown";
import {
  objectsModel,
  podInstances,
  schedulableOn,
  selects,
  type ClusterModel,
  type KObject,
  type NodePool,
} from "../verify/model";

const vpc = "10.20.0.0/16";

function model(objects: KObject[], extra: Partial<ClusterModel> = {}): ClusterModel {
  return objectsModel(objects, addressIn(vpc, 4242), extra);
}

const ns = (name: string, labels: Record<string, string> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels },
});

function deployment(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  replicas = 1,
): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name, ports: [{ name: "http", containerPort: 8000 }] }],
          ...spec,
        },
      },
    },
  };
}

const service = (
  namespace: string,
  name: string,
  port = 80,
  targetPort: number | string = "http",
): KObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { selector: { app: name }, ports: [{ port, targetPort }] },
});

const policy = (namespace: string, name: string, spec: object): KObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec,
});

const denyAll = (namespace: string) =>
  policy(namespace, "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

describe("cluster checks: selectors and scheduling", () => {
  it("matches labels and expressions with Kubernetes semantics", () => {
    assert.ok(selects({}, { a: "1" }));
    assert.ok(selects({ matchLabels: { a: "1" } }, { a: "1", b: "2" }));
    assert.ok(!selects({ matchLabels: { a: "1" } }, { a: "2" }));
    assert.ok(
      selects({ matchExpressions: [{ key: "a", operator: "In", values: ["1", "2"] }] }, { a: "2" }),
    );
    assert.ok(
      !selects({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["2"] }] }, { a: "2" }),
    );
    assert.ok(selects({ matchExpressions: [{ key: "a", operator: "DoesNotExist" }] }, {}));
  });

  it("places a DaemonSet only on node groups it selects and whose taints it tolerates", () => {
    const gpu: NodePool = {
      name: "gpu",
      maxSize: 4,
      labels: { workload: "gpu" },
      taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
    };
    assert.ok(!schedulableOn({}, gpu));
    assert.ok(schedulableOn({ tolerations: [{ operator: "Exists" }] }, gpu));
    assert.ok(schedulableOn({ tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }] }, gpu));
    assert.ok(
      !schedulableOn(
        { nodeSelector: { workload: "cpu" }, tolerations: [{ operator: "Exists" }] },
        gpu,
      ),
    );
  });

  it("counts DaemonSet pods per eligible node at max size, and Deployments at their HPA maximum", () => {
    const pools: NodePool[] = [
      { name: "cpu", maxSize: 3, labels: { workload: "cpu" }, taints: [] },
      { name: "gpu", maxSize: 5, labels: {}, taints: [{ key: "g", effect: "NoSchedule" }] },
    ];
    const ds: KObject = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "o" },
      spec: { template: { metadata: { labels: {} }, spec: { containers: [{ name: "a" }] } } },
    };
    const hpa: KObject = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "o" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 7 },
    };
    const pods = podInstances(
      model([ds, deployment("o", "web", {}, 2), hpa], { nodePools: pools }),
    );
    assert.equal(pods.find((p) => p.kind === "DaemonSet")!.peak, 3);
    assert.equal(pods.find((p) => p.kind === "Deployment")!.peak, 7);
  });
});

describe("cluster checks: addresses", () => {
  it("finds in-cluster addresses with their ports in any string", () => {
    const found = findAddresses(
      {
        a: "http://loki.obs.svc.cluster.local:3100/otlp",
        b: ["x tempo.obs.svc:4317"],
        c: "https://s.n.svc",
      },
      "here",
    );
    assert.deepEqual(
      found.map((a) => [a.service, a.namespace, a.port]),
      [
        ["loki", "obs", 3100],
        ["tempo", "obs", 4317],
        ["s", "n", 443],
      ],
    );
  });

  it("reports a missing Service, a missing port, an empty selector match and an unexposed target port", () => {
    const objects = [
      deployment("a", "api"),
      service("a", "api"),
      { ...service("a", "orphan"), spec: { selector: { app: "nobody" }, ports: [{ port: 80 }] } },
      service("a", "wrongtarget", 80, "metrics"),
      { ...deployment("a", "wrongtarget") },
    ];
    const addresses = [
      "http://api.a.svc.cluster.local",
      "http://api.a.svc.cluster.local:9999",
      "http://nope.a.svc.cluster.local",
      "http://orphan.a.svc.cluster.local",
      "http://wrongtarget.a.svc.cluster.local",
    ].flatMap((u) => findAddresses(u, "cm"));
    const m = model(objects, { addresses });
    const out = checkAddresses(m, podInstances(m)).map((f) => f.message);
    assert.deepEqual(out, [
      "Service a/api has no port 9999 (has 80)",
      "no Service a/nope",
      "Service a/orphan selects no pod",
      "no pod behind a/wrongtarget exposes target port metrics",
    ]);
  });
});

describe("cluster checks: NetworkPolicies", () => {
  const objects = [
    ns("a"),
    ns("b", { team: "b" }),
    deployment("a", "client"),
    deployment("b", "server"),
  ];

  it("allows everything until a policy selects the pod, then only what a rule allows", () => {
    const open = model(objects);
    const pods = podInstances(open);
    const [client, server] = [pods[0]!, pods[1]!];
    assert.equal(denied(open, { pod: client }, { pod: server }, 8000), undefined);

    const closed = model([...objects, denyAll("a"), denyAll("b")]);
    assert.match(
      denied(closed, { pod: client }, { pod: server }, 8000)!,
      /egress of Deployment a\/client denied/,
    );

    const allowed = model([
      ...objects,
      denyAll("a"),
      denyAll("b"),
      policy("a", "out", {
        podSelector: { matchLabels: { app: "client" } },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { team: "b" } },
                podSelector: { matchLabels: { app: "server" } },
              },
            ],
            ports: [{ port: 8000 }],
          },
        ],
      }),
      policy("b", "in", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "a" } } }],
            ports: [{ port: "http" }],
          },
        ],
      }),
    ]);
    assert.equal(denied(allowed, { pod: client }, { pod: server }, 8000), undefined);
    assert.match(denied(allowed, { pod: client }, { pod: server }, 9000)!, /egress/);
  });

  it("matches ipBlocks with their exceptions (pods have VPC addresses)", () => {
    assert.ok(inCidr("10.20.16.10", vpc));
    assert.ok(!inCidr("10.21.0.1", vpc));
    const m = model([
      ns("a"),
      deployment("a", "client"),
      denyAll("a"),
      policy("a", "https", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpc] } }], ports: [{ port: 443 }] },
        ],
      }),
    ]);
    const client = { pod: podInstances(m)[0]! };
    assert.equal(denied(m, client, { ip: "52.94.0.10", name: "aws" }, 443), undefined);
    assert.ok(denied(m, client, { ip: "10.20.1.1", name: "in-vpc" }, 443));
  });

  it("reports policies and peers that select no pod, and required flows the policies block", () => {
    const m = model([
      ...objects,
      denyAll("b"),
      policy("b", "typo", {
        podSelector: { matchLabels: { app: "sevrer" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "nobody" } } }] }],
      }),
    ]);
    const pods = podInstances(m);
    assert.deepEqual(
      checkPolicySelectors(m, pods).map((f) => f.message),
      [
        "its podSelector selects no pod",
        'peer {"podSelector":{"matchLabels":{"app":"nobody"}}} selects no pod',
      ],
    );
    const flows: Flow[] = [
      {
        name: "client -> server",
        from: { namespace: "a", selector: { matchLabels: { app: "client" } } },
        to: { namespace: "b", selector: { matchLabels: { app: "server" } } },
        port: 8000,
      },
      {
        name: "client -> ghost",
        from: { namespace: "a", selector: {} },
        to: { namespace: "b", selector: { matchLabels: { app: "ghost" } } },
        port: 8000,
      },
      {
        name: "optional ghost",
        from: { namespace: "a", selector: {} },
        to: { namespace: "b", selector: { matchLabels: { app: "ghost" } } },
        port: 8000,
        optional: true,
      },
    ];
    assert.deepEqual(
      checkFlows(m, pods, flows).map((f) => `${f.subject}: ${f.message.split(":")[0]}`),
      [
        "client -> server: Deployment a/client -> Deployment b/server",
        "client -> ghost: no destination pod matches",
      ],
    );
  });

  it("reports a connection that must be refused and is allowed, and passes one that is refused", () => {
    const internet = { ip: "203.0.113.10", name: "the internet" };
    const open = policy("a", "open", {
      podSelector: { matchLabels: { app: "leaky" } },
      policyTypes: ["Egress"],
      egress: [
        { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
      ],
    });
    const m = model([
      ns("a"),
      denyAll("a"),
      deployment("a", "tight"),
      deployment("a", "leaky"),
      open,
    ]);
    const pods = podInstances(m);
    const mustNot = (app: string, port: number): Flow => ({
      name: `${app} -/-> internet:${port}`,
      from: { namespace: "a", selector: { matchLabels: { app } } },
      to: internet,
      port,
      deny: true,
    });
    assert.deepEqual(
      checkFlows(m, pods, [mustNot("tight", 443), mustNot("leaky", 443), mustNot("leaky", 80)]).map(
        (f) => `${f.subject}: ${f.message}`,
      ),
      ["leaky -/-> internet:443: Deployment a/leaky -> the internet:443: allowed, and must not be"],
    );
  });
});

describe("cluster checks: monitors", () => {
  const prometheus = (spec: object): KObject => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "Prometheus",
    metadata: { name: "prom", namespace: "o" },
    spec,
  });
  const podMonitor = (selector: object, port: string): KObject => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: "pm", namespace: "o" },
    spec: { namespaceSelector: { matchNames: ["a"] }, selector, podMetricsEndpoints: [{ port }] },
  });

  it("needs a Prometheus selecting the monitor (nil selects none, nil namespace selector: its own)", () => {
    const pm = podMonitor({ matchLabels: { app: "api" } }, "http");
    const objects = [ns("a"), ns("o"), deployment("a", "api")];
    for (const [spec, selected] of [
      [{}, false],
      [{ podMonitorSelector: {} }, true],
      [
        { podMonitorSelector: { matchLabels: { team: "x" } }, podMonitorNamespaceSelector: {} },
        false,
      ],
      [{ podMonitorSelector: {}, podMonitorNamespaceSelector: { matchLabels: { x: "y" } } }, false],
    ] as const) {
      const m = model([...objects, prometheus(spec), pm]);
      const out = checkMonitors(m, podInstances(m)).map((f) => f.message);
      assert.equal(out.includes("no Prometheus selects it"), !selected, JSON.stringify(spec));
    }
  });

  it("reports a monitor that selects no pod or a port the pods do not have, and blocked scrapes", () => {
    const base = [ns("a"), ns("o"), deployment("a", "api"), prometheus({ podMonitorSelector: {} })];
    const run = (objects: KObject[]) => {
      const m = model(objects);
      return checkMonitors(m, podInstances(m)).map((f) => f.message.replace(/\(policies.*/, ""));
    };
    assert.deepEqual(run([...base, podMonitor({ matchLabels: { app: "x" } }, "http")]), [
      "selects no pod",
    ]);
    assert.deepEqual(run([...base, podMonitor({ matchLabels: { app: "api" } }, "metrics")]), [
      "no selected pod has port metrics",
    ]);
    assert.deepEqual(run([...base, podMonitor({ matchLabels: { app: "api" } }, "http")]), []);
    assert.equal(
      run([...base, denyAll("a"), podMonitor({ matchLabels: { app: "api" } }, "http")]).length,
      1,
    );
  });
});

describe("cluster checks: Pod Security", () => {
  const restricted = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "c",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ],
    volumes: [{ name: "tmp", emptyDir: {} }],
  };

  it("passes a restricted pod and names each violation of one that is not", () => {
    assert.deepEqual(restrictedViolations(restricted), []);
    const bad = {
      hostNetwork: true,
      containers: [{ name: "c", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }],
      volumes: [{ name: "logs", hostPath: { path: "/var/log" } }],
    };
    assert.deepEqual(restrictedViolations(bad), [
      "hostNetwork: true",
      "hostPath volume logs",
      "c: adds capability SYS_ADMIN",
      "volume logs of type hostPath",
      "c: allowPrivilegeEscalation not false",
      "c: runAsNonRoot not true",
      "c: seccompProfile not RuntimeDefault/Localhost",
      "c: does not drop ALL capabilities",
    ]);
  });
});

describe("cluster checks: quota", () => {
  const limitRange: KObject = {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "lr", namespace: "a" },
    spec: {
      limits: [
        {
          type: "Container",
          default: { cpu: "500m", memory: "512Mi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          max: { cpu: "2", memory: "4Gi" },
        },
      ],
    },
  };

  it("parses quantities", () => {
    assert.equal(parseQuantity("500m"), 0.5);
    assert.equal(parseQuantity("2Gi"), 2 * 2 ** 30);
    assert.equal(parseQuantity("1G"), 1e9);
    assert.equal(parseQuantity(4), 4);
    assert.throws(() => parseQuantity("two"), /not a Kubernetes quantity/);
  });

  it("applies API defaulting, then LimitRange defaults, and reports what the LimitRange rejects", () => {
    const e = effectiveResources({ name: "c", resources: { limits: { cpu: "1" } } }, limitRange);
    assert.deepEqual(e.requests, { cpu: 1, memory: 128 * 2 ** 20 });
    assert.deepEqual(e.limits, { cpu: 1, memory: 512 * 2 ** 20 });
    assert.deepEqual(e.problems, []);
    const bad = effectiveResources(
      { name: "c", resources: { requests: { memory: "1Gi" } } },
      limitRange,
    );
    assert.deepEqual(bad.problems, [
      "c: memory request 1073741824 exceeds its (defaulted) limit 536870912",
    ]);
  });

  it("sums pods at peak plus a surge pod against the quota, and counts Helm history as Secrets", () => {
    const quota: KObject = {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "q", namespace: "a" },
      spec: { hard: { "limits.cpu": "1500m", pods: "3", secrets: "4" } },
    };
    const m = model([limitRange, quota, deployment("a", "web", {}, 3)], {
      releases: [{ name: "r", namespace: "a", maxHistory: 0, source: "rendered" }],
    });
    assert.deepEqual(
      checkQuotas(m, podInstances(m)).map((f) => f.message),
      [
        "Helm release r: history is unbounded (no maxHistory)",
        "limits.cpu: peak 2000m exceeds the quota 1500m",
        "pods: peak 4 exceeds the quota 3",
        "secrets: peak 10 exceeds the quota 4",
      ],
    );
  });
});

describe("cluster checks: references", () => {
  it("reports missing Secrets, ConfigMaps, ServiceAccounts and classes, and ignores optional ones", () => {
    const d = deployment("a", "app", {
      serviceAccountName: "app-sa",
      volumes: [
        { name: "s", secret: { secretName: "creds" } },
        { name: "o", secret: { secretName: "maybe", optional: true } },
      ],
      containers: [{ name: "c", envFrom: [{ configMapRef: { name: "settings" } }] }],
    });
    const ingress: KObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "in", namespace: "a" },
      spec: {
        ingressClassName: "alb",
        rules: [
          {
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "app", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const m = model([d, ingress]);
    assert.deepEqual(
      checkReferences(m, podInstances(m)).map((f) => f.message),
      [
        "ServiceAccount a/app-sa does not exist",
        "Secret a/creds does not exist",
        "ConfigMap a/settings does not exist",
        "IngressClass alb does not exist",
        "backend Service app does not exist",
      ],
    );
  });
});

describe("cluster checks: Secrets the External Secrets Operator writes", () => {
  const store = (name: string, namespaces: string[]): KObject => ({
    apiVersion: "external-secrets.io/v1",
    kind: "ClusterSecretStore",
    metadata: { name },
    spec: { provider: { aws: {} }, conditions: [{ namespaces }] },
  });
  const externalSecret = (namespace: string, storeName: string, target: string): KObject => ({
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: `es-${target}`, namespace },
    spec: {
      secretStoreRef: { kind: "ClusterSecretStore", name: storeName },
      target: { name: target },
    },
  });

  it("makes a Secret only where the store exists and admits the ExternalSecret's namespace", () => {
    const objects = [
      store("for-a", ["a"]),
      externalSecret("a", "for-a", "creds"),
      externalSecret("b", "for-a", "borrowed"),
      externalSecret("a", "missing", "lost"),
    ];
    assert.deepEqual(
      syncedSecrets(objects.map((obj) => ({ obj, origin: "program" }))).map(
        (s) => `${s.metadata.namespace}/${s.metadata.name}`,
      ),
      ["a/creds"],
    );
  });
});

describe("cluster checks: the load balancer's backends", () => {
  const lb = "10.20.32.10";
  const gateway = deployment("platform", "gateway");
  const others = [deployment("quant", "quant-api"), deployment("platform", "sidecar")];
  const ingressFrom = (from: object[]) =>
    policy("platform", "allow-lb", {
      podSelector: { matchLabels: { app: "gateway" } },
      policyTypes: ["Ingress"],
      ingress: [{ from, ports: [{ protocol: "TCP", port: 8000 }] }],
    });
  const backends = [
    {
      name: "gateway",
      to: { namespace: "platform", selector: { matchLabels: { app: "gateway" } } },
      port: 8000,
    },
  ];
  const run = (from: object[]) => {
    const m = model([ns("platform"), ns("quant"), gateway, ...others, ingressFrom(from)], {
      loadBalancerAddress: lb,
    });
    return checkLoadBalancerOnly(m, podInstances(m), backends).map((f) => f.message);
  };

  it("passes a rule admitting the public subnets, whose addresses no pod has", () => {
    assert.deepEqual(run([{ ipBlock: { cidr: "10.20.32.0/22" } }]), []);
  });

  it("catches a rule admitting the VPC: any pod of another namespace then bypasses the load balancer", () => {
    assert.deepEqual(run([{ ipBlock: { cidr: vpc } }]), [
      "Deployment quant/quant-api reaches Deployment platform/gateway without the load balancer",
    ]);
  });
});

describe("cluster checks: teardown", () => {
  const claimTemplate = [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }];
  const statefulSet = (name: string, policy?: object): KObject => ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: "o" },
    spec: {
      volumeClaimTemplates: claimTemplate,
      ...(policy ? { persistentVolumeClaimRetentionPolicy: policy } : {}),
    },
  });
  const prometheus = (policy?: object): KObject => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "Prometheus",
    metadata: { name: "p", namespace: "o" },
    spec: {
      storage: { volumeClaimTemplate: { spec: {} } },
      ...(policy ? { persistentVolumeClaimRetentionPolicy: policy } : {}),
    },
  });
  const kept: KObject = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "keep", namespace: "o", annotations: { "helm.sh/resource-policy": "keep" } },
  };
  const charted = (objects: KObject[]): ClusterModel => ({
    ...model([]),
    objects: objects.map((obj) => ({ obj, origin: "chart:store" })),
  });

  it("reports claims that outlive their StatefulSet or operator resource, and objects Helm keeps", () => {
    const deleted = { whenDeleted: "Delete", whenScaled: "Retain" };
    assert.deepEqual(
      checkTeardown(
        charted([
          statefulSet("kept", { whenDeleted: "Retain" }),
          statefulSet("default"),
          statefulSet("ok", deleted),
          prometheus(),
          prometheus(deleted),
          kept,
        ]),
      ).map((f) => f.subject),
      [
        "StatefulSet o/kept (chart:store)",
        "StatefulSet o/default (chart:store)",
        "Prometheus o/p (chart:store)",
        "PersistentVolumeClaim o/keep (chart:store)",
      ],
    );
    assert.deepEqual(checkTeardown(charted([statefulSet("ok", deleted), prometheus(deleted)])), []);
  });
});
