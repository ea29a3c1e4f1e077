/**
 * What `pulumi preview` checks in the account before the program registers anything that costs money:
 * that each node group's instance types are offered in the region, and that the account's EC2 vCPU
 * Service Quotas can hold the groups. A new account has 0 vCPUs of G/VT (and P) quota: without this
 * check `pulumi up` succeeds, the cluster autoscaler can never add a GPU node and every model server
 * stays Pending with no explanation.
 *
 * Where it runs: index.ts awaits `runPreflight` right after creating the AWS provider (which costs
 * nothing) and before registering any other resource. A failed check throws a `pulumi.RunError`: the
 * preview ends with `error: <the message>` (no stack trace) and `pulumi up` stops at its preview; under
 * `pulumi up --skip-preview` nothing else has been registered yet either. Warnings go to the preview's
 * diagnostics. It uses the Promise forms of the invokes (getServiceQuota, getInstanceTypeOfferings),
 * not their Output forms, for both reasons: the program can await them before registering anything,
 * and a refused call (no `servicequotas:GetServiceQuota`) can be caught and explained, which a rejected
 * Output cannot.
 *
 * The decisions (which quota, how many vCPUs, what the message says) are pure functions below.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CpuNodeGroupConfig, GpuNodeGroupConfig } from "../config/platformConfig";
import { instanceShapes } from "../platform/instanceTypes";
import { vcpuQuotas, type VcpuQuota } from "../platform/serviceQuotas";
import { cpuNodeGroupSpec, gpuNodeGroupSpec, type NodeGroupSpec } from "./nodeGroupSpecs";

/** The config keys that turn each check off. */
export const preflightKeys = {
  serviceQuotas: "llm-platform:nodeGroups.preflight.serviceQuotas",
  instanceTypeOfferings: "llm-platform:nodeGroups.preflight.instanceTypeOfferings",
} as const;

/**
 * The command that turns a check off: `--path`, because the switch is a field of the
 * `llm-platform:nodeGroups` object (without it, `pulumi config set` would store a new top-level key
 * named `nodeGroups.preflight...`, which the program refuses as unknown); quoted for the shell.
 */
export function skipCheckCommand(key: string): string {
  return `pulumi config set --path '${key}' false`;
}

/** What the checks found: errors stop the deployment, warnings are printed. */
export interface PreflightFindings {
  readonly errors: string[];
  readonly warnings: string[];
}

/** The node groups as EKS will create them (CPU first), from the validated config. */
export function nodeGroupSpecs(groups: {
  readonly cpu: CpuNodeGroupConfig;
  readonly gpu: readonly GpuNodeGroupConfig[];
}): NodeGroupSpec[] {
  return [cpuNodeGroupSpec(groups.cpu), ...groups.gpu.map(gpuNodeGroupSpec)];
}

/** One node group's draw on a vCPU quota. */
export interface QuotaDraw {
  readonly group: string;
  readonly capacityType: NodeGroupSpec["capacityType"];
  readonly instanceTypes: readonly string[];
  readonly vcpuPerNode: number;
  /** Nodes the group needs first: its desired size at creation, at least one (the first model pod). */
  readonly firstNodes: number;
  readonly maxSize: number;
}

/** A vCPU quota and the groups that draw on it. */
export interface QuotaNeed {
  readonly quota: VcpuQuota;
  readonly draws: readonly QuotaDraw[];
  /** vCPUs for every group's first nodes. */
  readonly first: number;
  /** vCPUs for every group at its maxSize. */
  readonly max: number;
}

/**
 * The vCPU quotas the node groups draw on, by quota code. A group counts against the quota of each of
 * its types' families for its purchase option, at its largest type's vCPUs (the autoscaler may launch
 * any of them); groups on the same quota add up, since the quota is per account and region.
 */
export function quotaNeeds(specs: readonly NodeGroupSpec[]): QuotaNeed[] {
  const byCode = new Map<string, { quota: VcpuQuota; draws: QuotaDraw[] }>();
  for (const s of specs) {
    const shapes = s.instanceTypes.map((t) => {
      const shape = instanceShapes[t];
      // Config validation accepts only listed types; reaching this is a programming error.
      if (!shape) throw new Error(`no instance shape for ${t}`);
      return shape;
    });
    const draw: QuotaDraw = {
      group: s.key,
      capacityType: s.capacityType,
      instanceTypes: s.instanceTypes,
      vcpuPerNode: Math.max(...shapes.map((x) => x.vcpu)),
      firstNodes: Math.max(1, s.desiredSize),
      maxSize: s.maxSize,
    };
    for (const quota of new Set(shapes.map((x) => vcpuQuotas[x.quotaGroup][s.capacityType]))) {
      const need = byCode.get(quota.code) ?? { quota, draws: [] };
      need.draws.push(draw);
      byCode.set(quota.code, need);
    }
  }
  return [...byCode.values()].map(({ quota, draws }) => ({
    quota,
    draws,
    first: draws.reduce((n, d) => n + d.firstNodes * d.vcpuPerNode, 0),
    max: draws.reduce((n, d) => n + d.maxSize * d.vcpuPerNode, 0),
  }));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `node group inference (SPOT g5.xlarge/g6.xlarge, 4 vCPUs a node) needs 4 vCPUs for one node and 16 for its maxSize 4`. */
function describeDraw(d: QuotaDraw): string {
  const start = d.firstNodes === 1 ? "one node" : `the ${d.firstNodes} nodes it starts with`;
  return (
    `node group ${d.group} (${d.capacityType} ${d.instanceTypes.join("/")}, ${plural(d.vcpuPerNode, "vCPU")} a node) ` +
    `needs ${plural(d.firstNodes * d.vcpuPerNode, "vCPU")} for ${start} and ${d.maxSize * d.vcpuPerNode} for its maxSize ${d.maxSize}`
  );
}

/** The AWS CLI command that asks for a quota of `value` vCPUs. */
export function quotaIncreaseCommand(quota: VcpuQuota, value: number, region: string): string {
  return `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quota.code} --desired-value ${value} --region ${region}`;
}

/**
 * Errors where a quota cannot hold even the groups' first nodes (a CPU group could not be created, a
 * GPU group could never get a node), warnings where it cannot hold their maxSize (scale-out stops
 * short). A quota is the account's limit, not what is free: other instances in the region count too.
 */
export function quotaFindings(
  needs: readonly QuotaNeed[],
  values: Readonly<Record<string, number>>,
  region: string,
): PreflightFindings {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const n of needs) {
    const value = values[n.quota.code];
    if (value === undefined) throw new Error(`quota ${n.quota.code} was not read`);
    if (value >= n.max) continue;
    const what =
      `EC2 quota ${n.quota.code} "${n.quota.name}" in ${region} is ${plural(value, "vCPU")}; ` +
      `${n.draws.map(describeDraw).join("; ")}`;
    const ask = `request ${n.max}: ${quotaIncreaseCommand(n.quota, n.max, region)}`;
    if (value < n.first) {
      errors.push(
        `${what}. Ask AWS before deploying (approval can take a day), ${ask}. ` +
          `To deploy without this check, e.g. without servicequotas:GetServiceQuota: ${skipCheckCommand(preflightKeys.serviceQuotas)}`,
      );
    } else {
      warnings.push(
        `${what}. It covers ${value} of the ${n.max} vCPUs at maxSize (less if other instances in the ` +
          `region use it), so scale-out stops short; ${ask}`,
      );
    }
  }
  return { errors, warnings };
}

/**
 * Errors for node groups with instance types the region does not offer (EC2 DescribeInstanceTypeOfferings
 * is the maintained source: no offline table tracks per-region availability), naming what to remove.
 * `specs` in `nodeGroupSpecs` order (CPU first, then the GPU groups as configured), so each error can
 * name its config key.
 */
export function offeringFindings(
  specs: readonly NodeGroupSpec[],
  offered: ReadonlySet<string>,
  region: string,
): PreflightFindings {
  const errors = specs.flatMap((s, i) => {
    const missing = s.instanceTypes.filter((t) => !offered.has(t));
    if (missing.length === 0) return [];
    const key =
      s.key === "cpu"
        ? "llm-platform:nodeGroups.cpu.instanceTypes"
        : `llm-platform:nodeGroups.gpu[${i - 1}].instanceTypes`;
    const keep = s.instanceTypes.filter((t) => offered.has(t));
    return [
      `${key}: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not offered in ${region}; ` +
        (keep.length
          ? `remove ${missing.length === 1 ? "it" : "them"} (${keep.join(", ")} ${keep.length === 1 ? "is" : "are"} offered)`
          : "choose types the region offers: aws ec2 describe-instance-type-offerings --region " +
            region) +
        `. To deploy without this check: ${skipCheckCommand(preflightKeys.instanceTypeOfferings)}`,
    ];
  });
  return { errors, warnings: [] };
}

/** Which checks run (`nodeGroups.preflight`). */
export interface PreflightSwitches {
  readonly serviceQuotas: boolean;
  readonly instanceTypeOfferings: boolean;
}

/** A refused or failed read, explained: which permission it needs and how to skip the check. */
function unreadable(what: string, permissions: string, key: string, e: unknown): string {
  const why = (e instanceof Error ? e.message : String(e)).split("\n")[0] || "no detail given";
  return `preflight could not read ${what} (${why}); grant ${permissions} to the identity running pulumi, or skip the check: ${skipCheckCommand(key)}`;
}

/**
 * Reads the account's quotas and the region's offerings for the node groups (in parallel) and throws a
 * `pulumi.RunError` listing every error; warnings are logged. Awaited before any costly resource.
 */
export async function runPreflight(
  args: {
    readonly region: string;
    readonly specs: readonly NodeGroupSpec[];
    readonly checks: PreflightSwitches;
  },
  provider: aws.Provider,
): Promise<PreflightFindings> {
  const { region, specs, checks } = args;
  const opts = { provider };
  const needs = quotaNeeds(specs);
  const types = [...new Set(specs.flatMap((s) => s.instanceTypes))].sort();
  const [quotas, offerings] = await Promise.all([
    checks.serviceQuotas
      ? Promise.all(
          needs.map((n) =>
            aws.servicequotas
              .getServiceQuota({ serviceCode: "ec2", quotaCode: n.quota.code }, opts)
              .then((q): [string, number] => [n.quota.code, q.value]),
          ),
        ).then(
          (entries) => quotaFindings(needs, Object.fromEntries(entries), region),
          (e: unknown) => ({
            errors: [
              unreadable(
                "the EC2 vCPU Service Quotas",
                "servicequotas:GetServiceQuota and servicequotas:GetAWSDefaultServiceQuota",
                preflightKeys.serviceQuotas,
                e,
              ),
            ],
            warnings: [],
          }),
        )
      : { errors: [], warnings: [] },
    checks.instanceTypeOfferings
      ? aws.ec2
          .getInstanceTypeOfferings(
            { locationType: "region", filters: [{ name: "instance-type", values: types }] },
            opts,
          )
          .then(
            (o) => offeringFindings(specs, new Set(o.instanceTypes), region),
            (e: unknown) => ({
              errors: [
                unreadable(
                  "the region's instance type offerings",
                  "ec2:DescribeInstanceTypeOfferings",
                  preflightKeys.instanceTypeOfferings,
                  e,
                ),
              ],
              warnings: [],
            }),
          )
      : { errors: [], warnings: [] },
  ]);
  const findings = {
    errors: [...offerings.errors, ...quotas.errors],
    warnings: [...offerings.warnings, ...quotas.warnings],
  };
  // Logging is fire-and-forget: the engine orders it with the deployment.
  for (const w of findings.warnings) void pulumi.log.warn(`preflight: ${w}`);
  if (findings.errors.length > 0) {
    throw new pulumi.RunError(
      `Preflight found ${plural(findings.errors.length, "problem")} before anything was created:\n  - ${findings.errors.join("\n  - ")}`,
    );
  }
  return findings;
}
