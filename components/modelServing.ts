import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ModelCacheFileSystem } from "./aws/modelCache";
import type { OidcIdentity } from "./aws/irsa";
import {
  modelCallers,
  modelNamespace,
  modelServerLabel,
  modelServerName,
  partOf,
  serviceDesign,
  servicePort,
} from "./catalog";
import { AdapterSync } from "./k8s/adapterSync";
import { createNetworkPolicies } from "./k8s/namespaces";
import { ModelServer, vllmUser } from "./k8s/modelServer";
import { allowHttpsEgress, podsIn, type NetworkPolicyDef } from "./k8s/networkPolicies";
import {
  modelVariants,
  variantNodeGroup,
  type ModelVariant,
  type ModelsConfig,
} from "./schema/models";
import { images } from "./versions";
import type { Autoscaler } from "./modelAutoscaling";
import { renamedFrom } from "./typeTokens";

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
function modelClientPolicy(variant: ModelVariant): NetworkPolicyDef {
  const app = modelServerName(variant);
  return {
    name: `allow-clients-to-${app}-${servicePort}`,
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: modelCallers(variant).map((c) => podsIn(serviceDesign[c].namespace, { app: c })),
          ports: [{ protocol: "TCP", port: servicePort }],
        },
      ],
    },
  };
}

export interface ModelServingArgs {
  readonly stack: string;
  readonly namePrefix: string;
  readonly region: string;
  readonly oidc: OidcIdentity;
  /** The adapters bucket finetune-api publishes LoRA adapters to (`adapters/<name>/`). */
  readonly adapterBucket: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** KEDA and the Prometheus its scalers query; required when any variant autoscales. */
  readonly autoscaler?: Autoscaler;
  readonly vpcId: pulumi.Input<string>;
  readonly vpcCidr: string;
  readonly privateSubnetIds: pulumi.Input<string[]>;
  readonly availabilityZones: number;
  readonly models: ModelsConfig;
  /** Hugging Face token (secret). Config validation guarantees it when a variant is gated. */
  readonly hfToken?: pulumi.Output<string>;
  /** The llm-baseline namespace (Output, so objects wait for it). */
  readonly namespace: pulumi.Output<string>;
  /** The EFS CSI driver add-on: the cache claim can only bind once it runs. */
  readonly efsDriver: pulumi.Resource;
  readonly provider: k8s.Provider;
}

/**
 * The four vLLM model servers in llm-baseline and the model cache they share: EFS (multi-AZ) with a
 * ReadWriteMany claim, the HF token as a Kubernetes Secret mounted as a file, a service account with
 * no API token and no AWS role, the LoRA adapter sync into the cache, a KEDA ScaledObject per
 * autoscaled variant, and the NetworkPolicies of the namespace's model traffic.
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
    const k = { parent: this, provider: args.provider };
    const labels = { "app.kubernetes.io/part-of": partOf, environment: args.stack };

    const fs = new ModelCacheFileSystem(
      `${args.namePrefix}-models`,
      {
        vpcId: args.vpcId,
        vpcCidr: args.vpcCidr,
        privateSubnetIds: args.privateSubnetIds,
        availabilityZones: args.availabilityZones,
      },
      { parent: this },
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
      k,
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
      { ...k, dependsOn: [args.efsDriver, fs] },
    );

    const tokenSecret = args.hfToken
      ? new k8s.core.v1.Secret(
          `${name}-hf-token`,
          {
            metadata: { name: "hf-token", namespace: args.namespace, labels },
            type: "Opaque",
            stringData: { token: args.hfToken },
          },
          k,
        )
      : undefined;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: { name: "model-server", namespace: args.namespace, labels },
        automountServiceAccountToken: false,
      },
      k,
    );

    for (const variant of modelVariants) {
      const config = args.models.variants[variant];
      new ModelServer(
        `vllm-${variant}`,
        {
          variant,
          stack: args.stack,
          image: images.vllm,
          config,
          nodeGroup: variantNodeGroup(args.models, variant),
          cacheClaim: claim.metadata.name,
          tokenSecret: tokenSecret?.metadata.name ?? "hf-token",
          serviceAccount: serviceAccount.metadata.name,
          namespace: args.namespace,
          ...(args.autoscaler ? { autoscaler: args.autoscaler } : {}),
          provider: args.provider,
        },
        { parent: this },
      );
    }

    new AdapterSync(
      `${name}-adapter-sync`,
      {
        namePrefix: args.namePrefix,
        region: args.region,
        vpcCidr: args.vpcCidr,
        oidc: args.oidc,
        variant: args.models.variants.lora,
        bucketName: args.adapterBucket.name,
        bucketArn: args.adapterBucket.arn,
        namespace: args.namespace,
        cacheClaim: claim.metadata.name,
        user: vllmUser,
        provider: args.provider,
      },
      { parent: this },
    );

    createNetworkPolicies(
      modelNamespace,
      args.namespace,
      [
        ...modelVariants.map(modelClientPolicy),
        // Model weights come from the Hugging Face Hub (and its CDN) over HTTPS.
        allowHttpsEgress(
          "allow-https-to-hugging-face-hub",
          { [modelServerLabel]: "true" },
          args.vpcCidr,
        ),
      ],
      k,
    );

    this.fileSystemId = fs.fileSystemId;
    this.registerOutputs({ fileSystemId: this.fileSystemId });
  }
}
