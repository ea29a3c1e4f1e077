/**
 * Schemas of the secrets config: how the stack's AWS Secrets Manager secrets are kept and how often
 * the External Secrets Operator re-reads them, and the S3 server access logs of the data buckets.
 */
import { z } from "zod";
import { retention } from "./primitives";

/** Seconds of a duration written `1h30m`, `15m`, `90s` (hours, minutes, seconds, in that order). */
export function durationSeconds(d: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** A Go duration as ESO's `refreshInterval` takes it, above zero (0 would read a secret only once). */
const refreshDuration = z
  .string()
  .refine(
    (d) => (durationSeconds(d) ?? 0) > 0,
    "expected a duration above zero such as 15m, 1h or 1h30m",
  );

export const secretsSchema = z
  .strictObject({
    /**
     * How often the External Secrets Operator re-reads every secret from Secrets Manager: the most a
     * rotation takes to reach the Kubernetes Secrets. Each read is one GetSecretValue call. Default 1h.
     */
    refreshInterval: refreshDuration.default("1h"),
    /**
     * Days a deleted secret can still be restored (7-30), or 0 to delete it at once. Its name stays
     * taken meanwhile, so a stack destroyed and re-created within the window fails to create its
     * secrets: throwaway stacks use 0. Default 30.
     */
    recoveryWindowDays: z
      .number()
      .int()
      .refine((d) => d === 0 || (d >= 7 && d <= 30), "expected 0 (delete at once) or 7 to 30 days")
      .default(30),
  })
  .prefault({});

export type SecretsConfig = z.output<typeof secretsSchema>;

/**
 * S3 server access logs of the data buckets (the services' buckets and the observability stores), to
 * a log bucket of their own kept `retentionDays`. Off when omitted.
 */
export const bucketAccessLogsSchema = z.strictObject({ retentionDays: retention }).optional();

export type BucketAccessLogsConfig = z.output<typeof bucketAccessLogsSchema>;
