import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { partOf, servicePort } from "../platform/registry";
import { type ServiceDesign } from "../platform/designs";
import type { HpaConfig, ServiceConfig } from "../config/teams";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { httpProbe, restrictedContainerSecurityContext } from "../lib/k8s/security";
import type { NetworkPolicyDef } from "../lib/k8s/networkPolicies";
import { workloadLabels } from "../platform/scheduling";

/** Liveness and readiness are the same for every service (design); only startup timing varies. */
const livenessProbe = {
  path: "/health",
  periodSeconds: 15,
  failureThreshold: 3,
  timeoutSeconds: 5,
};
const readinessProbe = {
  path: "/ready",
  periodSeconds: 5,
  failureThreshold: 3,
  timeoutSeconds: 3,
};
const startupProbePath = "/startup";

/** Labels of every object of a service. The selector uses only `app`, which never changes. */
function serviceLabels(service: string, d: ServiceDesign, stack: string): Record<string, string> {
  return {
    app: service,
    component: d.component,
    team: d.team,
    "app.kubernetes.io/name": service,
    "app.kubernetes.io/part-of": partOf,
    "app.kubernetes.io/managed-by": "pulumi",
    environment: stack,
  };
}

/** Stable hash of ConfigMap data; on the pod template it rolls the pods when the config changes. */
export function configHash(data: Record<string, string>): string {
  const sorted = Object.keys(data)
    .sort()
    .map((k) => [k, data[k]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/** A Secret mounted read-only as a directory of files into a service's container. */
export interface SecretMount {
  readonly volume: string;
  readonly secretName: pulumi.Input<string>;
  readonly mountPath: string;
}

interface PodTemplateParams {
  readonly service: string;
  /** Its registry entry (registry.ts). */
  readonly design: ServiceDesign;
  readonly stack: string;
  readonly image: pulumi.Input<string>;
  readonly configHash: pulumi.Input<string>;
  readonly config: ServiceConfig;
  readonly runAsUser: number;
  readonly secretMounts: readonly SecretMount[];
}

/**
 * The Deployment spec of a service: rolling update that never drops below the desired count, probes on
 * the design's paths, restricted security context with a writable /tmp, spread over nodes and zones,
 * CPU nodes only, scraped by Prometheus. `replicas` is left out when an HPA owns the count.
 */
function deploymentSpec(p: PodTemplateParams): k8s.types.input.apps.v1.DeploymentSpec {
  const d = p.design;
  const labels = serviceLabels(p.service, d, p.stack);
  const selector = { app: p.service };
  return {
    ...(p.config.hpa ? {} : { replicas: p.config.replicas }),
    revisionHistoryLimit: 5,
    selector: { matchLabels: selector },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: {
        labels: {
          app: labels.app!,
          component: labels.component!,
          team: labels.team!,
          "app.kubernetes.io/part-of": partOf,
          environment: p.stack,
        },
        annotations: {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(servicePort),
          "prometheus.io/path": "/metrics",
          "llmplatform.io/config-hash": p.configHash,
        },
      },
      spec: {
        serviceAccountName: d.serviceAccount,
        // The app never calls the Kubernetes API; IRSA mounts its own token regardless.
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 30,
        nodeSelector: workloadLabels.cpu,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: p.runAsUser,
          runAsGroup: p.runAsUser,
          fsGroup: p.runAsUser,
          seccompProfile: { type: "RuntimeDefault" },
        },
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: "kubernetes.io/hostname",
                  labelSelector: { matchLabels: selector },
                },
              },
            ],
          },
        },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: selector },
          },
        ],
        containers: [
          {
            name: p.service,
            image: p.image,
            imagePullPolicy: "IfNotPresent",
            ports: [{ name: "http", containerPort: servicePort, protocol: "TCP" }],
            envFrom: [{ configMapRef: { name: d.configMap } }],
            resources: {
              requests: { ...p.config.resources.requests },
              limits: { ...p.config.resources.limits },
            },
            startupProbe: httpProbe({
              path: startupProbePath,
              ...p.config.startupProbe,
              timeoutSeconds: 3,
            }),
            livenessProbe: httpProbe(livenessProbe),
            readinessProbe: httpProbe(readinessProbe),
            // Let endpoints and load balancers stop sending before the process gets SIGTERM.
            lifecycle: { preStop: { sleep: { seconds: 5 } } },
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [
              { name: "tmp", mountPath: "/tmp" },
              ...p.secretMounts.map((m) => ({
                name: m.volume,
                mountPath: m.mountPath,
                readOnly: true,
              })),
            ],
          },
        ],
        volumes: [
          { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          // Whole-directory mounts (no subPath), so the kubelet swaps in a rotated value.
          ...p.secretMounts.map((m) => ({
            name: m.volume,
            secret: { secretName: m.secretName, defaultMode: 0o440 },
          })),
        ],
      },
    },
  };
}

/** autoscaling/v2 HPA spec: utilization targets and asymmetric scale-up/scale-down behaviour. */
export function hpaSpec(
  service: string,
  h: HpaConfig,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const utilization = (name: string, averageUtilization: number) => ({
    type: "Resource",
    resource: { name, target: { type: "Utilization", averageUtilization } },
  });
  const rules = (r: HpaConfig["scaleUp"]) => ({
    stabilizationWindowSeconds: r.stabilizationSeconds,
    policies: [{ type: "Percent", value: r.percent, periodSeconds: r.periodSeconds }],
  });
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: service },
    minReplicas: h.minReplicas,
    maxReplicas: h.maxReplicas,
    metrics: [
      utilization("cpu", h.cpuUtilization),
      ...(h.memoryUtilization !== undefined ? [utilization("memory", h.memoryUtilization)] : []),
    ],
    behavior: { scaleUp: rules(h.scaleUp), scaleDown: rules(h.scaleDown) },
  };
}

export interface MicroserviceArgs {
  readonly service: string;
  /** Its registry entry (registry.ts). */
  readonly design: ServiceDesign;
  readonly stack: string;
  /** The service's namespace (an Output of the Namespace, so everything waits for it). */
  readonly namespace: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly config: ServiceConfig;
  readonly runAsUser: number;
  /** Secrets (synced by ESO) mounted read-only as directories of files. Default none. */
  readonly secretMounts?: readonly SecretMount[];
  /** ConfigMap data, exposed to the container with envFrom. Never secrets. */
  readonly env: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** IRSA role of the service account. */
  readonly roleArn: pulumi.Input<string>;
  /** Service-specific NetworkPolicies (the namespace's baseline comes from Namespaces). */
  readonly networkPolicies: readonly NetworkPolicyDef[];
  /** What the pods need before they start, e.g. the IRSA role's policies. Default none. */
  readonly dependsOn?: pulumi.Resource[];
}

/** Metadata of one of the service's objects: its name, namespace and the service's labels. */
type ObjectMeta = (objectName: string) => {
  name: string;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
};

/** What the pods read at start: the ConfigMap (env) and the ServiceAccount carrying the IRSA role. */
function serviceIdentity(
  name: string,
  parent: pulumi.Resource,
  args: MicroserviceArgs,
  meta: ObjectMeta,
  data: pulumi.Output<Record<string, string>>,
) {
  const configMap = new k8s.core.v1.ConfigMap(
    `${name}-config`,
    { metadata: meta(args.design.configMap), data },
    { parent },
  );
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-sa`,
    {
      metadata: {
        ...meta(args.design.serviceAccount),
        annotations: { "eks.amazonaws.com/role-arn": args.roleArn },
      },
      automountServiceAccountToken: false,
    },
    { parent },
  );
  return [configMap, serviceAccount];
}

/** The HPA and PodDisruptionBudget, where the service's config asks for them. */
function serviceScaling(
  name: string,
  parent: pulumi.Resource,
  args: MicroserviceArgs,
  meta: ObjectMeta,
  deployment: k8s.apps.v1.Deployment,
) {
  if (args.config.hpa) {
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-hpa`,
      { metadata: meta(args.service), spec: hpaSpec(args.service, args.config.hpa) },
      { parent, dependsOn: [deployment] },
    );
  }
  if (args.config.pdb) {
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: meta(args.service),
        spec: {
          minAvailable: args.config.pdb.minAvailable,
          selector: { matchLabels: { app: args.service } },
        },
      },
      { parent },
    );
  }
}

/**
 * One platform HTTP service: ConfigMap, IRSA ServiceAccount, Deployment, ClusterIP Service (80 -> http),
 * its NetworkPolicies, and, when configured, an HPA and a PodDisruptionBudget. The Kubernetes provider
 * comes from the parent's (or opts') providers.
 */
export class Microservice extends pulumi.ComponentResource {
  constructor(name: string, args: MicroserviceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:k8s:Microservice", name, {}, opts);
    const labels = serviceLabels(args.service, args.design, args.stack);
    const meta: ObjectMeta = (objectName) => ({
      name: objectName,
      namespace: args.namespace,
      labels,
    });
    const data = pulumi.output(args.env);
    const identity = serviceIdentity(name, this, args, meta, data);
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        // `pulumi up` does not wait for the rollout: the images come from the teams' pipelines (pushed
        // into the repositories this program creates), so infrastructure changes never block on them.
        // Kubernetes still enforces the safe rollout (maxUnavailable 0, readiness probes and gates).
        metadata: { ...meta(args.service), annotations: { "pulumi.com/skipAwait": "true" } },
        spec: deploymentSpec({
          service: args.service,
          design: args.design,
          stack: args.stack,
          image: args.image,
          configHash: data.apply(configHash),
          config: args.config,
          runAsUser: args.runAsUser,
          secretMounts: args.secretMounts ?? [],
        }),
      },
      { parent: this, dependsOn: [...identity, ...(args.dependsOn ?? [])] },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(args.service),
        spec: {
          type: "ClusterIP",
          selector: { app: args.service },
          ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
        },
      },
      { parent: this },
    );
    createNetworkPolicies(name, args.namespace, args.networkPolicies, { parent: this });
    serviceScaling(name, this, args, meta, deployment);
    this.registerOutputs({});
  }
}
