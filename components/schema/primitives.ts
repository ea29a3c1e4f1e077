/**
 * Small zod schemas and pure checks shared by the per-concern config schemas.
 */
import { z } from "zod";

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const logRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Parses `a.b.c.d/n` into its integer address and prefix length, or undefined. */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  if (base % hostBits !== 0) return undefined; // host bits set: 10.0.0.1/16 is not a network
  return { base, prefix };
}

export const cidr = z
  .string()
  .refine((v) => parseCidr(v) !== undefined, "expected an IPv4 network in CIDR form, e.g. 10.0.0.0/16");

export const dnsLabel = (max: number) =>
  z
    .string()
    .max(max, `expected at most ${max} characters`)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "expected lowercase letters, digits and '-', starting with a letter");

export const retention = z
  .number()
  .int()
  .refine((d) => (logRetentionDays as readonly number[]).includes(d), {
    message: `expected a CloudWatch retention in days: one of ${logRetentionDays.join(", ")}`,
  });

export const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "expected an EC2 instance type such as m6i.xlarge");

export const count = z.number().int().min(0);

export const regionPattern = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/** Indexes of entries that repeat an earlier entry. */
export function duplicates(values: readonly string[]): number[] {
  return values.flatMap((v, i) => (values.indexOf(v) !== i ? [i] : []));
}

