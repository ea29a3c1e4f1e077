/**
 * The External Secrets Operator (ESO): every secret the platform uses lives in AWS Secrets Manager,
 * and ESO writes it into the Kubernetes Secret its consumer mounts, re-reading it every
 * `secrets.refreshInterval`. The program writes no secret value into Kubernetes; a rotation in Secrets
 * Manager reaches the pods without `pulumi up` (docs/operations.md: what restarts, what re-reads).
 *
 * Who can read what (lib/k8s/syncedSecret.ts has the naming):
 * - AWS: the controller's IRSA role may GetSecretValue on `<namePrefix>/*` only and decrypt only
 *   with the stack's own KMS key, only through Secrets Manager, only for those secrets.
 * - Kubernetes: one ClusterSecretStore per namespace, prefixed with that namespace's folder and usable
 *   from that namespace only. Namespaced SecretStores do not exist: anyone who may create one in a
 *   namespace could otherwise point it at any key with the controller's own AWS role. Their
 *   reconciler is off, so none is ever marked Ready, and the flood gate (pinned on) refuses any store
 *   that is not (ESO 2.9.0 `pkg/controllers/secretstore/client_manager.go`, assertStoreIsUsable).
 *   Cluster stores are cluster-scoped: only cluster admins make them.
 * - The controller's cluster role: Secrets in every namespace (it writes the synced ones; it watches
 *   Secret metadata cluster-wide, controller-runtime cannot narrow that to a list of namespaces).
 *   Nothing else: no `serviceaccounts/token` create (stores use the controller's own IRSA identity,
 *   not per-namespace service accounts), no aggregation into view/edit/admin, no service bindings.
 *   The webhook and its cert-controller are off: the cert-controller's cluster role reads every
 *   Secret in the cluster; without the webhook, ExternalSecrets are still checked by their CRD schema,
 *   and only this program and cluster admins create stores.
 * - Push and cluster-wide ExternalSecret/generator kinds are neither installed nor reconciled.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IrsaRole } from "../lib/aws/irsaRole";
import { helmRelease } from "../lib/k8s/helm";
import {
  allowHttpsEgress,
  allowKubeApiserverEgress,
  createNetworkPolicies,
  podsIn,
  type NetworkPolicyDef,
} from "../lib/k8s/networkPolicies";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { storeName, storePrefix, type SecretStore } from "../lib/k8s/syncedSecret";
import { chartWorkloads, prometheusPodLabels } from "../platform/chartContracts";
import type { PlatformContext } from "../platform/context";
import type { PolicyDocument } from "../platform/policyDocument";
import { partOf, registry } from "../platform/registry";
import { workloadLabels } from "../platform/scheduling";
import { charts } from "../platform/versions";
import type { SecretsConfig } from "../config/secrets";

/** The controller's pods and service account (chart contract). */
const controller = chartWorkloads.externalSecretsController;
const serviceAccount = "external-secrets";

/**
 * What the controller's role may do: read the stack's secrets, and decrypt them with the stack's key
 * through Secrets Manager only (the encryption context Secrets Manager sends names the secret).
 */
export function externalSecretsPolicy(
  partition: string,
  region: string,
  accountId: string,
  namePrefix: string,
  kmsKeyArn: string,
): PolicyDocument {
  const secrets = `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${namePrefix}/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadThisStacksSecrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: secrets,
      },
      {
        Sid: "DecryptThemWithTheStackKey",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: kmsKeyArn,
        Condition: {
          StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` },
          StringLike: { "kms:EncryptionContext:SecretARN": secrets },
        },
      },
    ],
  };
}

/** Helm values of ESO: the controller only, restricted, on CPU nodes, scraped by Prometheus. */
export function externalSecretsValues(roleArn: string) {
  return {
    installCRDs: true,
    // Neither installed nor reconciled: pushing to Secrets Manager, cluster-wide ExternalSecrets
    // and generators (the chart requires both switches together).
    crds: {
      createClusterExternalSecret: false,
      createClusterPushSecret: false,
      createPushSecret: false,
      createClusterGenerator: false,
      // No effect in chart 2.9.0 (its CRD generator, hack/helm.generate.sh, guards only the Cluster*
      // and PushSecret CRDs); what keeps namespaced stores unused is below.
      createSecretStore: false,
    },
    processClusterExternalSecret: false,
    processClusterPushSecret: false,
    processPushSecret: false,
    processClusterGenerator: false,
    // Namespaced stores would lend the controller's AWS role to whoever may create one.
    processSecretStore: false,
    processClusterStore: true,
    // Only stores a reconciler marked Ready are used (the default, pinned: see the module comment).
    extraArgs: { "enable-flood-gate": true },
    serviceAccount: {
      create: true,
      name: serviceAccount,
      annotations: { "eks.amazonaws.com/role-arn": roleArn },
    },
    rbac: {
      create: true,
      serviceAccountTokenCreate: false,
      servicebindings: { create: false },
      aggregateToView: false,
      aggregateToEdit: false,
      aggregateToAdmin: false,
    },
    webhook: { create: false },
    certController: { create: false },
    nodeSelector: workloadLabels.cpu,
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    podSecurityContext: {
      enabled: true,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: { enabled: true, ...restrictedContainerSecurityContext(), runAsUser: 1000 },
    livenessProbe: { enabled: true },
    readinessProbe: { enabled: true },
    // The stack's Prometheus selects every ServiceMonitor; render it even before its CRD exists.
    serviceMonitor: { enabled: true, renderMode: "alwaysRender" },
  };
}

/** The ClusterSecretStore spec serving one namespace (see lib/k8s/syncedSecret.ts). */
export function clusterSecretStoreSpec(region: string, namePrefix: string, namespace: string) {
  return {
    // No `auth`: the controller's own IRSA identity, which can read only the stack's secrets.
    provider: {
      aws: { service: "SecretsManager", region, prefix: storePrefix(namePrefix, namespace) },
    },
    conditions: [{ namespaces: [namespace] }],
  };
}

/**
 * NetworkPolicies of the controller, on top of its namespace's default-deny and DNS: the Kubernetes
 * API; STS and Secrets Manager over HTTPS (outside the VPC, through the NAT gateways); Prometheus
 * scrapes its metrics.
 */
export function externalSecretsPolicies(vpcCidr: string, serviceCidr: string): NetworkPolicyDef[] {
  const pods = { ...controller.podLabels };
  const metrics = controller.ports[0].containerPort;
  return [
    allowKubeApiserverEgress(
      "allow-external-secrets-to-kube-apiserver",
      { matchLabels: pods },
      vpcCidr,
      serviceCidr,
    ),
    allowHttpsEgress("allow-external-secrets-to-aws-apis", pods, vpcCidr),
    {
      name: `allow-prometheus-scrape-external-secrets-${metrics}`,
      spec: {
        podSelector: { matchLabels: pods },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [podsIn("observability", prometheusPodLabels)],
            ports: [{ protocol: "TCP", port: metrics }],
          },
        ],
      },
    },
  ];
}

/** The namespaces it serves, one ClusterSecretStore each: every registered one but the add-ons'. */
export function secretConsumers(): string[] {
  return Object.entries(registry.namespaces)
    .filter(([, d]) => d.tier !== "addons")
    .map(([ns]) => ns);
}

export interface ExternalSecretsArgs {
  /** Region, account, name prefix, OIDC and CIDRs. */
  readonly ctx: PlatformContext;
  readonly secrets: SecretsConfig;
  /** Its own namespace, `external-secrets` (Output, so the release waits for it). */
  readonly namespace: pulumi.Output<string>;
  /** What the release waits for (CPU nodes to run on). */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * ESO (pinned chart) in its own namespace with its IRSA role, the stack's KMS key for Secrets
 * Manager, one ClusterSecretStore per workload namespace, and its NetworkPolicies. `store` is what every synced
 * secret is made with. Providers (aws, kubernetes) come through `opts.providers`.
 */
export class ExternalSecrets extends pulumi.ComponentResource {
  readonly store: SecretStore;

  constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:addons:ExternalSecrets", name, {}, opts);
    const { ctx } = args;
    const k = { parent: this };
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Secrets Manager secrets of ${ctx.namePrefix}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      k,
    );
    new aws.kms.Alias(
      `${name}-key`,
      { name: `alias/${ctx.namePrefix}-secrets-manager`, targetKeyId: key.keyId },
      k,
    );
    const role = new IrsaRole(
      `${name}-controller`,
      {
        oidc: ctx.oidc,
        namespace: controller.namespace,
        serviceAccount,
        roleName: `${ctx.namePrefix}-external-secrets-irsa`,
        inlinePolicies: {
          "read-stack-secrets": pulumi
            .all([ctx.partition, ctx.accountId, key.arn])
            .apply(([partition, account, keyArn]) =>
              externalSecretsPolicy(partition, ctx.region, account, ctx.namePrefix, keyArn),
            ),
        },
      },
      k,
    );
    const release = helmRelease(
      controller.release,
      charts.externalSecrets,
      args.namespace,
      role.roleArn.apply(externalSecretsValues),
      { ...k, dependsOn: [...args.dependsOn, role] },
    );
    const stores = secretConsumers().map(
      (namespace) =>
        new k8s.apiextensions.CustomResource(
          `${name}-store-${namespace}`,
          {
            apiVersion: "external-secrets.io/v1",
            kind: "ClusterSecretStore",
            metadata: {
              name: storeName(namespace),
              labels: { "app.kubernetes.io/part-of": partOf },
            },
            spec: clusterSecretStoreSpec(ctx.region, ctx.namePrefix, namespace),
          },
          { ...k, dependsOn: [release] },
        ),
    );
    createNetworkPolicies(
      controller.namespace,
      args.namespace,
      externalSecretsPolicies(ctx.vpcCidr, ctx.serviceCidr),
      k,
    );
    this.store = {
      namePrefix: ctx.namePrefix,
      kmsKeyArn: key.arn,
      refreshInterval: args.secrets.refreshInterval,
      recoveryWindowDays: args.secrets.recoveryWindowDays,
      ready: [release, ...stores],
    };
    this.registerOutputs({});
  }
}
