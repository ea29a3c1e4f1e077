/**
 * The gateway's key material (the design's `api-key` and `jwt-secret`): kept in Secrets Manager,
 * synced by ESO into two Kubernetes Secrets of the same names, mounted into the gateway as files and
 * named in its ConfigMap, so the gateway team enforces them without reading Secrets Manager itself.
 *
 * - `api-key`: a JSON object in Secrets Manager, one property per client (`{"<client>": "<key>"}`).
 *   Every property becomes one file `<API_KEYS_DIR>/<client>` holding that client's key. Adding,
 *   rotating or revoking a key is a `put-secret-value` (docs/operations.md); the mounted directory
 *   follows within the refresh interval plus the kubelet's sync, without a restart.
 * - `jwt-secret`: the key the gateway signs and verifies its own JWTs with (HMAC), one file at
 *   `JWT_SIGNING_KEY_FILE`.
 *
 * Both are generated at the first `pulumi up` (one client key, `default`) and owned by Secrets Manager
 * afterwards: the program never writes them again.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SyncedSecret, type SecretStore } from "../lib/k8s/syncedSecret";
import type { SecretMount } from "./microservice";

/** Where the gateway finds its key material, and the ConfigMap entries that say so. */
export const gatewayKeyFiles = {
  apiKeys: { secret: "api-key", mountPath: "/var/run/secrets/llm-platform/api-keys" },
  jwt: {
    secret: "jwt-secret",
    key: "signing-key",
    mountPath: "/var/run/secrets/llm-platform/jwt",
  },
} as const;

/** The gateway's ConfigMap entries naming its key files (never a value). */
export const gatewayKeyEnv: Record<string, string> = {
  API_KEYS_DIR: gatewayKeyFiles.apiKeys.mountPath,
  JWT_SIGNING_KEY_FILE: `${gatewayKeyFiles.jwt.mountPath}/${gatewayKeyFiles.jwt.key}`,
};

/** The two synced secrets of the gateway, as the mounts of its container. */
export function gatewaySecrets(
  name: string,
  parent: pulumi.Resource,
  store: SecretStore,
  namespace: { name: string; ref: pulumi.Input<string> },
): SecretMount[] {
  const generated = (role: string, length: number) =>
    new random.RandomPassword(`${name}-${role}`, { length, special: false }, { parent }).result;
  const common = {
    store,
    namespace: namespace.name,
    namespaceRef: namespace.ref,
    owner: "secretsManager" as const,
  };
  const apiKeys = new SyncedSecret(
    `${name}-api-key`,
    {
      ...common,
      name: gatewayKeyFiles.apiKeys.secret,
      description: 'The gateway\'s API keys, one per client: {"<client>": "<key>"}',
      value: { json: { default: generated("api-key-default", 48) } },
    },
    { parent },
  );
  const jwt = new SyncedSecret(
    `${name}-jwt-secret`,
    {
      ...common,
      name: gatewayKeyFiles.jwt.secret,
      description: "The key the gateway signs and verifies its JWTs with",
      value: { string: generated("jwt-signing-key", 64), key: gatewayKeyFiles.jwt.key },
    },
    { parent },
  );
  return [
    {
      volume: "api-keys",
      secretName: apiKeys.secretName,
      mountPath: gatewayKeyFiles.apiKeys.mountPath,
    },
    { volume: "jwt", secretName: jwt.secretName, mountPath: gatewayKeyFiles.jwt.mountPath },
  ];
}
