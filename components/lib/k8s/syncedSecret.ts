/**
 * Secrets kept in AWS Secrets Manager and synced into Kubernetes Secrets by the External Secrets
 * Operator (addons/externalSecrets.ts), so the program never writes a secret value into Kubernetes and
 * a rotation in Secrets Manager reaches the pods without `pulumi up`.
 *
 * Naming is the isolation: every secret of a stack is `<namePrefix>/<namespace>/<name>`, encrypted
 * with the stack's KMS key. The operator's role reads `<namePrefix>/*` only, and the add-on serves one
 * ClusterSecretStore per namespace (`secrets-manager-<namespace>`) that prefixes every key with
 * `<namePrefix>/<namespace>/` and admits ExternalSecrets of that namespace only: an ExternalSecret
 * reads its own namespace's secrets and nothing else, whatever key it names.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { partOf } from "../../platform/registry";

/** Where a stack's secrets live, and what an ExternalSecret waits for. Built by the ESO add-on. */
export interface SecretStore {
  /** The stack's name prefix: secrets are `<namePrefix>/<namespace>/<name>`. */
  readonly namePrefix: string;
  /** The stack's KMS key for Secrets Manager (the operator may decrypt with it, nothing else). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** How often the operator re-reads each secret (a Go duration such as `1h`). */
  readonly refreshInterval: string;
  /** Days a deleted secret can be restored, or 0 to delete it at once. */
  readonly recoveryWindowDays: number;
  /** The operator (its CRDs) and the ClusterSecretStores: every ExternalSecret waits for them. */
  readonly ready: readonly pulumi.Resource[];
}

/** The ClusterSecretStore that serves one namespace. */
export function storeName(namespace: string): string {
  return `secrets-manager-${namespace}`;
}

/** What a namespace's store prepends to every key: its namespace's folder of the stack's secrets. */
export function storePrefix(namePrefix: string, namespace: string): string {
  return `${namePrefix}/${namespace}/`;
}

/** The Secrets Manager name of a namespace's secret. */
export function secretsManagerName(namePrefix: string, namespace: string, name: string): string {
  return `${storePrefix(namePrefix, namespace)}${name}`;
}

/**
 * The value of a synced secret: one string (the whole SecretString becomes Kubernetes key `key`), or
 * a JSON object whose every property becomes a Kubernetes key of the same name (so adding a property
 * in Secrets Manager adds a key, e.g. an API key per client).
 */
export type SyncedValue =
  | { readonly string: pulumi.Input<string>; readonly key: string }
  | { readonly json: pulumi.Input<Record<string, pulumi.Input<string>>> };

/** The ExternalSecret spec of a synced secret (pure: the test of the store reads it back). */
export function externalSecretSpec(
  namespace: string,
  name: string,
  value: { key: string } | { json: true },
  refreshInterval: string,
) {
  return {
    refreshInterval,
    secretStoreRef: { kind: "ClusterSecretStore", name: storeName(namespace) },
    // Owner: the Secret goes with the ExternalSecret. Retain: a secret deleted in Secrets Manager
    // leaves the last value in place rather than breaking running pods.
    target: { name, creationPolicy: "Owner", deletionPolicy: "Retain" },
    ...("key" in value
      ? { data: [{ secretKey: value.key, remoteRef: { key: name } }] }
      : { dataFrom: [{ extract: { key: name } }] }),
  };
}

export interface SyncedSecretArgs {
  readonly store: SecretStore;
  /** The namespace's registry name (names the secret and its store). */
  readonly namespace: string;
  /** The Namespace's name as an Output, so the ExternalSecret waits for it. */
  readonly namespaceRef: pulumi.Input<string>;
  /** Name of the Kubernetes Secret, and of the secret under its namespace in Secrets Manager. */
  readonly name: string;
  /** What it is for (the Secrets Manager description). */
  readonly description: string;
  readonly value: SyncedValue;
  /**
   * Who owns the value after the first write. `config`: the program writes it again whenever the stack
   * config changes it. `secretsManager`: written once (generated), then rotated in Secrets Manager
   * only; later program runs never overwrite it.
   */
  readonly owner: "config" | "secretsManager";
}

/**
 * One secret: its Secrets Manager secret (stack KMS key, recovery window from config), the value, and
 * the ExternalSecret that makes the Kubernetes Secret `name` in the namespace. Providers (aws,
 * kubernetes) come from the parent.
 */
export class SyncedSecret extends pulumi.ComponentResource {
  /** The Kubernetes Secret's name (resolves once the ExternalSecret exists). */
  readonly secretName: pulumi.Output<string>;
  /** The Secrets Manager name. */
  readonly secretsManagerName: string;
  readonly arn: pulumi.Output<string>;
  /** The ExternalSecret: consumers of the Kubernetes Secret wait for it. */
  readonly externalSecret: k8s.apiextensions.CustomResource;

  constructor(name: string, args: SyncedSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:secrets:SyncedSecret", name, {}, opts);
    const s = args.store;
    this.secretsManagerName = secretsManagerName(s.namePrefix, args.namespace, args.name);
    const secret = new aws.secretsmanager.Secret(
      name,
      {
        name: this.secretsManagerName,
        description: args.description,
        kmsKeyId: s.kmsKeyArn,
        recoveryWindowInDays: s.recoveryWindowDays,
      },
      { parent: this },
    );
    const v = args.value;
    const version = new aws.secretsmanager.SecretVersion(
      name,
      {
        secretId: secret.id,
        secretString: pulumi.secret(
          "string" in v ? pulumi.output(v.string) : pulumi.output(v.json).apply(JSON.stringify),
        ),
      },
      {
        parent: this,
        ...(args.owner === "secretsManager" ? { ignoreChanges: ["secretString"] } : {}),
      },
    );
    this.externalSecret = new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: "external-secrets.io/v1",
        kind: "ExternalSecret",
        metadata: {
          name: args.name,
          namespace: args.namespaceRef,
          labels: { "app.kubernetes.io/part-of": partOf },
        },
        spec: externalSecretSpec(
          args.namespace,
          args.name,
          "string" in v ? { key: v.key } : { json: true },
          s.refreshInterval,
        ),
      },
      // The value exists before the operator first reads it.
      { parent: this, dependsOn: [...s.ready, version] },
    );
    this.secretName = this.externalSecret.metadata.name;
    this.arn = secret.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
