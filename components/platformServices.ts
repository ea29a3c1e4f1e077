import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket } from "./aws/bucket";
import type { PolicyDocument } from "./aws/iam";
import { IrsaRole, type OidcIdentity } from "./aws/irsa";
import {
  bucketAccessPolicy,
  ecrLifecyclePolicy,
  sagemakerInvokePolicy,
} from "./aws/servicePolicies";
import {
  namespaceDesign,
  modelCallers,
  modelDesign,
  modelNamespace,
  modelServerName,
  modelUrl,
  otelCollector,
  serviceDesign,
  serviceNames,
  serviceUrl,
  teamApis,
  type NamespaceName,
  type ServiceName,
} from "./catalog";
import { Microservice } from "./k8s/microservice";
import {
  allowEgressToApps,
  allowHttpsToAwsApis,
  allowIngressFromApp,
  allowLoadBalancerTo,
  type NetworkPolicyDef,
} from "./k8s/networkPolicies";
import { modelVariants, replicaRange, type ModelsConfig } from "./schema/models";
import type { GatewayRoutes, ServicesConfig } from "./schema/platform";
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
 * against this format: keys, types and key order stay as the design gives them; anything extra goes
 * under a new ConfigMap key (see `modelRoutes`), never into this object.
 */
export function routeTable(
  routes: GatewayRoutes,
): Record<"quant" | "finetune" | "eval", RouteEntry> {
  return {
    quant: { url: serviceUrl(teamApis.quant), timeout_ms: routes.quant.timeoutMs },
    finetune: {
      url: serviceUrl(teamApis.finetune),
      timeout_ms: routes.finetune.timeoutMs,
      ab_variants: Object.fromEntries(
        routes.finetune.variants.map((v) => [v.name, { weight: v.weight }]),
      ),
    },
    eval: { url: serviceUrl(teamApis.eval), timeout_ms: routes.eval.timeoutMs },
  };
}

/**
 * The four model endpoints (OpenAI-compatible, selected by served model name; replicas 0 = not
 * serving). Not part of the design's ROUTE_TABLE: the gateway gets them under their own key,
 * MODEL_ROUTES, so the design's format stays untouched.
 */
export function modelRoutes(models: ModelsConfig) {
  return modelVariants
    .filter((variant) => modelCallers(variant).includes("gateway"))
    .map((variant) => {
      const range = replicaRange(models.variants[variant]);
      return {
        variant,
        model: models.variants[variant].servedModelName,
        upstream: modelUrl(variant),
        serving: range.max > 0,
        scaleToZero: range.max > 0 && range.min === 0,
      };
    });
}

/** Settings every service gets: log level, region and OpenTelemetry export. */
function commonEnv(
  service: ServiceName,
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
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${stack},service.namespace=${serviceDesign[service].namespace}`,
  };
}

/** The gateway's own settings: where the team APIs are and how to route to them. */
function gatewayEnv(routes: GatewayRoutes, models: ModelsConfig): Record<string, string> {
  return {
    QUANT_SERVICE_URL: serviceUrl(teamApis.quant),
    FINETUNE_SERVICE_URL: serviceUrl(teamApis.finetune),
    EVAL_SERVICE_URL: serviceUrl(teamApis.eval),
    ROUTE_TABLE: JSON.stringify(routeTable(routes)),
    MODEL_ROUTES: JSON.stringify(modelRoutes(models)),
  };
}

/** A team API's own model endpoint (quant -> AWQ, finetune -> LoRA, eval -> judge). */
function teamModelEnv(service: ServiceName, models: ModelsConfig): Record<string, string> {
  const variant = modelVariants.find(
    (v) => modelDesign[v].client === service && service !== "gateway",
  );
  return variant
    ? {
        MODEL_ENDPOINT: `${modelUrl(variant)}/v1`,
        MODEL_NAME: models.variants[variant].servedModelName,
      }
    : {};
}

export interface PlatformServicesArgs {
  readonly stack: string;
  /** Prefix of ECR repositories, IAM roles and buckets. */
  readonly namePrefix: string;
  readonly region: string;
  readonly vpcCidr: string;
  readonly partition: pulumi.Input<string>;
  readonly accountId: pulumi.Input<string>;
  readonly oidc: OidcIdentity;
  readonly services: ServicesConfig;
  /** The model variants: the gateway routes to them, each team API calls its own. */
  readonly models: ModelsConfig;
  readonly namespaces: Record<NamespaceName, pulumi.Output<string>>;
  /** The load balancer controller: its webhook must admit pods in namespaces behind the ALB. */
  readonly loadBalancerController: pulumi.Resource;
  readonly provider: k8s.Provider;
}

/**
 * The gateway and the three team APIs. Per service: an ECR repository (scan on push, KMS, tag
 * immutability from config), a least-privilege IRSA role `<prefix>-<service>-irsa`, the Microservice
 * and its NetworkPolicies. finetune-api reads and publishes LoRA adapters in its bucket; eval-api writes results
 * to its own; quant-api may invoke one SageMaker endpoint; the gateway has no AWS permissions.
 */
export class PlatformServices extends pulumi.ComponentResource {
  /** ECR repository URL per service. */
  readonly repositoryUrls: Record<ServiceName, pulumi.Output<string>>;
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
    const adapters = new PrivateBucket(`${args.namePrefix}-adapters`, {}, { parent: this });
    const results = new PrivateBucket(`${args.namePrefix}-results`, {}, { parent: this });

    const awsPolicies: Record<ServiceName, Record<string, pulumi.Input<PolicyDocument>>> = {
      gateway: {},
      "quant-api": {
        "sagemaker-invoke": pulumi
          .all([args.partition, args.accountId])
          .apply(([partition, account]) =>
            sagemakerInvokePolicy(
              partition,
              args.region,
              account,
              s["quant-api"].sagemaker.endpointName,
            ),
          ),
      },
      "finetune-api": {
        // finetune-api publishes LoRA adapters (adapters/<name>/); the adapter sync serves them.
        "adapters-readwrite": adapters.arn.apply((arn) => bucketAccessPolicy(arn, "readwrite")),
      },
      "eval-api": {
        "results-readwrite": results.arn.apply((arn) => bucketAccessPolicy(arn, "readwrite")),
      },
    };

    const ownEnv: Record<ServiceName, Record<string, pulumi.Input<string>>> = {
      gateway: gatewayEnv(s.gateway.routes, args.models),
      "quant-api": {
        SAGEMAKER_ENDPOINT_NAME: s["quant-api"].sagemaker.endpointName,
        SAGEMAKER_TIMEOUT_MS: String(s["quant-api"].sagemaker.timeoutMs),
        ENABLE_FALLBACK: String(s["quant-api"].sagemaker.enableFallback),
      },
      "finetune-api": {
        ADAPTER_BUCKET: adapters.bucketName,
        LORA_VARIANTS: s.gateway.routes.finetune.variants.map((v) => v.name).join(","),
      },
      "eval-api": { RESULTS_BUCKET: results.bucketName },
    };

    const gatewayNs = serviceDesign.gateway.namespace;
    const teamTargets = Object.values(teamApis).map((api) => ({
      namespace: serviceDesign[api].namespace,
      app: api,
    }));
    const modelTargets = (client: ServiceName) =>
      modelVariants
        .filter((v) => modelCallers(v).includes(client))
        .map((v) => ({ namespace: modelNamespace, app: modelServerName(v) }));
    const policies = (service: ServiceName): NetworkPolicyDef[] => [
      ...(service === "gateway"
        ? [
            allowLoadBalancerTo("gateway", args.vpcCidr),
            allowEgressToApps("gateway", teamTargets, "allow-gateway-to-team-apis-8000"),
          ]
        : [
            allowIngressFromApp(service, { namespace: gatewayNs, app: "gateway" }),
            allowHttpsToAwsApis(service, args.vpcCidr),
          ]),
      allowEgressToApps(service, modelTargets(service), `allow-${service}-to-model-servers-8000`),
    ];

    const repositoryUrls = {} as Record<ServiceName, pulumi.Output<string>>;
    for (const service of serviceNames) {
      const cfg = s[service];
      const repo = new aws.ecr.Repository(
        `${name}-${service}`,
        {
          name: `${args.namePrefix}/${service}`,
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
          oidc: args.oidc,
          namespace: serviceDesign[service].namespace,
          serviceAccount: serviceDesign[service].serviceAccount,
          roleName: `${args.namePrefix}-${service}-irsa`,
          inlinePolicies: awsPolicies[service],
        },
        { parent: this },
      );
      new Microservice(
        service,
        {
          service,
          stack: args.stack,
          namespace: args.namespaces[serviceDesign[service].namespace],
          image: pulumi.interpolate`${repo.repositoryUrl}:${cfg.imageTag}`,
          config: cfg,
          runAsUser: s.runAsUser,
          env: {
            ...commonEnv(service, args.stack, args.region, s.logLevel),
            ...ownEnv[service],
            ...teamModelEnv(service, args.models),
          },
          roleArn: role.roleArn,
          networkPolicies: policies(service),
          provider: args.provider,
          // The role's policies must be attached before the pods first call AWS; behind the ALB, the
          // controller's webhook must be up to admit (and readiness-gate) the pods.
          dependsOn: [
            role,
            ...(namespaceDesign[serviceDesign[service].namespace].behindLoadBalancer
              ? [args.loadBalancerController]
              : []),
          ],
        },
        { parent: this },
      );
      repositoryUrls[service] = repo.repositoryUrl;
    }
    this.repositoryUrls = repositoryUrls;
    this.buckets = { adapters: adapters.bucketName, results: results.bucketName };
    this.adapterBucketArn = adapters.arn;
    this.registerOutputs({ repositoryUrls, buckets: this.buckets });
  }
}
