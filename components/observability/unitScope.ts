import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket } from "../lib/aws/privateBucket";
import { IrsaRole } from "../lib/aws/irsaRole";
import { bucketOwnerPolicy } from "../lib/aws/bucketPolicies";
import type { PlatformContext } from "../platform/context";
import { helmRelease } from "../lib/k8s/helm";
import type { ObservabilityConfig } from "../config/observability";
import type { ChartPin } from "../platform/versions";
import { SyncedSecret, type SecretStore, type SyncedSecretArgs } from "../lib/k8s/syncedSecret";

/**
 * What each observability unit (Prometheus, Mimir, Loki, Tempo, the collectors, Grafana) is built
 * with. The units are functions, not components: their children stay parented to the Observability
 * component (`parent`), so every URN of a deployed stack is unchanged and no alias is needed. The
 * Kubernetes and AWS providers come from that parent's `providers` option.
 */
export interface UnitScope {
  /** The Observability component's name: prefix of its children's names (`<name>-<role>`). */
  readonly name: string;
  /** The Observability component, parent of every child. */
  readonly parent: pulumi.Resource;
  readonly ctx: PlatformContext;
  readonly config: ObservabilityConfig;
  /** The observability namespace. */
  readonly namespace: pulumi.Input<string>;
  /** What every release waits for (CPU nodes, EBS CSI, the load balancer controller's webhook). */
  readonly dependsOn: pulumi.Resource[];
  /** Where the units' secrets are kept and synced from (Grafana's admin, the alert webhook). */
  readonly secrets: SecretStore;
}

/** A secret of the observability namespace, kept in Secrets Manager and synced by ESO. */
export function observabilitySecret(
  scope: UnitScope,
  role: string,
  secret: Pick<SyncedSecretArgs, "name" | "description" | "value" | "owner">,
): SyncedSecret {
  return new SyncedSecret(
    `${scope.name}-${role}`,
    { store: scope.secrets, namespace: "observability", namespaceRef: scope.namespace, ...secret },
    { parent: scope.parent },
  );
}

/** A pinned chart's release in the observability namespace, after the scope's dependencies. */
export function release(
  scope: UnitScope,
  releaseName: string,
  pin: ChartPin,
  values: pulumi.Input<Record<string, unknown>>,
  deps: pulumi.Resource[] = [],
) {
  return helmRelease(releaseName, pin, scope.namespace, values, {
    parent: scope.parent,
    dependsOn: [...scope.dependsOn, ...deps],
  });
}

/** An S3-backed store: its private buckets and an IRSA role (for SA `component`) owning them. */
export function s3Store(scope: UnitScope, component: string, buckets: string[]) {
  const made = buckets.map(
    (b) =>
      new PrivateBucket(
        `${scope.ctx.clusterName}-${b}`,
        {
          forceDestroy: scope.ctx.destroyDeletesData,
          ...(scope.ctx.dataBucketAccessLogs ? { accessLogs: scope.ctx.dataBucketAccessLogs } : {}),
        },
        { parent: scope.parent },
      ),
  );
  const role = new IrsaRole(
    `${scope.name}-${component}`,
    {
      oidc: scope.ctx.oidc,
      namespace: "observability",
      serviceAccount: component,
      roleName: `${scope.ctx.clusterName}-${component}-irsa`,
      inlinePolicies: {
        [`${component}-buckets`]: pulumi
          .all(made.map((m) => m.arn))
          .apply((arns) => bucketOwnerPolicy(arns)),
      },
    },
    { parent: scope.parent },
  );
  return { role, names: made.map((m) => m.bucketName) };
}
