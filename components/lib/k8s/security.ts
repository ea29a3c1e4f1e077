/**
 * The Pod Security "restricted" container settings every platform workload runs with: non-root,
 * read-only root filesystem, no privilege escalation, no capabilities, the runtime's seccomp profile.
 * Writable paths come from volumes (emptyDir, PVC) mounted where the program needs them.
 */
export function restrictedContainerSecurityContext() {
  return {
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** An HTTP GET probe on the container's named `http` port. */
export function httpProbe(p: {
  path: string;
  periodSeconds: number;
  failureThreshold: number;
  timeoutSeconds: number;
  initialDelaySeconds?: number;
}) {
  return {
    httpGet: { path: p.path, port: "http" },
    ...(p.initialDelaySeconds !== undefined ? { initialDelaySeconds: p.initialDelaySeconds } : {}),
    periodSeconds: p.periodSeconds,
    failureThreshold: p.failureThreshold,
    timeoutSeconds: p.timeoutSeconds,
  };
}
