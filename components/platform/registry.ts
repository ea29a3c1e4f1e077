/**
 * The registry: the one place a namespace, a team API or a model variant is declared. Everything that
 * follows from an entry derives from it: the config schemas and their checks (config/teams.ts,
 * config/models.ts), namespaces with quota, LimitRange and NetworkPolicies, the services' Deployments,
 * IRSA roles and AWS access, the gateway's ROUTE_TABLE, the alert selectors. Sizes, replicas and tags
 * are stack config; the registry is the same in every environment.
 *
 * Functions that derive from it take the registry as a last parameter, defaulting to this one, so a
 * test can extend it in memory (`{ ...registry, services: { ...registry.services, x } }`).
 */
import { z } from "zod";
import {
  serviceExtension,
  type ModelDesign,
  type NamespaceDesign,
  type Registry,
  type ServiceDesign,
} from "./designs";
import type { PolicyDocument } from "./policyDocument";

/** The platform's namespaces, in creation order. */
const namespaces = {
  platform: {
    tier: "platform",
    team: "platform",
    podSecurity: "restricted",
    behindLoadBalancer: true,
  },
  quant: { tier: "team", team: "quant", podSecurity: "restricted" },
  finetune: { tier: "team", team: "finetune", podSecurity: "restricted" },
  eval: { tier: "team", team: "eval", podSecurity: "restricted" },
  observability: {
    tier: "observability",
    team: "platform",
    podSecurity: "privileged",
    behindLoadBalancer: true,
    exception:
      "node-level agents live here: node-exporter needs hostNetwork/hostPID and read-only hostPath /proc and " +
      "/sys, the log agent needs read-only hostPath /var/log/pods, the DCGM exporter runs as root with " +
      "SYS_ADMIN (components/addons/gpuRuntime.ts); all are forbidden even by `baseline`. " +
      "Audit and warn stay `restricted`, so any other workload that is not restricted is reported.",
  },
  // vLLM runs as its image's non-root `vllm` user (UID 2000) with a read-only root filesystem and
  // writable caches on volumes, so the model namespace can be restricted.
  "llm-baseline": { tier: "models", team: "platform", podSecurity: "restricted" },
  // Cluster-wide add-ons each get a namespace of their own rather than kube-system: their service
  // accounts may hold broad rights (KEDA scales workloads, ESO writes Secrets), and a role scoped to
  // "the release namespace" must not include EKS's own components and their Secrets.
  keda: { tier: "addons", team: "platform", podSecurity: "restricted" },
  "external-secrets": { tier: "addons", team: "platform", podSecurity: "restricted" },
  // Argo Workflows' controller (components/addons/argoWorkflows.ts), alone: no other workload can
  // borrow its service account, and the workflows it runs live in llm-baseline, not here.
  argo: { tier: "addons", team: "platform", podSecurity: "restricted" },
} as const satisfies Record<string, NamespaceDesign>;

export type NamespaceName = keyof typeof namespaces;

/** quant-api: invoke exactly one SageMaker endpoint (sync and streaming). SageMaker ARNs are lower-case. */
function sagemakerInvokePolicy(
  partition: string,
  region: string,
  accountId: string,
  endpointName: string,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InvokeConfiguredEndpoint",
        Effect: "Allow",
        Action: ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
        Resource: `arn:${partition}:sagemaker:${region}:${accountId}:endpoint/${endpointName.toLowerCase()}`,
      },
    ],
  };
}

/** The gateway and the team APIs it routes to (registry order is ROUTE_TABLE order). */
const services = {
  gateway: {
    namespace: "platform",
    team: "platform",
    component: "gateway",
    serviceAccount: "gateway-sa",
    configMap: "gateway-config",
  },
  "quant-api": {
    namespace: "quant",
    team: "quant",
    component: "api",
    serviceAccount: "quant-sa",
    configMap: "quant-config",
    route: { key: "quant", timeoutMs: 30_000 },
    // quant-api invokes one SageMaker endpoint; its IRSA role may invoke only that one.
    extension: serviceExtension(
      {
        sagemaker: z.strictObject({
          endpointName: z
            .string()
            .regex(
              /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/,
              "expected a SageMaker endpoint name (letters, digits, '-', max 63)",
            ),
          /** Invocation timeout. Default 30 s. */
          timeoutMs: z.number().int().min(100).max(900_000).default(30_000),
          /** Fall back to the baseline model when the endpoint fails. Default true. */
          enableFallback: z.boolean().default(true),
        }),
      },
      {
        env: ({ sagemaker }) => ({
          SAGEMAKER_ENDPOINT_NAME: sagemaker.endpointName,
          SAGEMAKER_TIMEOUT_MS: String(sagemaker.timeoutMs),
          ENABLE_FALLBACK: String(sagemaker.enableFallback),
        }),
        awsPolicies: {
          "sagemaker-invoke": ({ sagemaker }, aws) =>
            sagemakerInvokePolicy(aws.partition, aws.region, aws.accountId, sagemaker.endpointName),
        },
      },
    ),
  },
  "finetune-api": {
    namespace: "finetune",
    team: "finetune",
    component: "api",
    serviceAccount: "finetune-sa",
    configMap: "finetune-config",
    route: {
      key: "finetune",
      timeoutMs: 60_000,
      loraVariants: [
        { name: "lora-v1", weight: 80 },
        { name: "lora-v2", weight: 20 },
      ],
    },
    // finetune-api publishes LoRA adapters (adapters/<name>/); the adapter sync serves them.
    bucket: { name: "adapters", envVar: "ADAPTER_BUCKET" },
  },
  "eval-api": {
    namespace: "eval",
    team: "eval",
    component: "api",
    serviceAccount: "eval-sa",
    configMap: "eval-config",
    route: { key: "eval", timeoutMs: 45_000 },
    bucket: { name: "results", envVar: "RESULTS_BUCKET" },
  },
} as const satisfies Record<string, ServiceDesign & { namespace: NamespaceName }>;

export type ServiceName = keyof typeof services;

/**
 * Namespace label of the AWS Load Balancer Controller: pods get a readiness gate that turns true only
 * once the ALB target group reports them healthy, so a rolling update never removes the last pod the
 * ALB can reach.
 */
export const readinessGateLabel = { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" };

/** Label every platform object carries. */
export const partOf = "llm-optimization-platform";

/** Every service listens here (named port `http`); the Service exposes it on 80. */
export const servicePort = 8000;

/** In-cluster URL of a service (its ClusterIP Service on port 80). */
export function serviceUrl(service: string, reg: Registry = registry): string {
  const d = reg.services[service];
  if (!d) throw new Error(`unknown service ${service}`);
  return `http://${service}.${d.namespace}.svc.cluster.local`;
}

/**
 * Mistral-7B-Instruct-v0.3 on a GPU: 3 safetensors shards of 14.5 GB (bf16), and 32 layers × 8 KV
 * heads × head dim 128 × K and V × 2 bytes = 128 KiB of KV cache per token.
 */
const mistral7bFootprint = { weightsGiB: 13.5, kvCacheKiBPerToken: 128 };

/** The design's base model: the baseline, and what the AWQ and LoRA variants derive from. */
const subjectModel = "mistralai/Mistral-7B-Instruct-v0.3";

/**
 * The Hub commits the platform serves. Each was read, with the files it holds, from public projects
 * that pin it (2026-12-06; no Hub access offline): Mistral-7B-Instruct-v0.3 and its solidrust AWQ build
 * at the snapshots a 2026-05-22 vLLM run validated (the AWQ one with 3.88 GiB of safetensors), Qwen2.5-7B-
 * Instruct at the commit research projects pinned as `main` in mid-2026. A newer commit is a config
 * change (`models.variants.<v>.revision`); the staging Job copies it into the model store.
 */
const revisions = {
  subject: "c170c708c41dac9275d15a8fff4eca08d52bab71",
  subjectAwq: "95b1295ddd1a8673117cdc7bd2a4da2a457bb3f7",
  judge: "a09a35458c702b33eeacc393d103063234e8bc28",
};

/** The model endpoints: which team owns each and which service calls it. `baseline` is required. */
const models = {
  baseline: {
    team: "platform",
    client: "gateway",
    family: "subject",
    serves: {
      model: subjectModel,
      revision: revisions.subject,
      servedModelName: "mistral-7b-instruct",
      gated: true,
      footprint: mistral7bFootprint,
    },
  },
  awq: {
    team: "quant",
    client: "quant-api",
    family: "subject",
    // AWQ 4-bit (group size 128, GEMM) build of exactly the baseline model.
    serves: {
      model: "solidrust/Mistral-7B-Instruct-v0.3-AWQ",
      revision: revisions.subjectAwq,
      baseModel: subjectModel,
      servedModelName: "mistral-7b-instruct-awq",
      gated: false,
      quantization: "awq",
      // 4-bit weights in one 4.15 GB file; the KV cache stays 16-bit, as the base model's.
      footprint: { weightsGiB: 3.9, kvCacheKiBPerToken: 128 },
    },
  },
  lora: {
    team: "finetune",
    client: "finetune-api",
    family: "subject",
    clientOnly: true,
    servesAdapters: true,
    serves: {
      model: subjectModel,
      revision: revisions.subject,
      // Adapters resolve against the served model's path, which streaming from S3 replaces with a
      // temporary directory (config/models.ts `weightsFrom`): this server loads from the Hub.
      weightsFrom: "hub",
      servedModelName: "mistral-7b-instruct-lora",
      gated: true,
      footprint: mistral7bFootprint,
    },
  },
  judge: {
    team: "eval",
    client: "eval-api",
    family: "judge",
    // 4 safetensors shards of 15.2 GB (bf16); 28 layers × 4 KV heads × 128 × 2 × 2 bytes = 56 KiB/token.
    serves: {
      model: "Qwen/Qwen2.5-7B-Instruct",
      revision: revisions.judge,
      servedModelName: "qwen2.5-7b-instruct-judge",
      gated: false,
      footprint: { weightsGiB: 14.2, kvCacheKiBPerToken: 56 },
    },
  },
} as const satisfies Record<string, ModelDesign & { client: ServiceName }>;

export type ModelVariant = keyof typeof models;

/**
 * What makes a registry inconsistent: a service in an unregistered namespace, a variant whose client
 * is no registered service, two routes under one key, no gateway or no baseline variant. Empty when
 * consistent; the schemas refuse an inconsistent registry before reading any config.
 */
export function registryProblems(reg: Registry): string[] {
  const problems: string[] = [];
  if (!reg.services.gateway) problems.push("services: expected a gateway");
  if (!reg.models.baseline) problems.push("models: expected a baseline variant");
  const routeKeys = new Set<string>();
  for (const [name, d] of Object.entries(reg.services)) {
    if (!reg.namespaces[d.namespace]) {
      problems.push(`services.${name}.namespace: ${d.namespace} is not a registered namespace`);
    }
    if (d.route && routeKeys.has(d.route.key)) {
      problems.push(`services.${name}.route.key: ${d.route.key} is another service's route`);
    }
    if (d.route) routeKeys.add(d.route.key);
  }
  for (const [variant, d] of Object.entries(reg.models)) {
    if (!reg.services[d.client]) {
      problems.push(`models.${variant}.client: ${d.client} is not a registered service`);
    } else if (d.servesAdapters && !reg.services[d.client]!.bucket) {
      problems.push(
        `models.${variant}.servesAdapters: its client ${d.client} declares no bucket to publish adapters to`,
      );
    }
  }
  const adapterServers = Object.keys(reg.models).filter((v) => reg.models[v]!.servesAdapters);
  if (adapterServers.length > 1) {
    // One adapter sync fills one resolver directory (/models/adapters) on the shared cache.
    problems.push(
      `models: expected at most one variant that serves adapters, got ${adapterServers.join(", ")}`,
    );
  }
  return problems;
}

/**
 * The variant that serves LoRA adapters and the bucket its client publishes them to (`adapters/<name>/`),
 * or undefined when no variant serves adapters. A consistent registry has at most one.
 */
export function adapterServing(
  reg: Registry = registry,
): { variant: string; client: string; bucket: string } | undefined {
  const variant = Object.keys(reg.models).find((v) => reg.models[v]!.servesAdapters);
  if (variant === undefined) return undefined;
  const client = reg.models[variant]!.client;
  const bucket = reg.services[client]?.bucket?.name;
  if (bucket === undefined) throw new Error(`models.${variant}: its client declares no bucket`);
  return { variant, client, bucket };
}

/** Throws, listing every problem, unless the registry is consistent. */
export function assertConsistent(reg: Registry): Registry {
  const problems = registryProblems(reg);
  if (problems.length > 0) throw new Error(`inconsistent registry:\n  ${problems.join("\n  ")}`);
  return reg;
}

/** The platform's registry. */
export const registry: Registry = { namespaces, services, models };

/** Views of the registry under their literal types, for code that names an entry. */
export const namespaceNames = Object.keys(namespaces) as NamespaceName[];
export const namespaceDesign: Record<NamespaceName, NamespaceDesign> = namespaces;
export const serviceNames = Object.keys(services) as ServiceName[];
export const serviceDesign: Record<ServiceName, ServiceDesign> = services;
export const modelDesign: { readonly [V in ModelVariant]: ModelDesign & (typeof models)[V] } =
  models;

/** ROUTE_TABLE keys of the platform's registry. */
export type RouteKey = {
  [S in ServiceName]: (typeof services)[S] extends { route: { key: infer K } } ? K : never;
}[ServiceName];

/** The team APIs the gateway routes to, by route key. */
export const teamApis: Readonly<Record<string, ServiceName>> = Object.fromEntries(
  Object.entries(services).flatMap(([api, d]) =>
    "route" in d ? [[d.route.key, api as ServiceName]] : [],
  ),
);

/** The team APIs the gateway routes to, in ROUTE_TABLE order. */
export function routedServices(
  reg: Registry = registry,
): [string, ServiceDesign & { route: NonNullable<ServiceDesign["route"]> }][] {
  return Object.entries(reg.services).flatMap(([name, d]) =>
    d.route
      ? [
          [name, { ...d, route: d.route }] as [
            string,
            ServiceDesign & { route: NonNullable<ServiceDesign["route"]> },
          ],
        ]
      : [],
  );
}

/** The services that may call a model variant: its client, and the gateway unless `clientOnly`. */
export function modelCallers(variant: string, reg: Registry = registry): string[] {
  const d = reg.models[variant];
  if (!d) throw new Error(`unknown model variant ${variant}`);
  return [...new Set([...(d.clientOnly ? [] : ["gateway"]), d.client])];
}

/** Namespace of the model servers. */
export const modelNamespace: NamespaceName = "llm-baseline";

/** Label shared by every model server pod: the required anti-affinity keeps them on separate nodes. */
export const modelServerLabel = "llmplatform.io/model-server";

/** Deployment/Service name of a model variant. */
export function modelServerName(variant: string): string {
  return `vllm-${variant}`;
}

/** In-cluster URL of a model variant's Service (port 80). */
export function modelUrl(variant: string): string {
  return `http://${modelServerName(variant)}.${modelNamespace}.svc.cluster.local`;
}
