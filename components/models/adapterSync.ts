/**
 * LoRA adapter delivery: a CronJob copies the configured adapters from the adapters bucket into the
 * shared model cache, validates each against the served base model and rank, and only then publishes
 * it where vLLM's filesystem resolver looks (`/models/adapters/<name>`). A new adapter becomes
 * servable without restarting the model server: the resolver loads it by name on its first request.
 */
import * as fs from "node:fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IrsaRole } from "../lib/aws/irsaRole";
import type { PlatformContext } from "../platform/context";
import { adapterSyncPolicy } from "../lib/aws/bucketPolicies";
import { modelNamespace, partOf } from "../platform/registry";
import type { ModelVariantConfig } from "../config/models";
import { images } from "../platform/versions";
import { sourceFile } from "../platform/sourceFiles";
import { allowHttpsEgress, createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { cacheWriterPod } from "./podParts";
import { adaptersDir, modelCacheMount } from "../platform/modelCacheLayout";

/** Where adapters live: in the bucket, in the cache (mirror = last download), and where vLLM reads them. */
const adapterPaths = {
  /** Key prefix in the adapters bucket: `adapters/<name>/adapter_config.json`, `adapter_model.safetensors`. */
  bucketPrefix: "adapters/",
  /** Last downloaded copy of each adapter (outside the resolver directory: vLLM never reads it). */
  mirror: `${modelCacheMount}/.adapter-sync/mirror`,
  /** vLLM's resolver directory (VLLM_LORA_RESOLVER_CACHE_DIR). */
  served: adaptersDir,
  scripts: "/scripts",
};

/** The app label of the sync pods (NetworkPolicies select it). */
const adapterSyncApp = "adapter-sync";

/** Download step (AWS CLI image): mirror each configured adapter's prefix; nothing else is read. */
const adapterDownloadScript = [
  "#!/bin/bash",
  "set -euo pipefail",
  'IFS="," read -r -a names <<< "$ADAPTERS"',
  'for name in "${names[@]}"; do',
  '  mkdir -p "$MIRROR_DIR/$name"',
  '  aws s3 sync --only-show-errors --delete "s3://$ADAPTER_BUCKET/$ADAPTER_PREFIX$name/" "$MIRROR_DIR/$name/"',
  "done",
  "",
].join("\n");

/**
 * Validate-and-publish step: ./adapterPublish.mts, shipped as written (the Node.js image strips its
 * types), read from the source tree so the tests exercise the deployed bytes.
 */
export function adapterPublishProgram(): string {
  return fs.readFileSync(sourceFile("components/models/adapterPublish.mts"), "utf8");
}

/** Environment of both sync steps: which adapters, from where, validated against what. */
function adapterSyncEnv(p: {
  lora: NonNullable<ModelVariantConfig["lora"]>;
  baseModel: string;
  bucket: pulumi.Input<string>;
  region: string;
}): Record<string, pulumi.Input<string>> {
  return {
    ADAPTERS: p.lora.adapters.join(","),
    ADAPTER_BUCKET: p.bucket,
    ADAPTER_PREFIX: adapterPaths.bucketPrefix,
    MIRROR_DIR: adapterPaths.mirror,
    ADAPTERS_DIR: adapterPaths.served,
    BASE_MODEL: p.baseModel,
    MAX_LORA_RANK: String(p.lora.maxLoraRank),
    AWS_REGION: p.region,
    // Read-only root filesystem: the AWS CLI keeps its cache under HOME, an emptyDir.
    HOME: "/tmp",
  };
}

interface AdapterSyncJobParams {
  readonly schedule: string;
  readonly env: Record<string, pulumi.Input<string>>;
  readonly serviceAccount: pulumi.Input<string>;
  readonly cacheClaim: pulumi.Input<string>;
  readonly scriptsConfigMap: pulumi.Input<string>;
  /** UID/GID the cache's EFS access point assigns (the vLLM user), so published files match. */
  readonly user: { uid: number; gid: number };
}

/**
 * The CronJob spec: download (AWS CLI, IRSA) as an init container, then validate-and-publish (Node.js)
 * as the main container, both as the cache's owner under Pod Security `restricted`, on CPU nodes. One
 * run at a time; a run that hangs is stopped after 10 minutes.
 */
function adapterSyncCronJobSpec(p: AdapterSyncJobParams): k8s.types.input.batch.v1.CronJobSpec {
  const env = Object.entries(p.env).map(([name, value]) => ({ name, value }));
  const mounts = [
    { name: "model-cache", mountPath: modelCacheMount },
    { name: "tmp", mountPath: "/tmp" },
    { name: "scripts", mountPath: adapterPaths.scripts, readOnly: true },
  ];
  const resources = {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "1", memory: "512Mi" },
  };
  const step = (name: string, image: string, command: string[]) => ({
    name,
    image,
    imagePullPolicy: "IfNotPresent",
    command,
    env,
    resources,
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: mounts,
  });
  return {
    schedule: p.schedule,
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: 300,
    successfulJobsHistoryLimit: 1,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      spec: {
        backoffLimit: 1,
        activeDeadlineSeconds: 600,
        template: cacheWriterPod({
          app: adapterSyncApp,
          serviceAccount: p.serviceAccount,
          user: p.user,
          initContainers: [
            step("download", images.awsCli, ["/bin/bash", `${adapterPaths.scripts}/download.sh`]),
          ],
          containers: [
            step("validate-and-publish", images.node, [
              "node",
              `${adapterPaths.scripts}/publish.mts`,
            ]),
          ],
          volumes: [
            { name: "model-cache", persistentVolumeClaim: { claimName: p.cacheClaim } },
            { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
            { name: "scripts", configMap: { name: p.scriptsConfigMap, defaultMode: 0o444 } },
          ],
        }),
      },
    },
  };
}

export interface AdapterSyncArgs {
  /** Name prefix (role name), region, OIDC provider (IRSA) and VPC CIDR (egress policy). */
  readonly ctx: PlatformContext;
  /** The LoRA variant: its adapters, rank limit and served base model. */
  readonly variant: ModelVariantConfig;
  readonly bucketName: pulumi.Input<string>;
  readonly bucketArn: pulumi.Input<string>;
  readonly namespace: pulumi.Output<string>;
  readonly cacheClaim: pulumi.Input<string>;
  readonly user: { uid: number; gid: number };
}

const adapterSyncLabels = { app: adapterSyncApp, "app.kubernetes.io/part-of": partOf };

/** The sync's read-only IRSA role (the bucket's `adapters/` prefix) and its service account. */
function adapterSyncIdentity(name: string, parent: pulumi.Resource, args: AdapterSyncArgs) {
  const role = new IrsaRole(
    name,
    {
      oidc: args.ctx.oidc,
      namespace: modelNamespace,
      serviceAccount: adapterSyncApp,
      roleName: `${args.ctx.namePrefix}-adapter-sync-irsa`,
      inlinePolicies: {
        "adapters-read": pulumi
          .output(args.bucketArn)
          .apply((arn) => adapterSyncPolicy(arn, adapterPaths.bucketPrefix)),
      },
    },
    { parent },
  );
  const sa = new k8s.core.v1.ServiceAccount(
    `${name}-sa`,
    {
      metadata: {
        name: adapterSyncApp,
        namespace: args.namespace,
        labels: adapterSyncLabels,
        annotations: { "eks.amazonaws.com/role-arn": role.roleArn },
      },
      automountServiceAccountToken: false,
    },
    { parent },
  );
  return { role, serviceAccount: sa.metadata.name };
}

/** The sync's scripts (ConfigMap) and the CronJob running them. */
function adapterSyncJob(
  name: string,
  parent: pulumi.Resource,
  args: AdapterSyncArgs,
  lora: NonNullable<ModelVariantConfig["lora"]>,
  identity: { role: IrsaRole; serviceAccount: pulumi.Output<string> },
) {
  const labels = adapterSyncLabels;
  const scripts = new k8s.core.v1.ConfigMap(
    `${name}-scripts`,
    {
      metadata: { name: `${adapterSyncApp}-scripts`, namespace: args.namespace, labels },
      data: { "download.sh": adapterDownloadScript, "publish.mts": adapterPublishProgram() },
    },
    { parent },
  );
  new k8s.batch.v1.CronJob(
    name,
    {
      metadata: { name: adapterSyncApp, namespace: args.namespace, labels },
      spec: adapterSyncCronJobSpec({
        schedule: lora.syncSchedule,
        env: adapterSyncEnv({
          lora,
          baseModel: args.variant.model,
          bucket: args.bucketName,
          region: args.ctx.region,
        }),
        serviceAccount: identity.serviceAccount,
        cacheClaim: args.cacheClaim,
        scriptsConfigMap: scripts.metadata.name,
        user: args.user,
      }),
    },
    // The role's policy must exist before the first run calls S3.
    { parent, dependsOn: [identity.role] },
  );
}

/**
 * The adapter sync: a read-only IRSA role scoped to the bucket's `adapters/` prefix, its service
 * account, the scripts, the CronJob, and HTTPS egress to S3/STS for its pods only.
 */
export class AdapterSync extends pulumi.ComponentResource {
  constructor(name: string, args: AdapterSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:k8s:AdapterSync", name, {}, opts);
    const lora = args.variant.lora;
    if (!lora) throw new Error("AdapterSync needs the LoRA variant's `lora` settings");
    const identity = adapterSyncIdentity(name, this, args);
    adapterSyncJob(name, this, args, lora, identity);
    createNetworkPolicies(
      modelNamespace,
      args.namespace,
      [
        allowHttpsEgress(
          "allow-adapter-sync-https-to-aws",
          { app: adapterSyncApp },
          args.ctx.vpcCidr,
        ),
      ],
      { parent: this },
    );
    this.registerOutputs({});
  }
}
