/**
 * Every name an object refers to exists in the cluster: ServiceAccounts, Secrets, ConfigMaps and
 * claims of pods, StorageClasses of claims, IngressClasses and backend Services of Ingresses.
 * Optional references (`optional: true`) may be missing.
 */
import { claims, containersOf, ref, type ClusterModel, type PodInstance } from "../model";
import { findings, type Finding } from "./problem";

export function checkReferences(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("references");
  const names = new Set(
    model.objects.map(
      (o) => `${o.obj.kind}/${o.obj.metadata.namespace ?? ""}/${o.obj.metadata.name}`,
    ),
  );
  const allClaims = claims(model.objects);
  const has = (kind: string, ns: string, name: string) => names.has(`${kind}/${ns}/${name}`);
  for (const p of pods) {
    const need = (kind: string, name: string | undefined, optional?: boolean) => {
      if (!name || optional || has(kind, p.namespace, name)) return;
      f.add(p.owner, `${kind} ${p.namespace}/${name} does not exist`);
    };
    need("ServiceAccount", p.spec.serviceAccountName ?? "default");
    for (const s of p.spec.imagePullSecrets ?? []) need("Secret", s.name);
    for (const v of p.spec.volumes ?? []) {
      need("Secret", v.secret?.secretName, v.secret?.optional);
      need("ConfigMap", v.configMap?.name, v.configMap?.optional);
      for (const s of v.projected?.sources ?? []) {
        need("Secret", s.secret?.name, s.secret?.optional);
        need("ConfigMap", s.configMap?.name, s.configMap?.optional);
      }
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !allClaims.some((c) => c.namespace === p.namespace && c.name === claim)) {
        f.add(p.owner, `PersistentVolumeClaim ${p.namespace}/${claim} does not exist`);
      }
    }
    for (const c of containersOf(p.spec)) {
      for (const e of c.env ?? []) {
        need("Secret", e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.optional);
        need(
          "ConfigMap",
          e.valueFrom?.configMapKeyRef?.name,
          e.valueFrom?.configMapKeyRef?.optional,
        );
      }
      for (const e of c.envFrom ?? []) {
        need("Secret", e.secretRef?.name, e.secretRef?.optional);
        need("ConfigMap", e.configMapRef?.name, e.configMapRef?.optional);
      }
    }
  }
  for (const c of allClaims) {
    if (c.storageClassName && !has("StorageClass", "", c.storageClassName)) {
      f.add(c.owner, `StorageClass ${c.storageClassName} does not exist`);
    }
  }
  for (const { obj } of model.objects.filter((o) => o.obj.kind === "Ingress")) {
    const cls = obj.spec.ingressClassName;
    if (cls && !has("IngressClass", "", cls)) f.add(ref(obj), `IngressClass ${cls} does not exist`);
    const backends = (obj.spec.rules ?? [])
      .flatMap((r: any) => r.http?.paths ?? [])
      .map((x: any) => x.backend?.service);
    if (obj.spec.defaultBackend?.service) backends.push(obj.spec.defaultBackend.service);
    for (const b of backends.filter(Boolean)) {
      const svc = model.objects.find(
        (o) =>
          o.obj.kind === "Service" &&
          o.obj.metadata.namespace === obj.metadata.namespace &&
          o.obj.metadata.name === b.name,
      );
      if (!svc) f.add(ref(obj), `backend Service ${b.name} does not exist`);
      else if (
        !(svc.obj.spec.ports ?? []).some(
          (p: any) => p.port === b.port?.number || p.name === b.port?.name,
        )
      ) {
        f.add(ref(obj), `backend Service ${b.name} has no port ${b.port?.number ?? b.port?.name}`);
      }
    }
  }
  return f.out;
}
