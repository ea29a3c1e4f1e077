/**
 * Validation of Kubernetes objects against the upstream OpenAPI schemas shipped in the
 * `kubernetes-models` packages (built-in kinds, and the Prometheus Operator's custom resources).
 */

/** npm packages carrying the schema of custom resource groups. */
const crdPackages: Record<string, string> = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

/** The model class of an apiVersion/kind, or undefined when no schema package covers it. */
async function modelOf(
  apiVersion: string,
  kind: string,
): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const builtin = !group || !group.includes(".") || group.endsWith(".k8s.io");
  const pkg = crdPackages[group!] ?? (builtin ? "kubernetes-models" : undefined);
  if (!pkg) return undefined;
  const modulePath = group ? `${pkg}/${group}/${version}` : `${pkg}/${version}`;
  try {
    const mod = (await import(modulePath)) as Record<
      string,
      new (data: unknown) => { validate(): void }
    >;
    return mod[kind];
  } catch {
    return undefined;
  }
}

/**
 * Known defects of the schema packages, patched on a copy before validating: the prometheus-operator
 * models treat the embedded `storage.volumeClaimTemplate` as a top-level resource and demand
 * `apiVersion: monitoring.coreos.com/v1` and `kind: EmbeddedPersistentVolumeClaim`, which the real CRD
 * neither requires nor expects.
 */
function withSchemaWorkarounds<T extends { apiVersion: string; spec?: any }>(obj: T): T {
  const template = obj.spec?.storage?.volumeClaimTemplate;
  if (!obj.apiVersion.startsWith("monitoring.coreos.com/") || !template) return obj;
  const copy = structuredClone(obj);
  copy.spec.storage.volumeClaimTemplate = {
    ...template,
    apiVersion: "monitoring.coreos.com/v1",
    kind: "EmbeddedPersistentVolumeClaim",
  };
  return copy;
}

/**
 * Validates a manifest. Returns "valid", "no schema" (a custom resource no package describes), or
 * throws with the schema's complaint.
 */
export async function validateManifest(obj: {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
  spec?: any;
}): Promise<"valid" | "no schema"> {
  const Model = await modelOf(obj.apiVersion, obj.kind);
  if (!Model) return "no schema";
  try {
    new Model(withSchemaWorkarounds(obj)).validate();
  } catch (e) {
    throw new Error(
      `${obj.apiVersion} ${obj.kind} ${obj.metadata?.name} fails the Kubernetes schema: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return "valid";
}
