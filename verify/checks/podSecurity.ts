/**
 * Pod Security Standards, as the admission controller enforces them (policy version "latest"): every
 * pod must pass the level its namespace enforces (`pod-security.kubernetes.io/enforce`). Checks follow
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/.
 */
import { containersOf, type ClusterModel, type PodInstance } from "../model";
import { findings, type Finding } from "./problem";

const baselineCapabilities = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
const safeSysctls = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const restrictedVolumes = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
  "name",
  "image",
]);

/** Why a pod spec fails `baseline` (empty when it passes). */
function baselineViolations(spec: any): string[] {
  const v: string[] = [];
  for (const k of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[k]) v.push(`${k}: true`);
  for (const vol of spec.volumes ?? []) if (vol.hostPath) v.push(`hostPath volume ${vol.name}`);
  for (const s of spec.securityContext?.sysctls ?? []) {
    if (!safeSysctls.has(s.name)) v.push(`unsafe sysctl ${s.name}`);
  }
  const seccomp = [spec.securityContext?.seccompProfile?.type];
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) v.push(`${c.name}: privileged`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (!baselineCapabilities.has(cap)) v.push(`${c.name}: adds capability ${cap}`);
    }
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${c.name}: hostPort ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== "Default") v.push(`${c.name}: procMount ${sc.procMount}`);
    if (sc.appArmorProfile?.type === "Unconfined") v.push(`${c.name}: AppArmor Unconfined`);
    seccomp.push(sc.seccompProfile?.type);
  }
  if (seccomp.includes("Unconfined")) v.push("seccomp Unconfined");
  return v;
}

/** Why a pod spec fails `restricted` (empty when it passes). */
export function restrictedViolations(spec: any): string[] {
  const v = baselineViolations(spec);
  const pod = spec.securityContext ?? {};
  for (const vol of spec.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== "name");
    if (type && !restrictedVolumes.has(type)) v.push(`volume ${vol.name} of type ${type}`);
  }
  if (pod.runAsUser === 0) v.push("pod runAsUser 0");
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false)
      v.push(`${c.name}: allowPrivilegeEscalation not false`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) v.push(`${c.name}: runAsNonRoot not true`);
    if (sc.runAsUser === 0) v.push(`${c.name}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      v.push(`${c.name}: seccompProfile not RuntimeDefault/Localhost`);
    }
    if (!(sc.capabilities?.drop ?? []).includes("ALL"))
      v.push(`${c.name}: does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== "NET_BIND_SERVICE") v.push(`${c.name}: adds capability ${cap}`);
    }
  }
  return [...new Set(v)];
}

export function checkPodSecurity(model: ClusterModel, pods: readonly PodInstance[]): Finding[] {
  const f = findings("pod-security");
  const level = new Map<string, string>();
  for (const { obj } of model.objects) {
    if (obj.kind === "Namespace") {
      level.set(
        obj.metadata.name,
        obj.metadata.labels?.["pod-security.kubernetes.io/enforce"] ?? "privileged",
      );
    }
  }
  for (const p of pods) {
    const enforce = level.get(p.namespace) ?? "privileged";
    const v =
      enforce === "restricted"
        ? restrictedViolations(p.spec)
        : enforce === "baseline"
          ? baselineViolations(p.spec)
          : [];
    if (v.length)
      f.add(p.owner, `fails Pod Security "${enforce}" of ${p.namespace}: ${v.join("; ")}`);
  }
  return f.out;
}
