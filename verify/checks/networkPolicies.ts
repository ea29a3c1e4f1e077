/**
 * NetworkPolicy evaluation with Kubernetes semantics: a pod is isolated for a direction once any
 * policy in its namespace selects it for that direction, and then traffic passes only what some rule
 * of those policies allows. Traffic must pass both the source's egress and the destination's ingress.
 * Pod IPs are VPC addresses (VPC CNI), so ipBlock rules over the VPC CIDR also match pods.
 */
import {
  ref,
  selects,
  type ClusterModel,
  type KObject,
  type Labels,
  type PodInstance,
} from "../model";
import { findings, type Finding } from "./problem";

/** One side of a connection: a pod, or an address outside the pod network. */
export type Peer = { readonly pod: PodInstance } | { readonly ip: string; readonly name: string };

/** Labels of a namespace (with the automatic `kubernetes.io/metadata.name`). */
export function namespaceLabels(model: ClusterModel, namespace: string): Labels {
  const ns = model.objects.find(
    (o) => o.obj.kind === "Namespace" && o.obj.metadata.name === namespace,
  );
  return { ...(ns?.obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": namespace };
}

function policies(model: ClusterModel): KObject[] {
  return model.objects.filter((o) => o.obj.kind === "NetworkPolicy").map((o) => o.obj);
}

function policyTypes(p: KObject): string[] {
  return p.spec.policyTypes ?? (p.spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}

function ipv4(ip: string): number {
  return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}

/** Whether an IPv4 address is inside a CIDR. */
export function inCidr(ip: string, cidr: string): boolean {
  if (cidr.includes(":") || ip.includes(":")) return false;
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base!) / size);
}

function peerIp(model: ClusterModel, p: Peer): string {
  return "pod" in p ? model.vpcAddress : p.ip;
}

/** Whether a policy peer (from/to entry) matches a connection end. */
function peerMatches(model: ClusterModel, peer: any, policyNs: string, end: Peer): boolean {
  if (peer.ipBlock) {
    const ip = peerIp(model, end);
    return (
      inCidr(ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((c: string) => inCidr(ip, c))
    );
  }
  if (!("pod" in end)) return false;
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels(model, end.pod.namespace))
    : end.pod.namespace === policyNs;
  return nsOk && selects(peer.podSelector, end.pod.labels);
}

/** A container port of a pod by name. */
function namedPort(
  pod: PodInstance | undefined,
  name: string,
  protocol: string,
): number | undefined {
  for (const c of pod?.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === name && (p.protocol ?? "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

function portMatches(ports: any[] | undefined, port: number, protocol: string, dst: Peer): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "string") {
      return namedPort("pod" in dst ? dst.pod : undefined, p.port, protocol) === port;
    }
    return p.endPort ? port >= p.port && port <= p.endPort : p.port === port;
  });
}

/**
 * Why one side's policies block a connection, or undefined: the pod at `self` is isolated for
 * `direction` once a policy in its namespace selects it, and then some rule must admit `other`.
 */
function blockedAt(
  model: ClusterModel,
  direction: "Ingress" | "Egress",
  self: PodInstance,
  other: Peer,
  dst: Peer,
  port: number,
  protocol: string,
): string | undefined {
  const [rulesKey, peersKey] = direction === "Egress" ? ["egress", "to"] : ["ingress", "from"];
  const mine = policies(model).filter(
    (p) =>
      p.metadata.namespace === self.namespace &&
      policyTypes(p).includes(direction) &&
      selects(p.spec.podSelector, self.labels),
  );
  const ok =
    mine.length === 0 ||
    mine.some((p) =>
      (p.spec[rulesKey] ?? []).some(
        (rule: any) =>
          (!rule[peersKey]?.length ||
            rule[peersKey].some((peer: any) =>
              peerMatches(model, peer, p.metadata.namespace!, other),
            )) &&
          portMatches(rule.ports, port, protocol, dst),
      ),
    );
  if (ok) return undefined;
  const names = mine.map((p) => p.metadata.name).join(", ");
  return `${direction.toLowerCase()} of ${self.owner} denied (policies: ${names})`;
}

/** Why a connection is denied, or undefined when the policies allow it. */
export function denied(
  model: ClusterModel,
  src: Peer,
  dst: Peer,
  port: number,
  protocol = "TCP",
): string | undefined {
  return (
    ("pod" in src ? blockedAt(model, "Egress", src.pod, dst, dst, port, protocol) : undefined) ??
    ("pod" in dst ? blockedAt(model, "Ingress", dst.pod, src, dst, port, protocol) : undefined)
  );
}

/**
 * Every policy selects at least one pod, and every pod peer in its rules selects at least one pod
 * (a selector that matches nothing is a typo or a renamed label: the flow it meant is silently lost).
 */
export function checkPolicySelectors(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("network-policy-selectors");
  for (const p of policies(model)) {
    const ns = p.metadata.namespace!;
    const inNs = pods.filter((x) => x.namespace === ns);
    if (!inNs.some((x) => selects(p.spec.podSelector, x.labels))) {
      f.add(ref(p), "its podSelector selects no pod");
    }
    const rules = [
      ...(p.spec.ingress ?? []).flatMap((r: any) => r.from ?? []),
      ...(p.spec.egress ?? []).flatMap((r: any) => r.to ?? []),
    ];
    for (const peer of rules) {
      if (peer.ipBlock) continue;
      const matched = pods.some((x) => peerMatches(model, peer, ns, { pod: x }));
      if (!matched) f.add(ref(p), `peer ${JSON.stringify(peer)} selects no pod`);
    }
  }
  return f.out;
}
