/**
 * Small zod schemas and pure checks shared by the per-concern config schemas.
 */
import { z } from "zod";

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
const logRetentionDays = [
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
  .refine(
    (v) => parseCidr(v) !== undefined,
    "expected an IPv4 network in CIDR form, e.g. 10.0.0.0/16",
  );

export const dnsLabel = (max: number) =>
  z
    .string()
    .max(max, `expected at most ${max} characters`)
    .regex(
      /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
      "expected lowercase letters, digits and '-', starting with a letter",
    );

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

/** Indexes of entries that repeat an earlier entry. */
export function duplicates(values: readonly string[]): number[] {
  return values.flatMap((v, i) => (values.indexOf(v) !== i ? [i] : []));
}

/** CPU quantity in millicores: "500m" -> 500, "2" -> 2000, "0.5" -> 500; undefined if malformed. */
export function cpuMillis(q: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
}

const memoryUnits: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Memory quantity in bytes: "512Mi", "1Gi", "1G", "1000"; undefined if malformed. */
export function memoryBytes(q: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) return undefined;
  return Number(m[1]) * memoryUnits[m[2] ?? ""]!;
}

/** A CPU quantity; YAML numbers (`2`) are accepted and kept as Kubernetes strings ("2"). */
export const cpuQuantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((v) => cpuMillis(v) !== undefined, "expected a CPU quantity such as 500m or 2");

/** A memory quantity such as 512Mi or 4Gi. */
export const memoryQuantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((v) => memoryBytes(v) !== undefined, "expected a memory quantity such as 512Mi or 4Gi");

/** A CPU + memory pair. */
export const cpuMemory = z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity });
export type CpuMemory = z.output<typeof cpuMemory>;

/** True when a <= b for both CPU and memory. */
export function fitsWithin(a: CpuMemory, b: CpuMemory): boolean {
  return cpuMillis(a.cpu)! <= cpuMillis(b.cpu)! && memoryBytes(a.memory)! <= memoryBytes(b.memory)!;
}
