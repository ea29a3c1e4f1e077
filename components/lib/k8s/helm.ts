import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../../platform/versions";

/** Revisions Helm keeps per release (enough to roll back a few upgrades). */
export const helmMaxHistory = 5;

/**
 * A Helm release of a pinned chart. Atomic: a failed install or upgrade rolls back instead of leaving
 * a half-applied release, and `pulumi up` reports the failure. History is capped: every revision is a
 * Secret in the release's namespace, counted against its `secrets` quota.
 */
export function helmRelease(
  name: string,
  pin: ChartPin,
  namespace: pulumi.Input<string>,
  values: pulumi.Input<Record<string, unknown>>,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      namespace,
      chart: pin.chart,
      version: pin.version,
      repositoryOpts: { repo: pin.repo },
      values,
      atomic: true,
      maxHistory: helmMaxHistory,
      timeout: 600,
    },
    opts,
  );
}
