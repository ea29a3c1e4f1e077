/** All whole-cluster checks over one model. */
import { podInstances, ref, type ClusterModel } from "../model";
import { validateManifest } from "../schema";
import { checkAddresses } from "./addresses";
import { checkFlows, checkLoadBalancerOnly, checkStsResolution } from "./flows";
import { checkMonitors } from "./monitors";
import { checkPolicySelectors } from "./networkPolicies";
import { checkPodSecurity } from "./podSecurity";
import type { Finding } from "./problem";
import { checkExplicitResources, checkQuotas } from "./quota";
import { checkReferences } from "./references";
import { checkTeardown } from "./teardown";

export type { Finding } from "./problem";

/**
 * The synchronous checks: wiring, policies, STS resolution, monitors, Pod Security, quota,
 * references, teardown.
 */
export function checkCluster(model: ClusterModel): Finding[] {
  const pods = podInstances(model);
  // Pods a chart contract stands in for carry labels and ports only: wiring checks use them, while
  // Pod Security, quota and references need the real chart's pod specs.
  const specified = pods.filter((p) => !p.origin.startsWith("contract:"));
  return [
    ...checkAddresses(model, pods),
    ...checkPolicySelectors(model, pods),
    ...checkFlows(model, pods),
    ...checkStsResolution(model, specified),
    ...checkLoadBalancerOnly(model, pods),
    ...checkMonitors(model, pods),
    ...checkPodSecurity(model, specified),
    ...checkQuotas(model, specified),
    ...checkExplicitResources(specified.filter((p) => p.origin !== "eks")),
    ...checkReferences(model, specified),
    ...checkTeardown(model),
  ];
}

/**
 * Schema validation of every rendered chart object (the program's own are validated by the tests).
 * Returns the findings and the kinds no schema package covers.
 */
export async function checkRenderedSchemas(
  model: ClusterModel,
): Promise<{ findings: Finding[]; noSchema: string[] }> {
  const findings: Finding[] = [];
  const noSchema = new Set<string>();
  for (const { obj, origin } of model.objects) {
    if (!origin.startsWith("chart:")) continue;
    try {
      if ((await validateManifest(obj)) === "no schema")
        noSchema.add(`${obj.apiVersion} ${obj.kind}`);
    } catch (e) {
      findings.push({
        check: "schema",
        subject: `${ref(obj)} (${origin})`,
        message: (e as Error).message,
      });
    }
  }
  return { findings, noSchema: [...noSchema].sort() };
}
