import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ModelCacheFileSystem } from "./modelCacheFileSystem";
import type { PlatformContext } from "../platform/context";
import {
  adapterServing,
  modelNamespace,
  modelServerName,
  partOf,
  registry,
} from "../platform/registry";
import { type Registry } from "../platform/designs";
import { AdapterSync } from "./adapterSync";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { compileCacheDir, ModelServer } from "./modelServer";
import { modelCacheClaim, vllmUser } from "../platform/modelCacheLayout";
import { modelTrafficPolicies } from "./modelTraffic";
import { ModelStore, storedModels } from "./modelStore";
import { ImageCache } from "./imageCache";
import { stagedMarkerKey, storeModelUri } from "./modelStoreLayout";
import type { WeightSource } from "./weightSource";
import {
  variantConfig,
  variantEntries,
  variantNodeGroup,
  type ModelsConfig,
  type ModelVariantConfig,
} from "../config/models";
import { images } from "../platform/versions";
import type { Autoscaler } from "./autoscaling";
import { renamedFrom } from "../platform/typeTokens";
import { SyncedSecret, type SecretStore } from "../lib/k8s/syncedSecret";

/** StorageClass of the shared model cache. */
const modelCacheStorageClass = "efs-models";

/**
 * EFS dynamic provisioning through access points: each claim gets its own directory under
 * /llm-baseline, owned by the vLLM user, so pods never need to chown (or run as root) to write.
 */
export function efsStorageClassParameters(fileSystemId: string): Record<string, string> {
  return {
    provisioningMode: "efs-ap",
    fileSystemId,
    directoryPerms: "770",
    uid: String(vllmUser.uid),
    gid: String(vllmUser.gid),
    basePath: "/llm-baseline",
  };
}

export interface ModelServingArgs {
  /** Stack (labels), name prefix, region, OIDC, VPC CIDR. */
  readonly ctx: PlatformContext;
  /**
   * The bucket LoRA adapters are published to (`adapters/<name>/`): required when a variant serves
   * adapters (registry.ts `adapterServing`).
   */
  readonly adapterBucket?: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** KEDA and the Prometheus its scalers query; required when any variant autoscales. */
  readonly autoscaler?: Autoscaler;
  readonly vpcId: pulumi.Input<string>;
  /** The nodes' security group: the model cache admits NFS from it only. */
  readonly nodeSecurityGroupId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string[]>;
  readonly availabilityZones: number;
  /** S3's address ranges behind the VPC's gateway endpoint: where streaming servers may connect. */
  readonly s3Cidrs: pulumi.Input<string[]>;
  /**
   * The addresses of the VPC's STS interface endpoint: streaming servers resolve the regional STS name
   * to them and may connect to them alone in the VPC, so they get credentials without the internet.
   */
  readonly stsEndpointAddresses: pulumi.Input<string[]>;
  readonly models: ModelsConfig;
  /** Hugging Face token (secret). Config validation guarantees it when a variant is gated. */
  readonly hfToken?: pulumi.Output<string>;
  /** Where the HF token is kept (Secrets Manager) and synced from (the ESO add-on's store). */
  readonly secrets: SecretStore;
  /** The llm-baseline namespace (Output, so objects wait for it). */
  readonly namespace: pulumi.Output<string>;
  /** The EFS CSI driver (an EKS managed add-on): the cache claim can only bind once it runs. */
  readonly efsDriver: pulumi.Resource;
  /** The registry the variants come from. Default: the platform's. */
  readonly registry?: Registry;
}

/**
 * The shared model cache: EFS (multi-AZ), its StorageClass (access points owned by the vLLM user)
 * and the ReadWriteMany claim every model server mounts.
 */
function modelCache(name: string, parent: pulumi.Resource, args: ModelServingArgs) {
  const labels = { "app.kubernetes.io/part-of": partOf, environment: args.ctx.stack };
  const fs = new ModelCacheFileSystem(
    `${args.ctx.namePrefix}-models`,
    {
      vpcId: args.vpcId,
      nodeSecurityGroupId: args.nodeSecurityGroupId,
      privateSubnetIds: args.privateSubnetIds,
      availabilityZones: args.availabilityZones,
    },
    { parent },
  );
  const storageClass = new k8s.storage.v1.StorageClass(
    `${name}-efs`,
    {
      metadata: { name: modelCacheStorageClass, labels },
      provisioner: "efs.csi.aws.com",
      parameters: fs.fileSystemId.apply(efsStorageClassParameters),
      // Keep the downloaded models when the claim goes: re-downloading is slow and rate-limited.
      reclaimPolicy: "Retain",
      volumeBindingMode: "Immediate",
    },
    { parent },
  );
  const claim = new k8s.core.v1.PersistentVolumeClaim(
    `${name}-cache`,
    {
      metadata: { name: modelCacheClaim, namespace: args.namespace, labels },
      spec: {
        accessModes: ["ReadWriteMany"],
        storageClassName: storageClass.metadata.name,
        resources: { requests: { storage: `${args.models.cacheSizeGi}Gi` } },
      },
    },
    { parent, dependsOn: [args.efsDriver, fs] },
  );
  return { fileSystemId: fs.fileSystemId, claimName: claim.metadata.name };
}

/**
 * The HF token's Kubernetes Secret and key: what the model servers mount today, and what a job that
 * stages weights from the Hub mounts. Synced from Secrets Manager `<prefix>/llm-baseline/hf-token`.
 */
export const hfTokenSecret = { name: "hf-token", key: "token" } as const;

/**
 * What the model servers run as: the HF token (when set; kept in Secrets Manager, synced into the
 * Secret `hf-token` by ESO) and a service account with no API token and no AWS role.
 */
function modelServerIdentity(name: string, parent: pulumi.Resource, args: ModelServingArgs) {
  const labels = { "app.kubernetes.io/part-of": partOf, environment: args.ctx.stack };
  const tokenSecret = args.hfToken
    ? new SyncedSecret(
        `${name}-hf-token`,
        {
          store: args.secrets,
          namespace: modelNamespace,
          namespaceRef: args.namespace,
          name: hfTokenSecret.name,
          description: "Hugging Face access token: downloads of gated models",
          value: { string: args.hfToken, key: hfTokenSecret.key },
          owner: "config",
        },
        { parent },
      )
    : undefined;
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-sa`,
    {
      metadata: { name: "model-server", namespace: args.namespace, labels },
      automountServiceAccountToken: false,
    },
    { parent },
  );
  return {
    tokenSecret: tokenSecret?.secretName ?? hfTokenSecret.name,
    serviceAccount: serviceAccount.metadata.name,
  };
}

/** Where a variant's weights come from, resolved against the store (when it streams). */
function weightSource(
  v: ModelVariantConfig,
  models: ModelsConfig,
  store: ModelStore | undefined,
  args: ModelServingArgs,
): WeightSource {
  if (v.weightsFrom === "hub") return { kind: "hub", model: v.model, revision: v.revision };
  if (!store) throw new Error(`model ${v.model}: streams from the store, which was not created`);
  return {
    kind: "store",
    uri: store.bucketName.apply((b) => storeModelUri(b, v.model, v.revision)),
    bucket: store.bucketName,
    markerKey: stagedMarkerKey(v.model, v.revision),
    streamer: models.store.streamer,
    region: args.ctx.region,
    stsEndpointAddresses: args.stsEndpointAddresses,
  };
}

/**
 * The four vLLM model servers in llm-baseline and the model cache they share: EFS (multi-AZ) with a
 * ReadWriteMany claim, the HF token (Secrets Manager, synced by ESO) mounted as a file, a service account with
 * no API token and no AWS role, the LoRA adapter sync into the cache, a KEDA ScaledObject per
 * autoscaled variant, and the NetworkPolicies of the namespace's model traffic. Providers (aws,
 * kubernetes) come through `opts.providers`.
 */
export class ModelServing extends pulumi.ComponentResource {
  readonly fileSystemId: pulumi.Output<string>;

  constructor(name: string, args: ModelServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "llmplatform:models:ModelServing",
      name,
      {},
      renamedFrom("llmplatform:ModelServing", opts),
    );
    const reg = args.registry ?? registry;
    const cache = modelCache(name, this, args);
    const identity = modelServerIdentity(name, this, args);
    const variants = variantEntries(args.models);
    const streamed = variants.filter(([, v]) => v.weightsFrom === "store").map(([, v]) => v);
    const store =
      streamed.length > 0
        ? new ModelStore(
            `${name}-store`,
            {
              ctx: args.ctx,
              bucket: args.models.store.bucket,
              models: storedModels(streamed),
              namespace: args.namespace,
              cacheClaim: cache.claimName,
              tokenSecret: identity.tokenSecret,
              user: vllmUser,
            },
            { parent: this },
          )
        : undefined;
    // The vLLM image from ECR in the region when the stack configures the pull-through cache.
    const image = args.models.imageCache
      ? new ImageCache(
          `${name}-image-cache`,
          {
            ctx: args.ctx,
            credentialArn: args.models.imageCache.dockerHubCredentialArn,
            image: images.vllm,
          },
          { parent: this },
        ).image
      : images.vllm;
    const sources = new Set<WeightSource["kind"]>();
    for (const [variant, config] of variants) {
      const design = reg.models[variant];
      if (!design) throw new Error(`model variant ${variant} is not in the registry`);
      const source = weightSource(config, args.models, store, args);
      sources.add(source.kind);
      new ModelServer(
        modelServerName(variant),
        {
          variant,
          design,
          stack: args.ctx.stack,
          image,
          config,
          source,
          ...(args.models.compileCache
            ? { compileCache: compileCacheDir(images.vllm, variant) }
            : {}),
          nodeGroup: variantNodeGroup(args.models, variant),
          cacheClaim: cache.claimName,
          tokenSecret: identity.tokenSecret,
          serviceAccount: source.kind === "store" ? store!.serviceAccount : identity.serviceAccount,
          namespace: args.namespace,
          ...(args.autoscaler ? { autoscaler: args.autoscaler } : {}),
        },
        { parent: this },
      );
    }
    const adapters = adapterServing(reg);
    if (adapters) {
      if (!args.adapterBucket)
        throw new Error(`${name}: ${adapters.variant} needs the adapter bucket`);
      new AdapterSync(
        `${name}-adapter-sync`,
        {
          ctx: args.ctx,
          variant: variantConfig(args.models, adapters.variant),
          bucketName: args.adapterBucket.name,
          bucketArn: args.adapterBucket.arn,
          namespace: args.namespace,
          cacheClaim: cache.claimName,
          user: vllmUser,
        },
        { parent: this },
      );
    }
    createNetworkPolicies(
      modelNamespace,
      args.namespace,
      modelTrafficPolicies(
        args.ctx.vpcCidr,
        { s3Cidrs: args.s3Cidrs, stsEndpointAddresses: args.stsEndpointAddresses },
        sources,
        reg,
      ),
      { parent: this },
    );
    this.fileSystemId = cache.fileSystemId;
    this.registerOutputs({ fileSystemId: this.fileSystemId });
  }
}
