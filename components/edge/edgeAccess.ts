/**
 * Who may reach the public edge (./edge.ts builds the ALB with these):
 * - the web ACL on the ALB: the stack's own (`edge.waf`, see ./waf.ts), your own (`edge.wafAclArn`),
 *   or none;
 * - the gateway: JWTs verified by the ALB (`edge.gateway.jwtValidation`), HTTPS only. API keys cannot
 *   be checked by an ALB: the gateway checks them (teams/gatewaySecrets.ts);
 * - Grafana: an OIDC or Cognito login run by the ALB (`edge.grafana.auth`), HTTPS only, and/or an
 *   allow-list (`edge.grafana.allowedCidrs`): its own listener's CIDRs without TLS, a WAF rule with
 *   TLS (the hosts then share one listener).
 *
 * With OIDC, the client id (config) and secret (`llm-platform:grafanaOidcClientSecret`) live in
 * Secrets Manager, ESO syncs them into the Secret the load balancer controller reads (keys `clientID`,
 * `clientSecret`), and a Role lets the controller read that one Secret and nothing else (chart 3.5.0
 * grants it no Secret access). The controller watches the Secret, so a rotated client secret reaches
 * the ALB without `pulumi up`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SyncedSecret, type SecretStore } from "../lib/k8s/syncedSecret";
import { chartEndpoints } from "../platform/chartContracts";
import { partOf } from "../platform/registry";
import type { EdgeConfig, EdgeMode } from "../config/edge";
import { gatewayAuthAnnotations, grafanaAuthAnnotations, grafanaOidcSecret } from "./albIngress";
import { loadBalancerControllerAccount } from "./loadBalancerController";
import { createWebAcl } from "./waf";

/** What one Ingress adds to the group's settings: who may call it, and what it waits for. */
export interface IngressAccess {
  /** Authentication annotations (JWT verification, an OIDC or Cognito login). */
  readonly annotations: Record<string, string>;
  /** Its own listener's client CIDRs (plain HTTP only). Default the group's. */
  readonly inboundCidrs?: readonly string[];
  /** What must exist first (the OIDC client Secret the controller reads). */
  readonly dependsOn: pulumi.Resource[];
}

/** What deciding the edge's access needs. */
export interface EdgeAccessArgs {
  /** The stack's name prefix (the web ACL's name). */
  readonly namePrefix: string;
  readonly edge: EdgeConfig;
  readonly mode: EdgeMode;
  /** Where Grafana's OIDC client is kept. */
  readonly secrets: SecretStore;
  /** Grafana's namespace (the OIDC Secret sits beside its Ingress). */
  readonly grafanaNamespace: pulumi.Input<string>;
  /** With `edge.grafana.auth.oidc` (config validation guarantees it). */
  readonly grafanaOidcClientSecret?: pulumi.Output<string>;
}

/** The web ACL on the ALB: the stack's own (`edge.waf`), the config's (`wafAclArn`), or none. */
export function edgeWebAcl(
  name: string,
  parent: pulumi.Resource,
  a: EdgeAccessArgs,
): pulumi.Output<string> | undefined {
  const e = a.edge;
  if (!e.waf.enabled) return e.wafAclArn ? pulumi.output(e.wafAclArn) : undefined;
  const allowed = e.grafana.allowedCidrs;
  return createWebAcl(name, parent, {
    namePrefix: a.namePrefix,
    waf: e.waf,
    ...(a.mode.tls ? { gatewayHost: a.mode.gatewayHost } : {}),
    ...(a.mode.tls && allowed ? { grafanaAllowList: { cidrs: allowed } } : {}),
  });
}

/** The gateway's access at the ALB: JWT verification where configured. */
export function gatewayAccess(e: EdgeConfig): IngressAccess {
  return { annotations: gatewayAuthAnnotations(e.gateway.jwtValidation), dependsOn: [] };
}

/** Grafana's access at the ALB: its login (the OIDC client first), and without TLS its allow-list. */
export function grafanaAccess(
  name: string,
  parent: pulumi.Resource,
  a: EdgeAccessArgs,
): IngressAccess {
  const { auth, allowedCidrs } = a.edge.grafana;
  let dependsOn: pulumi.Resource[] = [];
  if (auth && "oidc" in auth) {
    if (!a.grafanaOidcClientSecret)
      throw new Error("edge: grafanaOidcClientSecret is required (config validation missed it)");
    dependsOn = grafanaOidcClient(name, parent, {
      store: a.secrets,
      namespace: chartEndpoints.grafana.namespace,
      namespaceRef: a.grafanaNamespace,
      clientId: auth.oidc.clientId,
      clientSecret: a.grafanaOidcClientSecret,
    });
  }
  return {
    annotations: grafanaAuthAnnotations(auth),
    ...(!a.mode.tls && allowedCidrs ? { inboundCidrs: allowedCidrs } : {}),
    dependsOn,
  };
}

/** The Role letting the load balancer controller read one Secret by name. */
export function readOneSecretRule(secret: string) {
  return {
    apiGroups: [""],
    resources: ["secrets"],
    resourceNames: [secret],
    verbs: ["get", "list", "watch"],
  };
}

interface GrafanaOidcClientArgs {
  readonly store: SecretStore;
  /** Grafana's namespace (registry name and its Output): the Secret must sit beside the Ingress. */
  readonly namespace: string;
  readonly namespaceRef: pulumi.Input<string>;
  readonly clientId: string;
  readonly clientSecret: pulumi.Output<string>;
}

/** The synced OIDC client Secret and the controller's read access to it; returns what waits for it. */
function grafanaOidcClient(
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
