import * as pulumi from "@pulumi/pulumi";
import {
  accessLogDeliveryStatement,
  PrivateBucket,
  type BucketAccessLogTarget,
} from "../lib/aws/privateBucket";
import type { AwsContext } from "../platform/context";
import type { BucketAccessLogsConfig } from "../config/secrets";

export interface BucketAccessLogsArgs {
  /** Name prefix (the log bucket, and the source buckets it accepts logs from), partition, account. */
  readonly ctx: AwsContext;
  readonly config: NonNullable<BucketAccessLogsConfig>;
}

/**
 * The log bucket of the data buckets' S3 server access logs (`llm-platform:bucketAccessLogs`): who
 * read or wrote which object, for audits of the adapters, results and observability stores. SSE-S3
 * (server access logging cannot write into an SSE-KMS bucket), kept `retentionDays`, accepting logs
 * only from this account's buckets of this stack. It does not log itself.
 */
export class BucketAccessLogs extends pulumi.ComponentResource {
  /** What a data bucket logs into. */
  readonly target: BucketAccessLogTarget;

  constructor(name: string, args: BucketAccessLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:foundation:BucketAccessLogs", name, {}, opts);
    const { ctx } = args;
    const bucket = new PrivateBucket(
      `${ctx.namePrefix}-s3-access-logs`,
      {
        encryption: "AES256",
        forceDestroy: ctx.destroyDeletesData,
        expirationDays: args.config.retentionDays,
        statements: (arn) =>
          pulumi
            .all([arn, ctx.partition, ctx.accountId])
            .apply(([a, partition, account]) => [
              accessLogDeliveryStatement(a, partition, account, `${ctx.namePrefix}-`),
            ]),
      },
      { parent: this },
    );
    this.target = { bucket: bucket.bucketName };
    this.registerOutputs({});
  }
}
