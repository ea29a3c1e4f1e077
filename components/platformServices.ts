import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "./context";
import { PrivateBucket } from "./aws/bucket";
import { IrsaRole } from "./aws/irsa";
import { bucketAccessPolicy, ecrLifecyclePolicy } from "./aws/servicePolicies";
import {
  modelCallers,
  modelNamespace,
  modelServerName,
  modelUrl,
  otelCollector,
  registry,
  routedServices,
  serviceUrl,
  type Registry,
  type RouteKey,
  type ServiceDesign,
} from "./catalog";
import { Microservice } from "./k8s/microservice";
import {
  allowEgressToApps,
  allowHttpsToAwsApis,
  allowIngressFromApp,
  allowLoadBalancerTo,
  type NetworkPolicyDef,
} from "./k8s/networkPolicies";
import { replicaRange, type ModelsConfig, type ModelVariantConfig } from "./schema/models";
import { serviceConfig, type GatewayRoutes, type ServicesConfig } from "./schema/platform";
import { renamedFrom } from "./typeTokens";

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

function variantConfig(models: ModelsConfig, variant: string): ModelVariantConfig {
  const v = (models.variants as Readonly<Record<string, ModelVariantConfig | undefined>>)[variant];
  if (!v) throw new Error(`no config for model variant ${variant}`);
  return v;
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
export function gatewayEnv(
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
  buckets: Readonly<Record<string, PrivateBucket>>,
): Record<string, pulumi.Input<string>> {
  const split = d.route?.loraVariants ? routes[d.route.key]?.variants : undefined;
  return {
    ...(d.extension?.env(cfg) ?? {}),
    ...(d.bucket ? { [d.bucket.envVar]: buckets[d.bucket.name]!.bucketName } : {}),
    ...(split ? { LORA_VARIANTS: split.map((v) => v.name).join(",") } : {}),
  };
}

/** A team API's own model endpoint (quant -> AWQ, finetune -> LoRA, eval -> judge). */
function teamModelEnv(
  service: string,
  models: ModelsConfig,
  reg: Registry,
): Record<string, string> {
  const variant = Object.keys(reg.models).find(
    (v) => reg.models[v]!.client === service && service !== "gateway",
  );
  return variant
    ? {
        MODEL_ENDPOINT: `${modelUrl(variant)}/v1`,
        MODEL_NAME: variantConfig(models, variant).servedModelName,
      }
    : {};
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
  readonly provider: k8s.Provider;
  /** The registry the services come from. Default: the platform's. */
  readonly registry?: Registry;
}

/**
 * The gateway and the three team APIs. Per service: an ECR repository (scan on push, KMS, tag
 * immutability from config), a least-privilege IRSA role `<prefix>-<service>-irsa`, the Microservice
 * and its NetworkPolicies. finetune-api reads and publishes LoRA adapters in its bucket; eval-api writes results
 * to its own; quant-api may invoke one SageMaker endpoint; the gateway has no AWS permissions.
 */
export class PlatformServices extends pulumi.ComponentResource {
  /** ECR repository URL per service. */
  readonly repositoryUrls: Readonly<Record<string, pulumi.Output<string>>>;
  readonly buckets: { adapters: pulumi.Output<string>; results: pulumi.Output<string> };
  /** ARN of the adapters bucket (the model cache's adapter sync reads it). */
  readonly adapterBucketArn: pulumi.Output<string>;

  constructor(name: string, args: PlatformServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "llmplatform:services:PlatformServices",
      name,
      {},
      renamedFrom("llmplatform:PlatformServices", opts),
    );
    const s = args.services;
    const reg = args.registry ?? registry;
    const buckets: Record<string, PrivateBucket> = {};
    for (const d of Object.values(reg.services)) {
      if (d.bucket) {
        const bucketName = `${args.ctx.namePrefix}-${d.bucket.name}`;
        buckets[d.bucket.name] = new PrivateBucket(bucketName, {}, { parent: this });
      }
    }
    const awsScope = pulumi.all([args.ctx.partition, args.ctx.accountId]);

    /** Inline policies of a service's IRSA role: its bucket (read-write) and its extension's. */
    const awsPolicies = (d: ServiceDesign, cfg: Readonly<Record<string, unknown>>) => ({
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
          awsScope.apply(([partition, accountId]) =>
            policy(cfg, { partition, region: args.ctx.region, accountId }),
          ),
        ]),
      ),
    });

    const gateway = reg.services.gateway;
    if (!gateway) throw new Error("the registry must declare the gateway");
    const teamTargets = routedServices(reg).map(([api, d]) => ({
      namespace: d.namespace,
      app: api,
    }));
    const modelTargets = (client: string) =>
      Object.keys(reg.models)
        .filter((v) => modelCallers(v, reg).includes(client))
        .map((v) => ({ namespace: modelNamespace, app: modelServerName(v) }));
    const policies = (service: string): NetworkPolicyDef[] => [
      ...(service === "gateway"
        ? [
            allowLoadBalancerTo("gateway", args.ctx.vpcCidr),
            allowEgressToApps("gateway", teamTargets, "allow-gateway-to-team-apis-8000"),
          ]
        : [
            allowIngressFromApp(service, { namespace: gateway.namespace, app: "gateway" }),
            allowHttpsToAwsApis(service, args.ctx.vpcCidr),
          ]),
      allowEgressToApps(service, modelTargets(service), `allow-${service}-to-model-servers-8000`),
    ];

    const repositoryUrls: Record<string, pulumi.Output<string>> = {};
    for (const [service, d] of Object.entries(reg.services)) {
      const cfg = serviceConfig(s, service);
      const repo = new aws.ecr.Repository(
        `${name}-${service}`,
        {
          name: `${args.ctx.namePrefix}/${service}`,
          imageTagMutability: s.immutableImageTags ? "IMMUTABLE" : "MUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS" }],
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-${service}`,
        { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy) },
        { parent: this },
      );
      const role = new IrsaRole(
        `${name}-${service}`,
        {
          oidc: args.ctx.oidc,
          namespace: d.namespace,
          serviceAccount: d.serviceAccount,
          roleName: `${args.ctx.namePrefix}-${service}-irsa`,
          inlinePolicies: awsPolicies(d, cfg),
        },
        { parent: this },
      );
      const namespace = args.namespaces[d.namespace];
      if (!namespace)
        throw new Error(`service ${service}: namespace ${d.namespace} is not created`);
      new Microservice(
        service,
        {
          service,
          design: d,
          stack: args.ctx.stack,
          namespace,
          image: pulumi.interpolate`${repo.repositoryUrl}:${cfg.imageTag}`,
          config: cfg,
          runAsUser: s.runAsUser,
          env: {
            ...commonEnv(service, d, args.ctx.stack, args.ctx.region, s.logLevel),
            ...(service === "gateway"
              ? gatewayEnv(s.gateway.routes, args.models, reg)
              : apiEnv(d, cfg, s.gateway.routes, buckets)),
            ...teamModelEnv(service, args.models, reg),
          },
          roleArn: role.roleArn,
          networkPolicies: policies(service),
          provider: args.provider,
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
    const bucket = (bucketName: string) => {
      const b = buckets[bucketName];
      if (!b) throw new Error(`the registry declares no ${bucketName} bucket`);
      return b;
    };
    this.repositoryUrls = repositoryUrls;
    this.buckets = {
      adapters: bucket("adapters").bucketName,
      results: bucket("results").bucketName,
    };
    this.adapterBucketArn = bucket("adapters").arn;
    this.registerOutputs({ repositoryUrls, buckets: this.buckets });
  }
}
