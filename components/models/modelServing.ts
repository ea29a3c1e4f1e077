import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ModelCacheFileSystem } from "./modelCacheFileSystem";
import type { PlatformContext } from "../platform/context";
import {
  adapterServing,
  modelCallers,
  modelNamespace,
  modelServerLabel,
  modelServerName,
  partOf,
  registry,
  servicePort,
} from "../platform/registry";
import { type Registry } from "../platform/designs";
import { AdapterSync } from "./adapterSync";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { ModelServer, vllmUser } from "./modelServer";
import { allowHttpsEgress, podsIn, type NetworkPolicyDef } from "../lib/k8s/networkPolicies";
import {
  variantConfig,
  variantEntries,
  variantNodeGroup,
  type ModelsConfig,
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

/**
 * Who may call a model server: its client service, and the gateway unless the variant is
 * client-only (the LoRA server, whose runtime adapter admin endpoints only finetune-api may reach).
 */
function modelClientPolicy(variant: string, reg: Registry): NetworkPolicyDef {
  const app = modelServerName(variant);
  return {
    name: `allow-clients-to-${app}-${servicePort}`,
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: modelCallers(variant, reg).map((c) =>
            podsIn(reg.services[c]!.namespace, { app: c }),
          ),
          ports: [{ protocol: "TCP", port: servicePort }],
        },
      ],
    },
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
      metadata: { name: "model-cache", namespace: args.namespace, labels },
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

/** The namespace's model traffic: each server's callers in, HTTPS out to the Hugging Face Hub. */
function modelTrafficPolicies(vpcCidr: string, reg: Registry): NetworkPolicyDef[] {
  return [
    ...Object.keys(reg.models).map((v) => modelClientPolicy(v, reg)),
    // Model weights come from the Hugging Face Hub (and its CDN) over HTTPS.
    allowHttpsEgress("allow-https-to-hugging-face-hub", { [modelServerLabel]: "true" }, vpcCidr),
  ];
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
    for (const [variant, config] of variantEntries(args.models)) {
      const design = reg.models[variant];
      if (!design) throw new Error(`model variant ${variant} is not in the registry`);
      new ModelServer(
        modelServerName(variant),
        {
          variant,
          design,
          stack: args.ctx.stack,
          image: images.vllm,
          config,
          nodeGroup: variantNodeGroup(args.models, variant),
          cacheClaim: cache.claimName,
          ...identity,
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
      modelTrafficPolicies(args.ctx.vpcCidr, reg),
      { parent: this },
    );
    this.fileSystemId = cache.fileSystemId;
    this.registerOutputs({ fileSystemId: this.fileSystemId });
  }
}
