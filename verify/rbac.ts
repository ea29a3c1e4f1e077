/**
 * Who may read Secrets, from RBAC objects as a cluster would hold them (the program's and the charts'
 * rendered ones): every binding's subjects, with the rules of the role it binds that let them get,
 * list or watch Secrets, and where (the binding's namespace, or every namespace).
 */
import type { KObject } from "./model";

/** One grant of Secret reads. */
export interface SecretRead {
  /** `ServiceAccount <namespace>/<name>`, `User <name>`, `Group <name>`. */
  readonly subject: string;
  /** The subject's namespace (service accounts), for grouping by owner. */
  readonly subjectNamespace?: string;
  /** The namespace the grant applies in, or `*` (a ClusterRoleBinding). */
  readonly scope: string;
  readonly verbs: readonly string[];
  /** The Secrets it is limited to; empty = every Secret in scope. */
  readonly resourceNames: readonly string[];
  /** The binding and role that grant it, `<kind>/<name>`. */
  readonly via: string;
}

const readVerbs = ["get", "list", "watch", "*"];

/** Whether an RBAC rule covers Secrets (core group or `*`, resource `secrets` or `*`). */
function coversSecrets(rule: any): boolean {
  const groups: string[] = rule.apiGroups ?? [];
  const resources: string[] = rule.resources ?? [];
  return (
    (groups.includes("") || groups.includes("*")) &&
    (resources.includes("secrets") || resources.includes("*"))
  );
}

/** Every Secret read the RBAC objects grant, one entry per subject and rule. */
export function secretReads(objects: readonly KObject[]): SecretRead[] {
  const role = (kind: string, name: string, namespace?: string) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (kind === "ClusterRole" || o.metadata.namespace === namespace),
    );
  const out: SecretRead[] = [];
  for (const b of objects) {
    if (b.kind !== "RoleBinding" && b.kind !== "ClusterRoleBinding") continue;
    const r = role(b.roleRef.kind, b.roleRef.name, b.metadata.namespace);
    if (!r) continue;
    const scope = b.kind === "ClusterRoleBinding" ? "*" : b.metadata.namespace!;
    for (const rule of r.rules ?? []) {
      const verbs = ((rule.verbs ?? []) as string[]).filter((v) => readVerbs.includes(v));
      if (!coversSecrets(rule) || verbs.length === 0) continue;
      for (const s of b.subjects ?? []) {
        const ns = s.kind === "ServiceAccount" ? (s.namespace ?? b.metadata.namespace) : undefined;
        out.push({
          subject: ns ? `${s.kind} ${ns}/${s.name}` : `${s.kind} ${s.name}`,
          ...(ns ? { subjectNamespace: ns } : {}),
          scope,
          verbs,
          resourceNames: rule.resourceNames ?? [],
          via: `${b.kind}/${b.metadata.name} -> ${r.kind}/${r.metadata.name}`,
        });
      }
    }
  }
  return out;
}

/** Every rule the RBAC objects bind to service accounts of `namespace`, with where it applies. */
export function boundRules(
  objects: readonly KObject[],
  namespace: string,
): { subject: string; scope: string; rule: any }[] {
  const out: { subject: string; scope: string; rule: any }[] = [];
  for (const b of objects) {
    if (b.kind !== "RoleBinding" && b.kind !== "ClusterRoleBinding") continue;
    const r = objects.find(
      (o) =>
        o.kind === b.roleRef.kind &&
        o.metadata.name === b.roleRef.name &&
        (o.kind === "ClusterRole" || o.metadata.namespace === b.metadata.namespace),
    );
    for (const s of b.subjects ?? []) {
      if (s.kind !== "ServiceAccount" || (s.namespace ?? b.metadata.namespace) !== namespace)
        continue;
      for (const rule of r?.rules ?? [])
        out.push({
          subject: s.name,
          scope: b.kind === "ClusterRoleBinding" ? "*" : b.metadata.namespace!,
          rule,
        });
    }
  }
  return out;
}
