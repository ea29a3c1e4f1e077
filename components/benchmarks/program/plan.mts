/**
 * The first step of a run: which variants it benchmarks (the submission's `variants`, checked against
 * what the platform serves and each variant's max context) and under which run id its results go.
 * Config validation refuses these mistakes at preview for the defaults; this refuses them for a
 * submission that names other variants, before any GPU is held.
 */
import type { Settings, VariantTarget } from "./results.mts";

/** A run id is a path segment of the results' S3 keys and a Kubernetes label value. */
const runIdPattern = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/** One variant of the run, as the workflow's loop item (every value a string). */
export type VariantItem = Record<string, string>;

/** The variants a submission asks for: a JSON list, a comma-separated list, or empty for the defaults. */
export function requestedVariants(text: string, defaults: readonly string[]): string[] {
  const t = text.trim();
  if (t === "") return [...defaults];
  if (t.startsWith("[")) {
    const parsed: unknown = JSON.parse(t);
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) {
      throw new Error(`variants: expected a JSON list of variant names, got ${t}`);
    }
    return parsed;
  }
  return t
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

function variantItem(variant: string, v: VariantTarget, runId: string): VariantItem {
  return {
    variant,
    "run-id": runId,
    url: v.url,
    "served-model-name": v.servedModelName,
    tokenizer: v.tokenizer,
    // Names are DNS labels: a space-separated list the client's script splits.
    "lora-modules": v.loraModules.join(" "),
    deployment: v.deployment,
    "scaled-object": v.scaledObject ?? "",
    replicas: String(v.replicas),
    // The readiness condition is `status.readyReplicas > N` (a label-selector comparison).
    "ready-above": String(v.replicas - 1),
  };
}

/**
 * The run: its id (the submission's, else the workflow's name) and its variants. Throws listing every
 * problem: an unknown variant, one named twice, one the hold would scale below its minReplicas, a
 * scenario longer than a variant's max context, a run id that cannot be a key segment.
 */
export function planRun(
  settings: Settings,
  variantsText: string,
  runIdParam: string,
  workflowName: string,
): { runId: string; items: VariantItem[] } {
  const problems: string[] = [];
  const runId = runIdParam.trim() || workflowName;
  if (!runIdPattern.test(runId)) {
    problems.push(
      `run-id: expected lowercase letters, digits, '.' or '-' (at most 63), got ${runId}`,
    );
  }
  const requested = requestedVariants(variantsText, settings.defaultVariants);
  if (requested.length === 0) problems.push("variants: expected at least one variant");
  const known = Object.keys(settings.variants);
  requested.forEach((v, i) => {
    const target = settings.variants[v];
    if (!target) {
      problems.push(`variants: ${v} is not a variant this platform serves (${known.join(", ")})`);
      return;
    }
    if (requested.indexOf(v) !== i) problems.push(`variants: ${v} is named twice`);
    if (target.scaledObject && target.replicas < target.minReplicas) {
      problems.push(
        `variants: ${v} always runs ${target.minReplicas} replicas; a run would hold it at ` +
          `${target.replicas} (benchmarks.replicas) and take capacity from its users`,
      );
    }
    for (const s of settings.scenarios) {
      if (s.inputLen + s.outputLen > target.maxModelLen) {
        problems.push(
          `scenario ${s.name}: input ${s.inputLen} + output ${s.outputLen} tokens exceed the max ` +
            `context of ${v} (maxModelLen ${target.maxModelLen})`,
        );
      }
    }
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return { runId, items: requested.map((v) => variantItem(v, settings.variants[v]!, runId)) };
}
