/**
 * NetworkPolicies as plain data. Every namespace starts from default-deny (ingress and egress); each
 * further policy allows one named flow. The VPC CNI's network policy agent enforces them (enabled in
 * the vpc-cni add-on config). Kubelet probes need no rule: the agent always allows traffic from the
 * pod's own node IP (aws-network-policy-agent PR #65, in every VPC CNI since v1.15.1).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { partOf, servicePort } from "../../platform/registry";
import { otelCollector, prometheusPodLabels } from "../../platform/chartContracts";

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** A NetworkPolicy: its name says which traffic it allows. */
export interface NetworkPolicyDef {
  readonly name: string;
  readonly spec: PolicySpec;
}

/** Peer: pods with `labels` in namespace `namespace` (the namespace's automatic name label). */
export function podsIn(namespace: string, labels: Record<string, string>): Peer {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    podSelector: { matchLabels: labels },
  };
}

const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/** DNS lookups from the selected pods to CoreDNS (the `coredns` add-on's pods in kube-system). */
export function allowDnsEgress(
  name: string,
  podSelector: k8s.types.input.meta.v1.LabelSelector,
): NetworkPolicyDef {
  return {
    name,
    spec: {
      podSelector,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [podsIn("kube-system", { "k8s-app": "kube-dns" })],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
  };
}

/**
 * The Kubernetes API from the selected pods: the control plane's ENIs in the VPC and the `kubernetes`
 * Service's ClusterIP, on 443.
 */
export function allowKubeApiserverEgress(
  name: string,
  podSelector: k8s.types.input.meta.v1.LabelSelector,
  vpcCidr: string,
  serviceCidr: string,
): NetworkPolicyDef {
  return {
    name,
    spec: {
      podSelector,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: vpcCidr } }, { ipBlock: { cidr: serviceCidr } }],
          ports: tcp(443),
        },
      ],
    },
  };
}

/** The policies every namespace gets. */
export function namespaceBaselinePolicies(opts: {
  servesHttp: boolean;
  hostsOtelCollector: boolean;
  /** Its pods send OTLP to the collector. Default true. */
  exportsOtlp?: boolean;
}): NetworkPolicyDef[] {
  const policies: NetworkPolicyDef[] = [
    { name: "default-deny-all", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    allowDnsEgress("allow-dns-to-kube-dns", {}),
  ];
  if (opts.exportsOtlp ?? true) {
    policies.push({
      name: "allow-otlp-to-otel-collector",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [podsIn(otelCollector.namespace, otelCollector.podLabels)],
            ports: tcp(...otelCollector.ports),
          },
        ],
      },
    });
  }
  if (opts.servesHttp) {
    policies.push({
      name: `allow-prometheus-scrape-${servicePort}`,
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          { from: [podsIn("observability", prometheusPodLabels)], ports: tcp(servicePort) },
        ],
      },
    });
  }
  if (opts.hostsOtelCollector) {
    policies.push({
      name: "allow-otlp-from-all-namespaces",
      spec: {
        podSelector: { matchLabels: otelCollector.podLabels },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: {} }], ports: tcp(...otelCollector.ports) }],
      },
    });
  }
  return policies;
}

/** Peers: one ipBlock per CIDR (the list may be an Output, e.g. subnet CIDRs read from AWS). */
export function ipBlocks(cidrs: pulumi.Input<string[]>): pulumi.Output<Peer[]> {
  return pulumi.output(cidrs).apply((cs) => cs.map((cidr) => ({ ipBlock: { cidr } })));
}

/**
 * The ALB (target type ip) reaches the selected pods directly from its ENIs, which sit in the public
 * subnets (`loadBalancerCidrs`). Pods live in the private subnets (VPC CNI), so a pod anywhere in the
 * cluster cannot use this rule to bypass the load balancer (its WAF and authentication).
 */
export function allowLoadBalancerTo(
  podLabels: Record<string, string>,
  port: number,
  loadBalancerCidrs: pulumi.Input<string[]>,
  name = `allow-alb-to-${podLabels.app ?? Object.values(podLabels).join("-")}-${port}`,
): NetworkPolicyDef {
  return {
    name,
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes: ["Ingress"],
      ingress: [{ from: ipBlocks(loadBalancerCidrs), ports: tcp(port) }],
    },
  };
}

/** Egress from `app` to each target service (namespace + app label) on the service port. */
export function allowEgressToApps(
  app: string,
  targets: readonly { namespace: string; app: string }[],
  name: string,
): NetworkPolicyDef {
  // An egress rule with an empty `to` matches every destination: refuse it rather than open 8000.
  if (targets.length === 0) throw new Error(`${name}: expected at least one target app`);
  return {
    name,
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ["Egress"],
      egress: [
        { to: targets.map((t) => podsIn(t.namespace, { app: t.app })), ports: tcp(servicePort) },
      ],
    },
  };
}

/** Ingress to `app` from one client app in another namespace, on the service port. */
export function allowIngressFromApp(
  app: string,
  client: { namespace: string; app: string },
): NetworkPolicyDef {
  return {
    name: `allow-${client.app}-to-${app}-${servicePort}`,
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [podsIn(client.namespace, { app: client.app })], ports: tcp(servicePort) }],
    },
  };
}

/**
 * HTTPS egress to the internet (through the NAT gateways) for the selected pods. Addresses inside the
 * VPC are excluded: this opens the internet on 443, not the VPC.
 */
export function allowHttpsEgress(
  name: string,
  podLabels: Record<string, string>,
  vpcCidr: string,
): NetworkPolicyDef {
  return {
    name,
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr] } }], ports: tcp(443) }],
    },
  };
}

/** HTTPS egress for a service that calls AWS APIs (STS for IRSA, SageMaker, S3). */
export function allowHttpsToAwsApis(app: string, vpcCidr: string): NetworkPolicyDef {
  return allowHttpsEgress("allow-https-to-aws-apis", { app }, vpcCidr);
}

/** Creates NetworkPolicies in a namespace, named `<namespace>-<policy>` in Pulumi and `<policy>` in Kubernetes. */
export function createNetworkPolicies(
  prefix: string,
  namespace: pulumi.Input<string>,
  policies: readonly NetworkPolicyDef[],
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy[] {
  return policies.map(
    (p) =>
      new k8s.networking.v1.NetworkPolicy(
        `${prefix}-${p.name}`,
        {
          metadata: { name: p.name, namespace, labels: { "app.kubernetes.io/part-of": partOf } },
          spec: p.spec,
        },
        opts,
      ),
  );
}
