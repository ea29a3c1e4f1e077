/**
 * Grafana's OIDC client for the ALB's login (`edge.grafana.auth.oidc`): the client id (config) and
 * secret (`llm-platform:grafanaOidcClientSecret`) live in Secrets Manager, ESO syncs them into the
 * Secret the load balancer controller reads (keys `clientID`, `clientSecret`), and a Role lets the
 * controller read that one Secret and nothing else (chart 3.5.0 grants it no Secret access at all).
 * The controller watches the Secret, so a rotated client secret reaches the ALB without `pulumi up`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SyncedSecret, type SecretStore } from "../lib/k8s/syncedSecret";
import { partOf } from "../platform/registry";
import { grafanaOidcSecret } from "./albIngress";
import { loadBalancerControllerAccount } from "./loadBalancerController";

/** The Role letting the load balancer controller read one Secret by name. */
export function readOneSecretRule(secret: string) {
  return {
    apiGroups: [""],
    resources: ["secrets"],
    resourceNames: [secret],
    verbs: ["get", "list", "watch"],
  };
}

export interface GrafanaOidcClientArgs {
  readonly store: SecretStore;
  /** Grafana's namespace (registry name and its Output): the Secret must sit beside the Ingress. */
  readonly namespace: string;
  readonly namespaceRef: pulumi.Input<string>;
  readonly clientId: string;
  readonly clientSecret: pulumi.Output<string>;
}

/** The synced OIDC client Secret and the controller's read access to it; returns what waits for it. */
export function grafanaOidcClient(
  name: string,
  parent: pulumi.Resource,
  args: GrafanaOidcClientArgs,
): pulumi.Resource[] {
  const secret = new SyncedSecret(
    `${name}-grafana-oidc`,
    {
      store: args.store,
      namespace: args.namespace,
      namespaceRef: args.namespaceRef,
      name: grafanaOidcSecret,
      description: "Grafana's OIDC client at the load balancer (clientID, clientSecret)",
      value: { json: { clientID: args.clientId, clientSecret: args.clientSecret } },
      owner: "config",
    },
    { parent },
  );
  const meta = {
    name: "aws-load-balancer-controller-read-grafana-oidc",
    namespace: args.namespaceRef,
    labels: { "app.kubernetes.io/part-of": partOf },
  };
  const role = new k8s.rbac.v1.Role(
    `${name}-grafana-oidc-reader`,
    { metadata: meta, rules: [readOneSecretRule(grafanaOidcSecret)] },
    { parent },
  );
  const binding = new k8s.rbac.v1.RoleBinding(
    `${name}-grafana-oidc-reader`,
    {
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", ...loadBalancerControllerAccount }],
    },
    { parent },
  );
  return [secret.externalSecret, binding];
}
