/**
 * Pod parts the models feature's workloads share: the Hugging Face token as a mounted file, and the pod
 * of a Job that writes the shared cache (the adapter sync, the model staging).
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { partOf } from "../platform/registry";
import { workloadLabels } from "../platform/scheduling";

/** Where a container reads the HF token: `<dir>/token`, through `HF_TOKEN_PATH`, never an env value. */
export const hfTokenDir = "/var/run/secrets/huggingface";

/** The volume mount of the token, read-only. */
export const hfTokenMount = { name: "hf-token", mountPath: hfTokenDir, readOnly: true };

/** The token Secret (key `token`) as a volume of one file, readable by the pod's group only. */
export function hfTokenVolume(secretName: pulumi.Input<string>) {
  return {
    name: "hf-token",
    secret: {
      secretName,
      defaultMode: 0o440,
      items: [{ key: "token", path: "token" }],
    },
  };
}

/**
 * The pod template of a Job that writes the shared cache: on CPU nodes, as the cache's owner (the
 * UID/GID its EFS access points assign) under Pod Security `restricted`, with the job's IRSA service
 * account and no Kubernetes API token.
 */
export function cacheWriterPod(p: {
  readonly app: string;
  readonly serviceAccount: pulumi.Input<string>;
  readonly user: { uid: number; gid: number };
  readonly initContainers: k8s.types.input.core.v1.Container[];
  readonly containers: k8s.types.input.core.v1.Container[];
  readonly volumes: k8s.types.input.core.v1.Volume[];
}): k8s.types.input.core.v1.PodTemplateSpec {
  return {
    metadata: { labels: { app: p.app, "app.kubernetes.io/part-of": partOf } },
    spec: {
      serviceAccountName: p.serviceAccount,
      // The IRSA webhook mounts its own web-identity token; no Kubernetes API token is needed.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: "Never",
      nodeSelector: workloadLabels.cpu,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: p.user.uid,
        runAsGroup: p.user.gid,
        seccompProfile: { type: "RuntimeDefault" },
      },
      initContainers: p.initContainers,
      containers: p.containers,
      volumes: p.volumes,
    },
  };
}
