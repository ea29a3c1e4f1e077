/**
 * The platform's model store: a private bucket holding each registry model at its pinned revision,
 * filled by one staging Job per model and revision, read by the model servers that stream from it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IrsaRole } from "../lib/aws/irsaRole";
import { PrivateBucket } from "../lib/aws/privateBucket";
import {
  modelStagingPolicy,
  onlyWriterStatement,
  prefixReadPolicy,
} from "../lib/aws/bucketPolicies";
import { allowHttpsEgress, createNetworkPolicies } from "../lib/k8s/networkPolicies";
import type { PlatformContext } from "../platform/context";
import type { PolicyDocument } from "../platform/policyDocument";
import { modelNamespace, partOf } from "../platform/registry";
import { stagingApp, stagingJobSpec, stagingScripts } from "./modelStaging";
import { stagingJobName, storePrefix } from "./modelStoreLayout";

/** A model at a pinned revision, as the store holds it. */
export interface StoredModel {
  readonly model: string;
  readonly revision: string;
  /** Staging needs the HF token. */
  readonly gated: boolean;
}

/**
 * The distinct models and revisions the `store` variants serve (two variants of one model and
 * revision share one copy); gated if any of them says so. In first-seen order.
 */
export function storedModels(
  variants: readonly { model: string; revision: string; gated: boolean }[],
): StoredModel[] {
  const byKey = new Map<string, StoredModel>();
  for (const v of variants) {
    const key = `${v.model}@${v.revision}`;
    const seen = byKey.get(key);
    byKey.set(key, { model: v.model, revision: v.revision, gated: v.gated || !!seen?.gated });
  }
  return [...byKey.values()];
}

const storeLabels = (stack: string) => ({
  "app.kubernetes.io/part-of": partOf,
  environment: stack,
});

/** An IRSA role with one inline policy on the store, and the service account that assumes it. */
function storeIdentity(
  name: string,
  parent: pulumi.Resource,
  args: ModelStoreArgs,
  p: {
    serviceAccount: string;
    roleName: string;
    policy: string;
    document: pulumi.Input<PolicyDocument>;
  },
): { role: IrsaRole; serviceAccount: pulumi.Output<string> } {
  const role = new IrsaRole(
    name,
    {
      oidc: args.ctx.oidc,
      namespace: modelNamespace,
      serviceAccount: p.serviceAccount,
      roleName: p.roleName,
      inlinePolicies: { [p.policy]: p.document },
    },
    { parent },
  );
  const sa = new k8s.core.v1.ServiceAccount(
    `${name}-sa`,
    {
      metadata: {
        name: p.serviceAccount,
        namespace: args.namespace,
        labels: storeLabels(args.ctx.stack),
        annotations: { "eks.amazonaws.com/role-arn": role.roleArn },
      },
      automountServiceAccountToken: false,
    },
    { parent },
  );
  return { role, serviceAccount: sa.metadata.name };
}

/** The service account of the model servers that stream from the store (read-only IRSA role). */
export const streamerServiceAccount = "model-streamer";

export interface ModelStoreArgs {
  /** Name prefix (bucket, role names), region, OIDC provider (IRSA) and VPC CIDR (egress policy). */
  readonly ctx: PlatformContext;
  /** The bucket key (`models.store.bucket`): the bucket is `<namePrefix>-<bucket>`. */
  readonly bucket: string;
  readonly models: readonly StoredModel[];
  readonly namespace: pulumi.Output<string>;
  /** The shared cache, where the staging Job downloads before uploading. */
  readonly cacheClaim: pulumi.Input<string>;
  /** Name of the Secret holding the HF token (`token`), mounted for gated models only. */
  readonly tokenSecret: pulumi.Input<string>;
  readonly user: { uid: number; gid: number };
}

/**
 * The store: its bucket (private, SSE-KMS, versioned, TLS only, and writable by the staging role
 * alone), the staging role and service account (write only under `models/`), the streamers' role
 * and service account (read only under `models/`), one staging Job per model and revision, and HTTPS
 * egress for the staging pods (the Hub, S3, STS). Staging is never on `pulumi up`'s path: the Jobs
 * are not awaited, and each skips the work when its model's marker is in the store already.
 */
export class ModelStore extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  /** The service account model servers stream as. */
  readonly serviceAccount: pulumi.Output<string>;

  constructor(name: string, args: ModelStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:models:ModelStore", name, {}, opts);
    const labels = storeLabels(args.ctx.stack);
    // The bucket policy names the staging role by its ARN, which its fixed name determines: the role
    // itself needs the bucket's ARN for its policy, so neither waits for the other.
    const stagerRoleName = `${args.ctx.namePrefix}-model-stage-irsa`;
    const stagerArn = pulumi.interpolate`arn:${args.ctx.partition}:iam::${args.ctx.accountId}:role/${stagerRoleName}`;
    const bucket = new PrivateBucket(
      `${args.ctx.namePrefix}-${args.bucket}`,
      {
        forceDestroy: args.ctx.destroyDeletesData,
        ...(args.ctx.dataBucketAccessLogs ? { accessLogs: args.ctx.dataBucketAccessLogs } : {}),
        statements: (arn) =>
          pulumi.all([arn, stagerArn]).apply(([b, r]) => [onlyWriterStatement(b, r)]),
      },
      { parent: this },
    );
    const stager = storeIdentity(`${name}-stage`, this, args, {
      serviceAccount: stagingApp,
      roleName: stagerRoleName,
      policy: "models-stage",
      document: bucket.arn.apply((arn) => modelStagingPolicy(arn, storePrefix)),
    });
    const streamer = storeIdentity(`${name}-streamer`, this, args, {
      serviceAccount: streamerServiceAccount,
      roleName: `${args.ctx.namePrefix}-model-streamer-irsa`,
      policy: "models-read",
      document: bucket.arn.apply((arn) => prefixReadPolicy(arn, storePrefix, "Model")),
    });
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-stage-scripts`,
      {
        metadata: { name: `${stagingApp}-scripts`, namespace: args.namespace, labels },
        data: stagingScripts(),
      },
      { parent: this },
    );
    for (const m of args.models) {
      const jobName = stagingJobName(m.model, m.revision);
      new k8s.batch.v1.Job(
        `${name}-${jobName}`,
        {
          metadata: {
            name: jobName,
            namespace: args.namespace,
            labels: { ...labels, app: stagingApp },
            annotations: {
              // Staging (minutes, GiB) is never on `pulumi up`'s path.
              "pulumi.com/skipAwait": "true",
              "llmplatform.io/model": m.model,
              "llmplatform.io/revision": m.revision,
            },
          },
          spec: stagingJobSpec({
            ...m,
            bucket: bucket.bucketName,
            region: args.ctx.region,
            serviceAccount: stager.serviceAccount,
            cacheClaim: args.cacheClaim,
            scriptsConfigMap: scripts.metadata.name,
            tokenSecret: args.tokenSecret,
            user: args.user,
          }),
        },
        // The write policy must be in place before the first upload; a Job's pod template cannot be
        // changed in place, and its name is fixed per model and revision: replace it delete-first.
        { parent: this, dependsOn: [stager.role], deleteBeforeReplace: true },
      );
    }
    createNetworkPolicies(
      modelNamespace,
      args.namespace,
      [allowHttpsEgress("allow-model-stage-https", { app: stagingApp }, args.ctx.vpcCidr)],
      { parent: this },
    );
    this.bucketName = bucket.bucketName;
    this.serviceAccount = streamer.serviceAccount;
    this.registerOutputs({ bucketName: this.bucketName, serviceAccount: this.serviceAccount });
  }
}
