/**
 * Least-privilege IAM policies of the platform services, as pure functions of plain values.
 */
import type { PolicyDocument, PolicyStatement } from "../../platform/policyDocument";

/** Read (list + get) or read-write (list + get + put) on one bucket's objects. No delete, no bucket admin. */
export function bucketAccessPolicy(
  bucketArn: string,
  access: "read" | "readwrite",
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
      {
        Sid: access === "read" ? "ReadObjects" : "ReadWriteObjects",
        Effect: "Allow",
        Action: access === "read" ? "s3:GetObject" : ["s3:GetObject", "s3:PutObject"],
        Resource: `${bucketArn}/*`,
      },
    ],
  };
}

/**
 * List and read objects under one prefix of a bucket, and nothing else: the adapter sync (`adapters/`)
 * and the model servers (the model store's `models/`). Statement ids name what is read (`noun`). No
 * kms:Decrypt: the buckets are encrypted with the AWS-managed `aws/s3` key, whose key policy lets any
 * principal of the account use it through S3 (kms:ViaService); a customer-managed key would need
 * kms:Decrypt on that key here.
 */
export function prefixReadPolicy(bucketArn: string, prefix: string, noun: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: `List${noun}Prefix`,
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
      },
      {
        Sid: `Read${noun}s`,
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: `${bucketArn}/${prefix}*`,
      },
    ],
  };
}

/**
 * Read and write objects under one prefix of a bucket, and nothing else: no delete, no other prefix.
 * Listing is allowed for requests under the prefix and for requests that carry no prefix at all: S3
 * answers a GET of a missing key with 404 only to a caller allowed to list the bucket (403
 * otherwise), and Argo's optional and directory artifacts depend on that 404. Whether S3 evaluates
 * that implicit check with an `s3:prefix` is not documented, so `IfExists` admits it either way. No
 * kms statement: the bucket uses the AWS-managed `aws/s3` key (see `adapterSyncPolicy`).
 */
export function prefixReadWritePolicy(bucketArn: string, prefix: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLikeIfExists: { "s3:prefix": [`${prefix}/`, `${prefix}/*`] } },
      },
      {
        Sid: "ReadWritePrefix",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject"],
        Resource: `${bucketArn}/${prefix}/*`,
      },
    ],
  };
}

/** The adapter sync's read-only access to the adapters prefix. */
export function adapterSyncPolicy(bucketArn: string, prefix: string): PolicyDocument {
  return prefixReadPolicy(bucketArn, prefix, "Adapter");
}

/**
 * The model staging Job: list and read under the store's prefix (is a model there yet? what does
 * `aws s3 sync` still need to send?), write objects there (multipart uploads included, and aborting
 * its own), and nothing else: no delete, no other prefix, no bucket settings.
 */
export function modelStagingPolicy(bucketArn: string, prefix: string): PolicyDocument {
  const read = prefixReadPolicy(bucketArn, prefix, "Model");
  return {
    Version: "2012-10-17",
    Statement: [
      ...read.Statement,
      {
        Sid: "WriteModels",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: `${bucketArn}/${prefix}*`,
      },
    ],
  };
}

/**
 * The model store's own guard (a bucket policy statement): nobody but the staging role writes an
 * object, whatever their IAM policies allow (an administrator, a CI role with s3:* on *). Reads and
 * deletes stay with IAM; versioning keeps an overwritten object recoverable.
 */
export function onlyWriterStatement(bucketArn: string, writerRoleArn: string): PolicyStatement {
  return {
    Sid: "OnlyTheStagingRoleWrites",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:PutObject",
    Resource: `${bucketArn}/*`,
    Condition: { ArnNotEquals: { "aws:PrincipalArn": writerRoleArn } },
  };
}

/** Full object access (list, get, put, delete) for a store that owns its buckets (Loki, Tempo, Mimir compactors delete). */
export function bucketOwnerPolicy(bucketArns: readonly string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListBuckets", Effect: "Allow", Action: "s3:ListBucket", Resource: [...bucketArns] },
      {
        Sid: "ManageObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: bucketArns.map((arn) => `${arn}/*`),
      },
    ],
  };
}

/** ECR lifecycle: untagged images (superseded pushes, failed builds) expire after 14 days. */
export const ecrLifecyclePolicy = {
  rules: [
    {
      rulePriority: 1,
      description: "Expire untagged images after 14 days",
      selection: {
        tagStatus: "untagged",
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 14,
      },
      action: { type: "expire" },
    },
  ],
};
