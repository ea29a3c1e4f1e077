import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../platform/context";
import { PrivateBucket } from "../lib/aws/privateBucket";
import { IrsaRole } from "../lib/aws/irsaRole";
import type { PolicyDocument } from "../platform/policyDocument";
import { bucketAccessPolicy, ecrLifecyclePolicy } from "../lib/aws/bucketPolicies";
import {
  modelCallers,
  modelNamespace,
  modelServerName,
  modelUrl,
  registry,
  routedServices,
  servicePort,
  serviceUrl,
  type RouteKey,
} from "../platform/registry";
import { type Registry, type ServiceDesign } from "../platform/designs";
import { otelCollector } from "../platform/chartContracts";
import { Microservice } from "./microservice";
import {
  allowEgressToApps,
  allowHttpsToAwsApis,
  allowIngressFromApp,
  allowLoadBalancerTo,
  type NetworkPolicyDef,
} from "../lib/k8s/networkPolicies";
import { replicaRange, variantConfig, type ModelsConfig } from "../config/models";
import {
  serviceConfig,
  type GatewayRoutes,
  type ServiceConfig,
  type ServicesConfig,
} from "../config/teams";
import { renamedFrom } from "../platform/typeTokens";
import type { SecretStore } from "../lib/k8s/syncedSecret";
import { gatewayKeyEnv, gatewaySecrets } from "./gatewaySecrets";

/** One route of the gateway's ROUTE_TABLE, in the design's wire format (snake_case keys). */
export interface RouteEntry {
  readonly url: string;
  readonly timeout_ms: number;
  /** Traffic split between LoRA variants, by weight (percent). */
  readonly ab_variants?: Record<string, { readonly weight: number }>;
}

/**
 * The gateway's ROUTE_TABLE, exactly the design's contract: `{quant, finetune, eval}`, each with the
 * team API's `url` and `timeout_ms`, finetune with `ab_variants`. The gateway is built by another team
 * against this format: keys, types and key order stay as the design gives them (registry order); a new
 * team API adds its own key; anything else goes under a new ConfigMap key (see `modelRoutes`), never
 * into this object.
 */
export function routeTable(
  routes: GatewayRoutes,
  reg: Registry = registry,
): Record<RouteKey, RouteEntry> & Readonly<Record<string, RouteEntry>> {
  const table: Record<string, RouteEntry> = Object.fromEntries(
    routedServices(reg).map(([api, d]) => {
      const route = routes[d.route.key];
      if (!route) throw new Error(`no gateway route config for ${d.route.key}`);
      const entry: RouteEntry = {
        url: serviceUrl(api, reg),
        timeout_ms: route.timeoutMs,
        ...(d.route.loraVariants
          ? {
              ab_variants: Object.fromEntries(
                (route.variants ?? []).map((v) => [v.name, { weight: v.weight }]),
              ),
            }
          : {}),
      };
      return [d.route.key, entry];
    }),
  );
  // Sound for any registry that extends the platform's: it may add routes, never drop the design's.
  return table as Record<RouteKey, RouteEntry> & Readonly<Record<string, RouteEntry>>;
}

/**
 * The model endpoints the gateway may call (OpenAI-compatible, selected by served model name;
 * replicas 0 = not serving). Not part of the design's ROUTE_TABLE: the gateway gets them under their
 * own key, MODEL_ROUTES, so the design's format stays untouched.
 */
export function modelRoutes(models: ModelsConfig, reg: Registry = registry) {
  return Object.keys(reg.models)
    .filter((variant) => modelCallers(variant, reg).includes("gateway"))
    .map((variant) => {
      const v = variantConfig(models, variant);
      const range = replicaRange(v);
      return {
        variant,
        model: v.servedModelName,
        upstream: modelUrl(variant),
        serving: range.max > 0,
        scaleToZero: range.max > 0 && range.min === 0,
      };
    });
}

/** Settings every service gets: log level, region and OpenTelemetry export. */
function commonEnv(
  service: string,
  design: ServiceDesign,
  stack: string,
  region: string,
  logLevel: string,
): Record<string, string> {
  return {
    LOG_LEVEL: logLevel,
    AWS_REGION: region,
    PORT: "8000",
    OTEL_EXPORTER_OTLP_ENDPOINT: otelCollector.grpcEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: otelCollector.protocol,
    OTEL_SERVICE_NAME: service,
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${stack},service.namespace=${design.namespace}`,
  };
}

/** The gateway's own settings: where the team APIs are and how to route to them. */
function gatewayEnv(
  routes: GatewayRoutes,
  models: ModelsConfig,
  reg: Registry = registry,
): Record<string, string> {
  return {
    ...Object.fromEntries(
      routedServices(reg).map(([api, d]) => [
        `${d.route.key.toUpperCase().replace(/-/g, "_")}_SERVICE_URL`,
        serviceUrl(api, reg),
      ]),
    ),
    ROUTE_TABLE: JSON.stringify(routeTable(routes, reg)),
    MODEL_ROUTES: JSON.stringify(modelRoutes(models, reg)),
  };
}

/** A team API's own settings from the registry: its extension's env, its bucket, its LoRA variants. */
function apiEnv(
  d: ServiceDesign,
  cfg: Readonly<Record<string, unknown>>,
  routes: GatewayRoutes,
  buckets: Readonly<Record<string, ServiceBucket>>,
): Record<string, pulumi.Input<string>> {
  const split = d.route?.loraVariants ? routes[d.route.key]?.variants : undefined;
  return {
    ...(d.extension?.env(cfg) ?? {}),
    ...(d.bucket ? { [d.bucket.envVar]: buckets[d.bucket.name]!.name } : {}),
    ...(split ? { LORA_VARIANTS: split.map((v) => v.name).join(",") } : {}),
  };
}

/**
 * A team API's model endpoints (quant -> AWQ, finetune -> LoRA, eval -> judge): the design's
 * MODEL_ENDPOINT and MODEL_NAME name its first variant in registry order; an API that calls more than
 * one variant also gets all of them, as JSON under their own key, MODEL_VARIANTS.
 */
function teamModelEnv(
  service: string,
  models: ModelsConfig,
  reg: Registry,
): Record<string, string> {
  if (service === "gateway") return {};
  const variants = Object.keys(reg.models).filter((v) => reg.models[v]!.client === service);
  const endpoint = (variant: string) => ({
    variant,
    model: variantConfig(models, variant).servedModelName,
    endpoint: `${modelUrl(variant)}/v1`,
  });
  const [first, ...more] = variants.map(endpoint);
  if (!first) return {};
  return {
    MODEL_ENDPOINT: first.endpoint,
    MODEL_NAME: first.model,
    ...(more.length > 0 ? { MODEL_VARIANTS: JSON.stringify([first, ...more]) } : {}),
  };
}

/**
 * A service's NetworkPolicies: the gateway is reached by the ALB and reaches the team APIs; a team API
 * is reached by the gateway and reaches AWS APIs; each reaches the model servers it may call.
 */
function serviceNetworkPolicies(
  service: string,
  net: Pick<PlatformContext, "vpcCidr" | "loadBalancerCidrs">,
  reg: Registry = registry,
): NetworkPolicyDef[] {
  const vpcCidr = net.vpcCidr;
  const gateway = reg.services.gateway!;
  const teamTargets = routedServices(reg).map(([api, d]) => ({ namespace: d.namespace, app: api }));
  const modelTargets = Object.keys(reg.models)
    .filter((v) => modelCallers(v, reg).includes(service))
    .map((v) => ({ namespace: modelNamespace, app: modelServerName(v) }));
  // Egress only where there are targets (a service that calls no model server gets no such policy).
  const egressTo = (targets: readonly { namespace: string; app: string }[], name: string) =>
    targets.length > 0 ? [allowEgressToApps(service, targets, name)] : [];
  return [
    ...(service === "gateway"
      ? [
          allowLoadBalancerTo({ app: "gateway" }, servicePort, net.loadBalancerCidrs),
          ...egressTo(teamTargets, "allow-gateway-to-team-apis-8000"),
        ]
      : [
          allowIngressFromApp(service, { namespace: gateway.namespace, app: "gateway" }),
          allowHttpsToAwsApis(service, vpcCidr),
        ]),
    ...egressTo(modelTargets, `allow-${service}-to-model-servers-8000`),
  ];
}

/** A registry bucket a service reads and writes: its name and ARN. */
export interface ServiceBucket {
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
}

/** One private bucket `<prefix>-<name>` per bucket the registry's services declare. */
function serviceBuckets(
  ctx: PlatformContext,
  reg: Registry,
  parent: pulumi.Resource,
): Record<string, ServiceBucket> {
  const buckets: Record<string, ServiceBucket> = {};
  for (const d of Object.values(reg.services)) {
    if (!d.bucket) continue;
    const b = new PrivateBucket(
      `${ctx.namePrefix}-${d.bucket.name}`,
      {
        forceDestroy: ctx.destroyDeletesData,
        ...(ctx.dataBucketAccessLogs ? { accessLogs: ctx.dataBucketAccessLogs } : {}),
      },
      { parent },
    );
    buckets[d.bucket.name] = { name: b.bucketName, arn: b.arn };
  }
  return buckets;
}

/** Inline policies of a service's IRSA role: its bucket (read-write) and its extension's. */
function serviceAwsPolicies(
  d: ServiceDesign,
  cfg: Readonly<Record<string, unknown>>,
  ctx: PlatformContext,
  buckets: Readonly<Record<string, ServiceBucket>>,
): Record<string, pulumi.Output<PolicyDocument>> {
  const scope = pulumi.all([ctx.partition, ctx.accountId]);
  return {
    ...(d.bucket
      ? {
          [`${d.bucket.name}-readwrite`]: buckets[d.bucket.name]!.arn.apply((arn) =>
            bucketAccessPolicy(arn, "readwrite"),
          ),
        }
      : {}),
    ...Object.fromEntries(
      Object.entries(d.extension?.awsPolicies ?? {}).map(([policyName, policy]) => [
        policyName,
        scope.apply(([partition, accountId]) =>
          policy(cfg, { partition, region: ctx.region, accountId }),
        ),
      ]),
    ),
  };
}

/** A service's ECR repository: scan on push, KMS, tag immutability from config, lifecycle policy. */
function serviceRepository(
  name: string,
  service: string,
  ctx: PlatformContext,
  immutableTags: boolean,
  parent: pulumi.Resource,
): aws.ecr.Repository {
  const repo = new aws.ecr.Repository(
    `${name}-${service}`,
    {
      name: `${ctx.namePrefix}/${service}`,
      imageTagMutability: immutableTags ? "IMMUTABLE" : "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS" }],
      // Images are rebuilt from source: where the stack says so, destroy deletes them with it.
      forceDelete: ctx.destroyDeletesData,
    },
    { parent },
  );
  new aws.ecr.LifecyclePolicy(
    `${name}-${service}`,
    { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy) },
    { parent },
  );
  return repo;
}

/** A service's env (ConfigMap): common settings, its role's (gateway or team API), its model. */
function serviceEnv(
  service: string,
  d: ServiceDesign,
  cfg: ServiceConfig,
  args: PlatformServicesArgs,
  reg: Registry,
  buckets: Readonly<Record<string, ServiceBucket>>,
): Record<string, pulumi.Input<string>> {
  const s = args.services;
  return {
    ...commonEnv(service, d, args.ctx.stack, args.ctx.region, s.logLevel),
    ...(service === "gateway"
      ? { ...gatewayEnv(s.gateway.routes, args.models, reg), ...gatewayKeyEnv }
      : apiEnv(d, cfg, s.gateway.routes, buckets)),
    ...teamModelEnv(service, args.models, reg),
  };
}

export interface PlatformServicesArgs {
  /** Where the services run; `namePrefix` prefixes ECR repositories, IAM roles and buckets. */
  readonly ctx: PlatformContext;
  readonly services: ServicesConfig;
  /** The model variants: the gateway routes to them, each team API calls its own. */
  readonly models: ModelsConfig;
  readonly namespaces: Readonly<Record<string, pulumi.Output<string>>>;
  /** The load balancer controller: its webhook must admit pods in namespaces behind the ALB. */
  readonly loadBalancerController: pulumi.Resource;
  /** The registry the services come from. Default: the platform's. */
  readonly registry?: Registry;
  /** Where the gateway's API keys and JWT signing key are kept (Secrets Manager, synced by ESO). */
  readonly secrets: SecretStore;
}

/**
 * The gateway and the team APIs of the registry. Per service: an ECR repository, a least-privilege
 * IRSA role `<prefix>-<service>-irsa` (its bucket read-write, its extension's policies; the gateway has
 * none), the Microservice and its NetworkPolicies; one private bucket per bucket the registry declares.
 * Providers (aws, kubernetes) come through `opts.providers`.
 */
export class PlatformServices extends pulumi.ComponentResource {
  /** ECR repository URL per service. */
  readonly repositoryUrls: Readonly<Record<string, pulumi.Output<string>>>;
  /** The services' buckets by registry name (e.g. `adapters`, `results`). */
  readonly buckets: Readonly<Record<string, ServiceBucket>>;

  constructor(name: string, args: PlatformServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "llmplatform:services:PlatformServices",
      name,
      {},
      renamedFrom("llmplatform:PlatformServices", opts),
    );
    const reg = args.registry ?? registry;
    if (!reg.services.gateway) throw new Error("the registry must declare the gateway");
    const buckets = serviceBuckets(args.ctx, reg, this);
    const repositoryUrls: Record<string, pulumi.Output<string>> = {};
    for (const [service, d] of Object.entries(reg.services)) {
      const cfg = serviceConfig(args.services, service);
      const immutable = args.services.immutableImageTags;
      const repo = serviceRepository(name, service, args.ctx, immutable, this);
      const role = new IrsaRole(
        `${name}-${service}`,
        {
          oidc: args.ctx.oidc,
          namespace: d.namespace,
          serviceAccount: d.serviceAccount,
          roleName: `${args.ctx.namePrefix}-${service}-irsa`,
          inlinePolicies: serviceAwsPolicies(d, cfg, args.ctx, buckets),
        },
        { parent: this },
      );
      const namespace = args.namespaces[d.namespace];
      if (!namespace)
        throw new Error(`service ${service}: namespace ${d.namespace} is not created`);
      const secretMounts =
        service === "gateway"
          ? gatewaySecrets(`${name}-gateway`, this, args.secrets, {
              name: d.namespace,
              ref: namespace,
            })
          : [];
      new Microservice(
        service,
        {
          service,
          design: d,
          stack: args.ctx.stack,
          namespace,
          image: pulumi.interpolate`${repo.repositoryUrl}:${cfg.imageTag}`,
          config: cfg,
          runAsUser: args.services.runAsUser,
          env: serviceEnv(service, d, cfg, args, reg, buckets),
          roleArn: role.roleArn,
          secretMounts,
          networkPolicies: serviceNetworkPolicies(service, args.ctx, reg),
          // The role's policies must be attached before the pods first call AWS; behind the ALB, the
          // controller's webhook must be up to admit (and readiness-gate) the pods.
          dependsOn: [
            role,
            ...(reg.namespaces[d.namespace]?.behindLoadBalancer
              ? [args.loadBalancerController]
              : []),
          ],
        },
        { parent: this },
      );
      repositoryUrls[service] = repo.repositoryUrl;
    }
    this.repositoryUrls = repositoryUrls;
    this.buckets = buckets;
    this.registerOutputs({ repositoryUrls, buckets });
  }
}
