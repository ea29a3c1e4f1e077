/**
 * Namespaced RBAC as plain data: a Role's rules are a pure function's result, so tests compare them
 * exactly; `grantRole` creates the Role and binds it to service accounts.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { partOf } from "../../platform/registry";

/** A rule of a Kubernetes Role (`resourceNames` narrows it to named objects). */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** A service account a Role is bound to. */
export interface RoleSubject {
  readonly name: pulumi.Input<string>;
  readonly namespace: pulumi.Input<string>;
}

/**
 * A Role named `role` in `namespace` with `rules`, and a RoleBinding of the same name granting it to
 * `subjects`. Pulumi names: `<prefix>-<role>`. Returns both, for `dependsOn`.
 */
export function grantRole(
  prefix: string,
  p: {
    readonly role: string;
    readonly namespace: pulumi.Input<string>;
    readonly rules: PolicyRule[];
    readonly subjects: readonly RoleSubject[];
  },
  opts: pulumi.CustomResourceOptions,
): pulumi.Resource[] {
  const metadata = {
    name: p.role,
    namespace: p.namespace,
    labels: { "app.kubernetes.io/part-of": partOf },
  };
  const role = new k8s.rbac.v1.Role(`${prefix}-${p.role}`, { metadata, rules: p.rules }, opts);
  const binding = new k8s.rbac.v1.RoleBinding(
    `${prefix}-${p.role}`,
    {
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: p.subjects.map((s) => ({ kind: "ServiceAccount", ...s })),
    },
    opts,
  );
  return [role, binding];
}
