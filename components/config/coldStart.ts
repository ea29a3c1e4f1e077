/**
 * The cold-start budget of each variant on its GPU group (components/platform/coldStart.ts does the
 * arithmetic) and the config that contradicts it: a startup probe that would kill the server before its
 * predicted first start is an error; a scale-to-zero window shorter than a cold start is a warning.
 */
import { coldStartBudget, modelProbePeriods, type ColdStartBudget } from "../platform/coldStart";
import { gpuInstanceShapes } from "../platform/instanceTypes";
import { variantEntries, variantNodeGroup, type ModelsConfig } from "./models";
import type { Problem } from "./crossChecks";

/** A GPU group as the budget sees it. */
export interface ColdStartGroup {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly fastImagePull: boolean;
  readonly rootVolumeThroughputMiBs: number;
}

/** One variant's predicted start on the group it runs on. */
export interface VariantColdStart {
  readonly variant: string;
  readonly group: ColdStartGroup;
  readonly budget: ColdStartBudget;
}

/** Every variant's predicted start, in registry order; a variant on an unknown group is left out. */
export function variantColdStarts(
  models: ModelsConfig,
  groups: readonly ColdStartGroup[],
): VariantColdStart[] {
  // Cross-checks run even when a key failed its own schema: predict nothing from values the schema
  // has already reported (an unknown group or instance type, no readers, a volume below gp3's floor).
  if (!(models.store.streamer.concurrency >= 1)) return [];
  return variantEntries(models).flatMap(([variant, v]) => {
    const group = groups.find((g) => g.name === variantNodeGroup(models, variant));
    const known =
      group?.instanceTypes.length &&
      group.instanceTypes.every((t) => gpuInstanceShapes[t]) &&
      group.rootVolumeThroughputMiBs >= 125 &&
      v.footprint.weightsGiB > 0;
    if (!group || !known) return [];
    const budget = coldStartBudget({
      instanceTypes: group.instanceTypes,
      weightsGiB: v.footprint.weightsGiB,
      weightsFrom: v.weightsFrom,
      streamerConcurrency: models.store.streamer.concurrency,
      fastImagePull: group.fastImagePull,
      rootVolumeThroughputMiBs: group.rootVolumeThroughputMiBs,
      compileCache: models.compileCache,
      readinessPeriodSeconds: modelProbePeriods.readinessSeconds,
    });
    return [{ variant, group, budget }];
  });
}

/**
 * The start-time recording rule's budget per variant, in seconds: the predicted first start from
 * scheduled to Ready (the alert adds `models.coldStart.alertMarginPercent`).
 */
export function podStartBudgets(
  models: ModelsConfig,
  groups: readonly ColdStartGroup[],
): Record<string, number> {
  return Object.fromEntries(
    variantColdStarts(models, groups).map((s) => [s.variant, s.budget.podStart.first]),
  );
}

/** A startup probe shorter than the predicted first start restarts the server before it can serve. */
export function coldStartProblems(
  models: ModelsConfig,
  groups: readonly ColdStartGroup[],
): Problem[] {
  return variantColdStarts(models, groups).flatMap(({ variant, group, budget }) => {
    const timeout = models.variants[variant]!.startupTimeoutSeconds;
    if (timeout >= budget.serverStart.first) return [];
    return [
      {
        path: ["llm-platform:models", "variants", variant, "startupTimeoutSeconds"],
        message:
          `expected at least ${budget.serverStart.first} s: the predicted first start of ${variant} on ` +
          `group ${group.name} (${phaseList(budget, "server")}); the kubelet would restart the server ` +
          `after ${timeout} s, before it can serve`,
      },
    ];
  });
}

/**
 * Valid but costly: a variant that scales to zero after fewer idle minutes than a cold start takes
 * spends more time starting than it saves idling, and its next caller waits the whole start.
 */
export function coldStartWarnings(
  models: ModelsConfig,
  groups: readonly ColdStartGroup[],
): string[] {
  return variantColdStarts(models, groups).flatMap(({ variant, group, budget }) => {
    const a = models.variants[variant]!.autoscaling;
    if (!a || a.minReplicas > 0 || a.idleMinutes * 60 >= budget.scaleUp.restart) return [];
    return [
      `llm-platform:models.variants.${variant}.autoscaling.idleMinutes: ${variant} scales to zero after ` +
        `${a.idleMinutes} idle minutes, less than its predicted cold start on group ${group.name} ` +
        `(${budget.scaleUp.restart} s with warm caches): the next request waits longer than the idle ` +
        "window saved; raise idleMinutes or keep a replica",
    ];
  });
}

function phaseList(budget: ColdStartBudget, scope: "server"): string {
  return budget.phases
    .filter((p) => p.scope === scope)
    .map((p) => `${p.name} ${p.seconds.first} s`)
    .join(" + ");
}
