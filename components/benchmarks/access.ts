/**
 * What the benchmark's pods may do, as plain data: the Kubernetes RBAC of its two service accounts
 * and the NetworkPolicies of its traffic. (Its S3 access is lib/aws/bucketPolicies.ts
 * `prefixReadWritePolicy` on the results bucket's `benchmarks/` prefix.)
 */
import { podsIn, allowHttpsEgress, type NetworkPolicyDef } from "../lib/k8s/networkPolicies";
import type { PolicyRule } from "../lib/k8s/rbac";
import { prometheusPodLabels } from "../platform/chartContracts";
import { modelServerLabel, servicePort } from "../platform/registry";
import { benchmarkNames } from "./settings";

/**
 * Every workflow pod's executor reports its step's outputs as a WorkflowTaskResult (Argo ≥ 3.4:
 * docs/workflow-rbac.md, "the minimum for the executor"); nothing else.
 */
export function executorRules(): PolicyRule[] {
  return [
    { apiGroups: ["argoproj.io"], resources: ["workflowtaskresults"], verbs: ["create", "patch"] },
  ];
}

/**
 * The scaler steps: pause and release the named ScaledObjects (merge patch; kubectl may read the
 * object first) and read the named Deployments' readiness. An empty `resourceNames` would mean every
 * object, so a rule without names is left out.
 */
export function scalerRules(scaledObjects: string[], deployments: string[]): PolicyRule[] {
  return [
    ...(scaledObjects.length > 0
      ? [
          {
            apiGroups: ["keda.sh"],
            resources: ["scaledobjects"],
            verbs: ["get", "patch"],
            resourceNames: scaledObjects,
          },
        ]
      : []),
    ...(deployments.length > 0
      ? [
          {
            apiGroups: ["apps"],
            resources: ["deployments"],
            verbs: ["get"],
            resourceNames: deployments,
          },
        ]
      : []),
  ];
}

const app = { app: benchmarkNames.app };
const step = (name: string) => ({ matchLabels: { ...app, [benchmarkNames.stepLabel]: name } });
const tcp = (port: number) => [{ protocol: "TCP", port }];

/**
 * The benchmark's flows in the model namespace, on top of its default-deny baseline: every pod's
 * executor calls the Kubernetes API; pods that move S3 artifacts reach S3 and STS over HTTPS; the
 * client reaches the model servers (and they admit it); the record step queries Prometheus.
 */
export function benchmarkPolicies(
  vpcCidr: string,
  serviceCidr: string,
  prometheusPort: number,
): NetworkPolicyDef[] {
  const modelServers = { matchLabels: { [modelServerLabel]: "true" } };
  return [
    {
      name: "allow-benchmark-to-kube-apiserver",
      spec: {
        podSelector: { matchLabels: app },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: vpcCidr } }, { ipBlock: { cidr: serviceCidr } }],
            ports: tcp(443),
          },
        ],
      },
    },
    allowHttpsEgress(
      "allow-benchmark-https-to-aws",
      { ...app, [benchmarkNames.s3Label]: "true" },
      vpcCidr,
    ),
    {
      name: `allow-benchmark-client-egress-to-model-servers-${servicePort}`,
      spec: {
        podSelector: step("bench"),
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: modelServers }], ports: tcp(servicePort) }],
      },
    },
    {
      name: `allow-benchmark-client-to-model-servers-${servicePort}`,
      spec: {
        podSelector: modelServers,
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: step("bench") }], ports: tcp(servicePort) }],
      },
    },
    {
      name: `allow-benchmark-record-to-prometheus-${prometheusPort}`,
      spec: {
        podSelector: step("record"),
        policyTypes: ["Egress"],
        egress: [
          { to: [podsIn("observability", prometheusPodLabels)], ports: tcp(prometheusPort) },
        ],
      },
    },
  ];
}

/** The observability side: Prometheus admits the record step's queries. */
export function prometheusFromBenchmarkPolicy(
  modelNamespace: string,
  prometheusPort: number,
): NetworkPolicyDef {
  return {
    name: `allow-benchmark-record-to-prometheus-${prometheusPort}`,
    spec: {
      podSelector: { matchLabels: prometheusPodLabels },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [podsIn(modelNamespace, step("record").matchLabels)],
          ports: tcp(prometheusPort),
        },
      ],
    },
  };
}
