/**
 * Nothing a release creates outlives it: `pulumi destroy` uninstalls every Helm release, and a volume
 * claim left behind keeps its EBS volume, billed, with no stack to own it. A StatefulSet's claims go
 * with it only under `persistentVolumeClaimRetentionPolicy.whenDeleted: Delete` (GA in Kubernetes
 * 1.32); the Prometheus Operator copies that field from its Prometheus and Alertmanager resources onto
 * the StatefulSets it creates; a Helm-templated object annotated `helm.sh/resource-policy: keep`
 * survives the uninstall.
 */
import { ref, type ClusterModel } from "../model";
import { findings, type Finding } from "./problem";

/** Prometheus Operator kinds that own a StatefulSet with the claims of `spec.storage`. */
const operatorStatefulKinds = ["Prometheus", "Alertmanager", "ThanosRuler"];

export function checkTeardown(model: ClusterModel): Finding[] {
  const f = findings("teardown");
  for (const { obj, origin } of model.objects) {
    const spec = obj.spec ?? {};
    const claimTemplates =
      obj.kind === "StatefulSet"
        ? (spec.volumeClaimTemplates ?? []).length > 0
        : operatorStatefulKinds.includes(obj.kind) &&
          obj.apiVersion?.startsWith("monitoring.coreos.com/") &&
          !!spec.storage?.volumeClaimTemplate;
    if (claimTemplates && spec.persistentVolumeClaimRetentionPolicy?.whenDeleted !== "Delete") {
      f.add(
        `${ref(obj)} (${origin})`,
        "its volume claims outlive it: set persistentVolumeClaimRetentionPolicy.whenDeleted: Delete through the chart's values",
      );
    }
    if (
      origin.startsWith("chart:") &&
      obj.metadata.annotations?.["helm.sh/resource-policy"] === "keep" &&
      obj.kind !== "CustomResourceDefinition"
    ) {
      f.add(`${ref(obj)} (${origin})`, "helm.sh/resource-policy: keep: it outlives the release");
    }
  }
  return f.out;
}
