import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument, PolicyStatement } from "../../platform/policyDocument";

export interface PrivateBucketArgs {
  /**
   * Whether `pulumi destroy` deletes the bucket with everything in it (every object version and
   * delete marker), or stops at a non-empty bucket so its data is kept until emptied on purpose. The
   * stack's `llm-platform:destroyDeletesData` (AwsContext.destroyDeletesData); required, so no bucket
   * is created without that decision. Takes effect only once a `pulumi up` has stored it.
   */
  readonly forceDestroy: boolean;
  /** Days noncurrent object versions are kept. Default 30. */
  readonly noncurrentVersionDays?: number;
  /** Days current objects are kept (logs). Default: forever. */
  readonly expirationDays?: number;
  /** SSE-KMS with the AWS-managed key (default), or SSE-S3 where a writer supports only that (ALB logs). */
  readonly encryption?: "aws:kms" | "AES256";
  /** Extra bucket policy statements (e.g. a log-delivery grant), given the bucket ARN. Default none. */
  readonly statements?: (bucketArn: pulumi.Input<string>) => pulumi.Input<PolicyStatement[]>;
  /** S3 server access logs into this bucket, under `<bucket name>/`. Default none. */
  readonly accessLogs?: BucketAccessLogTarget;
}

/** Where S3 server access logs go: a log bucket that grants the logging service (see statement). */
export interface BucketAccessLogTarget {
  readonly bucket: pulumi.Input<string>;
}

/**
 * The log bucket's grant to S3 server access logging (AWS S3 user guide, "Enabling Amazon S3 server
 * access logging"): the logging service may put objects, only for source buckets of this account
 * whose names start with `sourcePrefix`.
 */
export function accessLogDeliveryStatement(
  logBucketArn: string,
  partition: string,
  accountId: string,
  sourcePrefix: string,
): PolicyStatement {
  return {
    Sid: "S3ServerAccessLogDelivery",
    Effect: "Allow",
    Principal: { Service: "logging.s3.amazonaws.com" },
    Action: "s3:PutObject",
    Resource: `${logBucketArn}/*`,
    Condition: {
      ArnLike: { "aws:SourceArn": `arn:${partition}:s3:::${sourcePrefix}*` },
      StringEquals: { "aws:SourceAccount": accountId },
    },
  };
}

/** Bucket policy: the extra grants, plus a refusal of any request not made over TLS. */
function bucketPolicy(bucketArn: string, statements: PolicyStatement[] = []): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...statements,
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** The default-encryption rule: SSE-KMS with the AWS-managed key and bucket keys, or SSE-S3. */
function encryptionRule(encryption: "aws:kms" | "AES256") {
  return encryption === "aws:kms"
    ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }
    : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } };
}

/**
 * An S3 bucket nobody outside the account can reach: all public access blocked, ACLs disabled
 * (bucket owner enforced), encrypted (SSE-KMS with bucket keys by default), versioning with noncurrent
 * versions expiring, and TLS required. Access is granted through IAM (IRSA roles) and, where a service
 * must write (log delivery), an explicit bucket policy statement.
 */
export class PrivateBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: PrivateBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:PrivateBucket", name, {}, opts);
    // Physical names are globally unique: a prefix + random suffix (max 37 chars for the prefix).
    const bucket = new aws.s3.Bucket(
      name,
      { bucketPrefix: `${name.slice(0, 36)}-`, forceDestroy: args.forceDestroy },
      { parent: this },
    );
    const locks = blockPublicAccess(name, this, bucket.id);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      { bucket: bucket.id, rules: [encryptionRule(args.encryption ?? "aws:kms")] },
      { parent: this },
    );
    versioning(name, this, bucket.id, args);
    new aws.s3.BucketPolicy(
      name,
      {
        bucket: bucket.id,
        policy: pulumi
          .all([bucket.arn, args.statements?.(bucket.arn) ?? []])
          .apply(([arn, extra]) => JSON.stringify(bucketPolicy(arn, extra))),
      },
      // S3 rejects concurrent bucket-level changes (OperationAborted): apply the policy last.
      { parent: this, dependsOn: locks },
    );

    if (args.accessLogs) {
      new aws.s3.BucketLogging(
        name,
        {
          bucket: bucket.id,
          targetBucket: args.accessLogs.bucket,
          targetPrefix: pulumi.interpolate`${bucket.bucket}/`,
          // Date-partitioned keys, so Athena (or a lifecycle rule) can read one day at a time.
          targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
        },
        { parent: this, dependsOn: locks },
      );
    }

    this.bucketName = bucket.bucket;
    this.arn = bucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }
}

/** Public access blocked and ACLs disabled (bucket owner enforced); returned for ordering. */
function blockPublicAccess(
  name: string,
  parent: pulumi.Resource,
  bucket: pulumi.Input<string>,
): pulumi.Resource[] {
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    name,
    {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    { parent },
  );
  const ownership = new aws.s3.BucketOwnershipControls(
    name,
    { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
    { parent },
  );
  return [publicAccess, ownership];
}

/** Versioning, with noncurrent versions (and, if set, current objects) expiring. */
function versioning(
  name: string,
  parent: pulumi.Resource,
  bucket: pulumi.Input<string>,
  args: Pick<PrivateBucketArgs, "noncurrentVersionDays" | "expirationDays">,
): void {
  const enabled = new aws.s3.BucketVersioning(
    name,
    { bucket, versioningConfiguration: { status: "Enabled" } },
    { parent },
  );
  new aws.s3.BucketLifecycleConfiguration(
    name,
    {
      bucket,
      rules: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 },
          ...(args.expirationDays ? { expiration: { days: args.expirationDays } } : {}),
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    },
    { parent, dependsOn: [enabled] },
  );
}
