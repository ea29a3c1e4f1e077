/**
 * S3 server access logs of the data buckets, where `llm-platform:bucketAccessLogs` asks for them: into
 * one SSE-S3 log bucket with its own retention, which only S3's logging service of this account may
 * write, for this stack's buckets.
 */
import * as assert from "node:assert/strict";
import { accessLogDeliveryStatement } from "../../components/lib/aws/privateBucket";
import { runStack, stackConfig, stacks, testAccountId } from "../../verify/program";

const LOGGING = "aws:s3/bucketLogging:BucketLogging";

describe("bucket access logs: the log bucket's grant", () => {
  it("lets only S3's logging service put objects, for this account's buckets of the stack", () => {
    assert.deepEqual(
      accessLogDeliveryStatement("arn:aws:s3:::logs", "aws", "111122223333", "llm-x-"),
      {
        Sid: "S3ServerAccessLogDelivery",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::logs/*",
        Condition: {
          ArnLike: { "aws:SourceArn": "arn:aws:s3:::llm-x-*" },
          StringEquals: { "aws:SourceAccount": "111122223333" },
        },
      },
    );
  });
});

for (const stack of stacks) {
  describe(`bucket access logs (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;
    const logBucket = `${prefix}-s3-access-logs`;

    it("logs every data bucket (services' buckets, observability stores) exactly when configured", async () => {
      const run = await runStack(stack);
      const config = stackConfig(stack).bucketAccessLogs;
      const logging = run.ofType(LOGGING);
      if (!config) {
        assert.deepEqual(logging, []);
        assert.ok(!run.ofType("aws:s3/bucket:Bucket").some((b) => b.name === logBucket));
        return;
      }
      // Every bucket but the log buckets themselves (S3 access logs, ALB access logs) is a data bucket.
      const dataBuckets = run
        .ofType("aws:s3/bucket:Bucket")
        .map((b) => b.name)
        .filter((n) => n !== logBucket && n !== `${prefix}-alb-logs`);
      assert.ok(dataBuckets.length > 0);
      assert.deepEqual(logging.map((l) => l.name).sort(), dataBuckets.sort());
      for (const l of logging) {
        assert.equal(l.inputs.targetBucket, `${logBucket}-20261123`);
        assert.equal(l.inputs.targetPrefix, `${l.name}-20261123/`);
        assert.deepEqual(l.inputs.targetObjectKeyFormat, {
          partitionedPrefix: { partitionDateSource: "EventTime" },
        });
      }
      // SSE-S3 (the logging service cannot write SSE-KMS), its own retention, the logging grant.
      assert.deepEqual(
        run.get(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          logBucket,
        ).inputs.rules,
        [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      );
      assert.equal(
        run.get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", logBucket)
          .inputs.rules[0].expiration.days,
        config.retentionDays,
      );
      const policy = JSON.parse(
        run.get("aws:s3/bucketPolicy:BucketPolicy", logBucket).inputs.policy,
      );
      assert.deepEqual(
        policy.Statement[0],
        accessLogDeliveryStatement(
          `arn:aws:s3:::${logBucket}-20261123`,
          "aws",
          testAccountId,
          `${prefix}-`,
        ),
      );
    });
  });
}
