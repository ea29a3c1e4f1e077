import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { partOf, readinessGateLabel, registry, type NamespaceName } from "../platform/registry";
import { type Registry } from "../platform/designs";
import { namespaceConfig, type NamespaceConfig, type NamespacesConfig } from "../config/teams";
import { createNetworkPolicies, namespaceBaselinePolicies } from "../lib/k8s/networkPolicies";

/**
 * Labels of a namespace: ownership, environment, and Pod Security Admission. Enforcement follows the
 * registry; audit and warn are always `restricted`, pinned to the cluster's minor so a Kubernetes
 * upgrade cannot silently change what is enforced.
 */
export function namespaceLabels(
  name: string,
  stack: string,
  kubernetesVersion: string,
  reg: Registry = registry,
): Record<string, string> {
  const d = reg.namespaces[name];
  if (!d) throw new Error(`namespace ${name} is not in the registry`);
  if (d.podSecurity !== "restricted" && !d.exception) {
    throw new Error(`namespace ${name} enforces ${d.podSecurity} without a documented exception`);
  }
  const version = `v${kubernetesVersion}`;
  return {
    tier: d.tier,
    ...(d.team ? { team: d.team } : {}),
    "app.kubernetes.io/part-of": partOf,
    "app.kubernetes.io/managed-by": "pulumi",
    environment: stack,
    "pod-security.kubernetes.io/enforce": d.podSecurity,
    "pod-security.kubernetes.io/enforce-version": version,
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": version,
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": version,
    ...(d.behindLoadBalancer ? readinessGateLabel : {}),
  };
}

/** The ResourceQuota `hard` map, exactly as configured. */
function quotaHard(q: NamespaceConfig["quota"]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(q)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}

/** The container LimitRange item. */
function limitRangeItem(l: NamespaceConfig["limits"]) {
  return {
    type: "Container",
    default: { ...l.default },
    defaultRequest: { ...l.defaultRequest },
    max: { ...l.max },
    min: { ...l.min },
  };
}

export interface NamespacesArgs {
  readonly stack: string;
  readonly kubernetesVersion: string;
  readonly namespaces: NamespacesConfig;
  /** The registry the namespaces come from. Default: the platform's. */
  readonly registry?: Registry;
  /**
   * What the namespaces themselves (their quotas and policies follow them) wait for, and outlive on
   * destroy: the storage add-ons, so a namespace's deletion, which waits for its volume claims to go,
   * ends while the CSI driver still runs to delete the released volumes. Default none.
   */
  readonly dependsOn?: pulumi.Resource[];
}

/**
 * The registry's namespaces, each with its quota, container limits and baseline NetworkPolicies
 * (default-deny, DNS, OTLP export, Prometheus scrape). `names` resolve once a namespace exists, so
 * objects created in it wait for it. The Kubernetes provider comes through `opts`, inherited by all.
 */
export class Namespaces extends pulumi.ComponentResource {
  /** Name of each namespace by its registry key. */
  readonly names: Record<NamespaceName, pulumi.Output<string>> &
    Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:k8s:Namespaces", name, {}, opts);
    const o = { parent: this };
    const reg = args.registry ?? registry;
    const names: Record<string, pulumi.Output<string>> = {};
    for (const [ns, d] of Object.entries(reg.namespaces)) {
      const cfg = namespaceConfig(args.namespaces, ns);
      const labels = namespaceLabels(ns, args.stack, args.kubernetesVersion, reg);
      const namespace = new k8s.core.v1.Namespace(
        `${ns}-namespace`,
        { metadata: { name: ns, labels } },
        { ...o, dependsOn: args.dependsOn ?? [] },
      );
      const nsName = namespace.metadata.name;
      const meta = (suffix: string) => ({
        name: `${ns}-${suffix}`,
        namespace: nsName,
        labels: { "app.kubernetes.io/part-of": partOf },
      });
      new k8s.core.v1.ResourceQuota(
        `${ns}-quota`,
        { metadata: meta("quota"), spec: { hard: quotaHard(cfg.quota) } },
        o,
      );
      new k8s.core.v1.LimitRange(
        `${ns}-limits`,
        { metadata: meta("limits"), spec: { limits: [limitRangeItem(cfg.limits)] } },
        o,
      );
      const baseline = namespaceBaselinePolicies({
        servesHttp: d.tier !== "observability" && d.tier !== "addons",
        hostsOtelCollector: d.tier === "observability",
        // Add-on controllers export no OTLP; their metrics are scraped.
        exportsOtlp: d.tier !== "addons",
      });
      createNetworkPolicies(ns, nsName, baseline, o);
      names[ns] = nsName;
    }
    // Sound: one entry per registered namespace, the real registry's names included.
    this.names = names as Record<NamespaceName, pulumi.Output<string>>;
    this.registerOutputs({ names });
  }
}
