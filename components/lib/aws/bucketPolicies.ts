/**
 * Least-privilege IAM policies of the platform services, as pure functions of plain values.
 */
import type { PolicyDocument } from "../../platform/policyDocument";

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
 * The model cache's adapter sync: list and read objects under one prefix of the adapters bucket, and
 * nothing else. No kms:Decrypt: the bucket is encrypted with the AWS-managed `aws/s3` key, whose key
 * policy lets any principal of the account use it through S3 (kms:ViaService); a customer-managed
 * key would need kms:Decrypt on that key here.
 */
export function adapterSyncPolicy(bucketArn: string, prefix: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListAdapterPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
      },
      {
        Sid: "ReadAdapters",
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
