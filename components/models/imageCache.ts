/**
 * The vLLM image from the stack's own region: an ECR pull-through cache of Docker Hub. The first node
 * to pull the tag makes ECR fetch it from Docker Hub; every later pull is served by ECR in the region
 * (its layers from S3, through the VPC's gateway endpoint), so GPU nodes no longer depend on Docker
 * Hub's availability and pull limits, and the image's bytes stop crossing the NAT gateways.
 *
 * The cached image is Docker Hub's, byte for byte: the same manifest and layer digests, so pinning a
 * digest later (`vllm/vllm-openai@sha256:...`) stays meaningful. One caveat (ECR user guide, pull-through
 * cache, 2026): a first pull by digest alone does not populate the cache, which is why the platform pulls
 * by its pinned tag. Docker Hub upstreams require credentials: a Secrets Manager secret whose name
 * starts with `ecr-pullthroughcache/` (keys `username`, `accessToken`) that the operator creates once
 * (docs/operations.md); the stack only names it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ecrLifecyclePolicy } from "../lib/aws/bucketPolicies";
import type { PlatformContext } from "../platform/context";
import type { PolicyDocument } from "../platform/policyDocument";
import { nodeRoleName } from "../platform/scheduling";

/** Docker Hub's registry, as ECR's pull-through cache names it. */
export const dockerHubRegistry = "registry-1.docker.io";

/** A Docker Hub reference split into its repository (official images live under `library/`) and tag. */
export function dockerHubImage(image: string): { repository: string; tag: string } {
  const m = /^([a-z0-9][a-z0-9._/-]*):([\w][\w.-]{0,127})$/.exec(image);
  if (!m) throw new Error(`expected a Docker Hub image with a tag, got ${image}`);
  const repository = m[1]!.includes("/") ? m[1]! : `library/${m[1]}`;
  return { repository, tag: m[2]! };
}

/** The cache's repository prefix: one per stack (a registry holds one rule per prefix). */
export function cachePrefix(namePrefix: string): string {
  return `${namePrefix}-hub`;
}

/**
 * The cached repository's policy: the nodes' role may pull from it and make ECR import the upstream
 * image into it (`ecr:BatchImportUpstreamImage`), nothing else. The repository exists before the
 * first pull (this program creates it), so nobody needs `ecr:CreateRepository`.
 */
export function cachedImagePullPolicy(nodeRoleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "NodesPullThroughTheCache",
        Effect: "Allow",
        Principal: { AWS: nodeRoleArn },
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"],
      },
    ],
  };
}

export interface ImageCacheArgs {
  /** Name prefix (rule prefix), region and account (the image reference), cluster (the node role). */
  readonly ctx: PlatformContext;
  /** The Docker Hub credential's Secrets Manager ARN (`models.imageCache.dockerHubCredentialArn`). */
  readonly credentialArn: string;
  /** The pinned Docker Hub image, e.g. `vllm/vllm-openai:v0.29.0`. */
  readonly image: string;
}

/** The pull-through cache rule, the cached image's repository and its policy; `image` to pull. */
export class ImageCache extends pulumi.ComponentResource {
  /** The same image, from ECR in the stack's region. */
  readonly image: pulumi.Output<string>;

  constructor(name: string, args: ImageCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:models:ImageCache", name, {}, opts);
    const prefix = cachePrefix(args.ctx.namePrefix);
    const { repository, tag } = dockerHubImage(args.image);
    const rule = new aws.ecr.PullThroughCacheRule(
      name,
      {
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: dockerHubRegistry,
        credentialArn: args.credentialArn,
      },
      { parent: this },
    );
    const repo = new aws.ecr.Repository(
      `${name}-${repository.replace(/\//g, "-")}`,
      {
        name: `${prefix}/${repository}`,
        // The cache refreshes a tag from upstream: tags must stay mutable here.
        imageTagMutability: "MUTABLE",
        encryptionConfigurations: [{ encryptionType: "KMS" }],
        // Once a node has pulled through the cache the repository holds the image, and ECR refuses
        // to delete a repository that holds images: like every repository, emptied on destroy
        // exactly when `llm-platform:destroyDeletesData` says so (on in dev, off in prod).
        forceDelete: args.ctx.destroyDeletesData,
      },
      { parent: this },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-${repository.replace(/\//g, "-")}`,
      { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy) },
      { parent: this },
    );
    const nodeRole = pulumi.interpolate`arn:${args.ctx.partition}:iam::${args.ctx.accountId}:role/${nodeRoleName(args.ctx.clusterName)}`;
    const policy = new aws.ecr.RepositoryPolicy(
      `${name}-${repository.replace(/\//g, "-")}`,
      {
        repository: repo.name,
        policy: nodeRole.apply((arn) => JSON.stringify(cachedImagePullPolicy(arn))),
      },
      { parent: this },
    );
    this.image = pulumi
      .all([repo.repositoryUrl, rule.id, policy.id])
      .apply(([url]) => `${url}:${tag}`);
    this.registerOutputs({ image: this.image });
  }
}
