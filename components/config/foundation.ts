/**
 * Schemas of the AWS-side config: network, cluster, node groups, tags.
 */
import { z } from "zod";
import {
  cpuInstanceShapes,
  familiesOf,
  gpuInstanceShapes,
  shapeKey,
} from "../platform/instanceTypes";
import {
  defaultKubernetesVersion,
  retiredKubernetesMinors,
  supportedKubernetesVersions,
  type KubernetesMinor,
} from "../platform/versions";
import {
  cidr,
  count,
  dnsLabel,
  duplicates,
  instanceType,
  parseCidr,
  retention,
} from "./primitives";

export const networkSchema = z
  .strictObject({
    /** VPC CIDR. Pods take VPC addresses (VPC CNI), so size it generously. */
    cidr: cidr.default("10.0.0.0/16"),
    /** Availability zones; EKS needs at least 2, the design uses 3. */
    availabilityZones: z.number().int().min(2).max(6).default(3),
    /** `single` NAT gateway (cheap, one AZ dependency) or `onePerAz` (zone-redundant egress). */
    natGateways: z.enum(["single", "onePerAz"]),
    /** Prefix length of each public subnet (load balancers, NAT). */
    publicSubnetCidrMask: z.number().int().min(16).max(28).default(22),
    /** Prefix length of each private subnet (nodes and pods). */
    privateSubnetCidrMask: z.number().int().min(16).max(28).default(19),
    /** Days VPC flow logs are kept in CloudWatch Logs. */
    flowLogRetentionDays: retention.default(30),
  })
  .superRefine((n, ctx) => {
    const vpc = parseCidr(n.cidr);
    if (!vpc) return;
    // 172.20.0.0/16 is the cluster's Service range (components/foundation/cluster.ts).
    const services = parseCidr("172.20.0.0/16")!;
    const overlaps =
      vpc.base < services.base + 2 ** 16 && services.base < vpc.base + 2 ** (32 - vpc.prefix);
    if (overlaps) {
      ctx.addIssue({
        code: "custom",
        path: ["cidr"],
        message: "expected a range outside 172.20.0.0/16 (the cluster's Service addresses)",
      });
      return;
    }
    if (vpc.prefix < 16 || vpc.prefix > 22) {
      ctx.addIssue({
        code: "custom",
        path: ["cidr"],
        message: "expected a VPC prefix between /16 and /22",
      });
      return;
    }
    for (const key of ["publicSubnetCidrMask", "privateSubnetCidrMask"] as const) {
      if (n[key] <= vpc.prefix) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `expected a prefix longer than the VPC's /${vpc.prefix}`,
        });
        return;
      }
    }
    const used =
      n.availabilityZones *
      (2 ** (32 - n.publicSubnetCidrMask) + 2 ** (32 - n.privateSubnetCidrMask));
    if (used > 2 ** (32 - vpc.prefix)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message:
          `${n.availabilityZones} public /${n.publicSubnetCidrMask} + ${n.availabilityZones} private ` +
          `/${n.privateSubnetCidrMask} subnets do not fit in ${n.cidr}`,
      });
    }
  });

export const accessPolicies = ["cluster-admin", "admin", "edit", "view"] as const;

export const accessEntrySchema = z
  .strictObject({
    /** IAM role or user ARN allowed into the cluster. */
    principalArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
        "expected an IAM role or user ARN, e.g. arn:aws:iam::<account-id>:role/platform-admins",
      ),
    /** EKS access policy: cluster-admin | admin | edit | view. */
    policy: z.enum(accessPolicies),
    /** Limit the policy to these namespaces; omitted = the whole cluster. */
    namespaces: z.array(dnsLabel(63)).min(1).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.policy === "cluster-admin" && e.namespaces) {
      ctx.addIssue({
        code: "custom",
        path: ["namespaces"],
        message: "cluster-admin is cluster-wide; use admin, edit or view to scope to namespaces",
      });
    }
  });

/**
 * A Kubernetes minor with pinned add-ons. Written unquoted (`kubernetesVersion: 1.35`) YAML hands over
 * a number: accepted when it reads as a supported minor; otherwise (1.30 reads as 1.3) the message says
 * to quote it.
 */
export const kubernetesVersion = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = String(v);
  const supported = supportedKubernetesVersions as readonly string[];
  if (supported.includes(text)) return text as KubernetesMinor;
  const expected = `expected one of ${supported.map((m) => `"${m}"`).join(", ")} (the minors with add-ons pinned in components/platform/versions.ts)`;
  const retired = retiredKubernetesMinors[text];
  ctx.addIssue({
    code: "custom",
    message: retired
      ? `${text} ${retired}; upgrade to ${defaultKubernetesVersion} (set it here and pulumi up: EKS upgrades one minor at a time)`
      : typeof v === "number"
        ? `${expected}; got the YAML number ${text}: quote the version, e.g. kubernetesVersion: "${defaultKubernetesVersion}" (YAML reads 1.30 as 1.3)`
        : `${expected}, got "${text}"`,
  });
  return z.NEVER;
});

export const clusterSchema = z
  .strictObject({
    /** Kubernetes minor; must have pinned add-ons in components/platform/versions.ts. */
    kubernetesVersion: kubernetesVersion.default(defaultKubernetesVersion),
    /** API server endpoint access: public with an allow-list, and/or private (inside the VPC). */
    endpoint: z.strictObject({
      publicAccess: z.boolean(),
      /** CIDRs allowed to reach the public endpoint; required when publicAccess is true. */
      publicAccessCidrs: z.array(cidr).default([]),
      privateAccess: z.boolean().default(true),
      /** Accept 0.0.0.0/0 in publicAccessCidrs (the endpoint is still IAM-authenticated). For
       * throwaway stacks whose operators' addresses are unknown, e.g. dev in a fresh account. */
      allowPublicAccessFromAnywhere: z.boolean().default(false),
    }),
    /** IAM principals given access to the cluster through EKS access entries. */
    accessEntries: z.array(accessEntrySchema).default([]),
    /** Days control-plane logs are kept in CloudWatch Logs. */
    logRetentionDays: retention.default(90),
    /** EKS upgrade policy: STANDARD, or EXTENDED support (billed extra once standard support ends). */
    upgradeSupport: z.enum(["STANDARD", "EXTENDED"]).default("STANDARD"),
    /** Refuse cluster deletion until this is turned off. */
    deletionProtection: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const e = c.endpoint;
    if (!e.publicAccess && !e.privateAccess) {
      ctx.addIssue({
        code: "custom",
        path: ["endpoint"],
        message: "expected publicAccess or privateAccess (or both) to be true",
      });
    }
    if (e.publicAccess && e.publicAccessCidrs.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["endpoint", "publicAccessCidrs"],
        message: "expected at least 1 CIDR when publicAccess is true (0.0.0.0/0 must be explicit)",
      });
    }
    // EKS best practices: restrict the public endpoint to known networks (or go private-only).
    e.publicAccessCidrs.forEach((c, i) => {
      if (e.publicAccess && !e.allowPublicAccessFromAnywhere && parseCidr(c)?.prefix === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["endpoint", "publicAccessCidrs", i],
          message:
            `${c} opens the Kubernetes API endpoint to the whole internet: list your office/VPN ` +
            "and deploy-runner egress CIDRs, or set publicAccess: false (private only), or set " +
            "endpoint.allowPublicAccessFromAnywhere: true to accept it",
        });
      }
    });
    if (!e.publicAccess && e.publicAccessCidrs.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["endpoint", "publicAccessCidrs"],
        message: "expected no CIDRs when publicAccess is false",
      });
    }
    duplicates(c.accessEntries.map((a) => a.principalArn)).forEach((i) =>
      ctx.addIssue({
        code: "custom",
        path: ["accessEntries", i, "principalArn"],
        message: "expected each principal once",
      }),
    );
  });

const scaling = {
  minSize: count,
  /** Initial node count; defaults to minSize. After creation the cluster autoscaler owns it. */
  desiredSize: count.optional(),
  maxSize: z.number().int().min(1),
};

export const cpuGroupSchema = z.strictObject({
  instanceTypes: z.array(instanceType).min(1, "expected at least 1 entry"),
  ...scaling,
  minSize: z
    .number()
    .int()
    .min(1, "expected at least 1: cluster add-ons (CoreDNS, EBS CSI) run here"),
  diskSizeGiB: z.number().int().min(20).max(16384).default(50),
});

export const gpuGroupSchema = z.strictObject({
  /**
   * Key of the group, named for its role (e.g. `inference`), not its size: it names the AWS resources
   * and the `llmplatform.io/node-group` label model variants select, so renaming it replaces the group.
   */
  name: dnsLabel(20).refine(
    (n) => n !== "cpu",
    "expected a name other than cpu (the CPU group's key)",
  ),
  /**
   * SPOT instance types of one shape (see components/platform/instanceTypes.ts). One type is allowed but
   * draws on fewer SPOT capacity pools (see gpuGroupWarnings).
   */
  instanceTypes: z.array(instanceType).min(1, "expected at least 1 entry"),
  ...scaling,
  /** Root volume: the vLLM image alone is ~10 GiB compressed, CUDA layers add more. */
  diskSizeGiB: z
    .number()
    .int()
    .min(100, "expected at least 100 GiB for vLLM images")
    .max(16384)
    .default(200),
  /**
   * SOCI parallel pull (nodeadm's `FastImagePull` feature gate on the AL2023 NVIDIA AMI): image layers
   * are fetched in parallel ranged chunks and unpacked concurrently, so the vLLM image is bound by the
   * root volume's write throughput instead of one gzip stream per layer. Default true.
   */
  fastImagePull: z.boolean().default(true),
  /**
   * gp3 throughput of each node's root volume in MiB/s (125 included; at most 750 with the 3000
   * IOPS the launch template provisions). AWS advises at least 600 for parallel pull. Default 600.
   */
  rootVolumeThroughputMiBs: z
    .number()
    .int()
    .min(125)
    .max(750, "expected at most 750 MiB/s: gp3 allows 0.25 MiB/s per provisioned IOPS (3000)")
    .default(600),
});

/**
 * Valid but risky GPU group settings, as `key.path: message` lines the program logs as warnings.
 * A group of one instance type draws on that type's SPOT pools only (one per AZ), so an interruption
 * wave or a capacity shortage of that type leaves the group without nodes.
 */
export function gpuGroupWarnings(
  groups: readonly {
    name: string;
    instanceTypes: string[];
    fastImagePull?: boolean;
    rootVolumeThroughputMiBs?: number;
  }[],
): string[] {
  return groups.flatMap((g, i) => [
    ...(g.instanceTypes.length === 1
      ? [
          `llm-platform:nodeGroups.gpu[${i}].instanceTypes: group ${g.name} has one instance type ` +
            `(${g.instanceTypes[0]}), which limits it to that type's SPOT capacity pools; add ` +
            "types of the same shape from components/platform/instanceTypes.ts where the family has them",
        ]
      : []),
    ...(g.fastImagePull && (g.rootVolumeThroughputMiBs ?? 600) < 600
      ? [
          `llm-platform:nodeGroups.gpu[${i}].rootVolumeThroughputMiBs: parallel image pull on group ` +
            `${g.name} writes through ${g.rootVolumeThroughputMiBs} MiB/s; AWS advises at least 600, ` +
            "below which a parallel pull can be slower than a plain one",
        ]
      : []),
  ]);
}

/**
 * What `pulumi preview` reads from the account before creating anything (components/foundation/
 * preflight.ts). Turn a check off only where the deploying identity may not make its call.
 */
export const preflightSchema = z.strictObject({
  /** EC2 vCPU Service Quotas hold the node groups (servicequotas:GetServiceQuota, GetAWSDefaultServiceQuota). */
  serviceQuotas: z.boolean().default(true),
  /** The region offers every instance type of the node groups (ec2:DescribeInstanceTypeOfferings). */
  instanceTypeOfferings: z.boolean().default(true),
});

export const nodeGroupsSchema = z
  .strictObject({
    cpu: cpuGroupSchema,
    gpu: z.array(gpuGroupSchema).min(1, "expected at least 1 SPOT GPU group"),
    preflight: preflightSchema.default({ serviceQuotas: true, instanceTypeOfferings: true }),
  })
  .superRefine((g, ctx) => {
    checkScaling(g.cpu, ["cpu"], ctx);
    g.cpu.instanceTypes.forEach((t, i) => {
      const problem = gpuInstanceShapes[t]
        ? `${t} is a GPU type; GPU types belong in nodeGroups.gpu`
        : isGraviton(t)
          ? `${t} is an arm64 (Graviton) type; expected x86_64: the CPU group runs the amd64 AL2023 AMI`
          : !cpuInstanceShapes[t]
            ? `unknown CPU instance type "${t}"; expected a size of one of the x86_64 families in ` +
              `components/platform/instanceTypes.ts (${familiesOf(cpuInstanceShapes).join(", ")}), e.g. m6i.xlarge`
            : undefined;
      if (problem)
        ctx.addIssue({ code: "custom", path: ["cpu", "instanceTypes", i], message: problem });
    });
    duplicates(g.gpu.map((x) => x.name)).forEach((i) =>
      ctx.addIssue({
        code: "custom",
        path: ["gpu", i, "name"],
        message: "expected a unique group name",
      }),
    );
    g.gpu.forEach((group, gi) => {
      checkScaling(group, ["gpu", gi], ctx);
      checkGpuShapes(group.instanceTypes, ["gpu", gi, "instanceTypes"], ctx);
    });
  });

function checkScaling(
  s: { minSize: number; desiredSize?: number | undefined; maxSize: number },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  if (s.minSize > s.maxSize) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "minSize"],
      message: `expected minSize <= maxSize (${s.maxSize})`,
    });
  }
  if (s.desiredSize !== undefined && (s.desiredSize < s.minSize || s.desiredSize > s.maxSize)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "desiredSize"],
      message: `expected desiredSize between minSize (${s.minSize}) and maxSize (${s.maxSize})`,
    });
  }
}

function checkGpuShapes(types: string[], path: (string | number)[], ctx: z.RefinementCtx): void {
  duplicates(types).forEach((i) =>
    ctx.addIssue({
      code: "custom",
      path: [...path, i],
      message: "expected each instance type once",
    }),
  );
  const shapes = types.map((t) => gpuInstanceShapes[t]);
  types.forEach((t, i) => {
    if (!shapes[i]) {
      ctx.addIssue({
        code: "custom",
        path: [...path, i],
        message: `unknown GPU instance type "${t}"; expected one of the types in components/platform/instanceTypes.ts`,
      });
    }
  });
  const first = shapes[0];
  if (!first || shapes.some((s) => !s)) return;
  shapes.forEach((s, i) => {
    if (s && shapeKey(s) !== shapeKey(first)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, i],
        message:
          `expected the same shape as ${types[0]} (${shapeKey(first)}), got ${shapeKey(s)}: ` +
          "the cluster autoscaler needs identical vCPU, memory and GPUs within a group",
      });
    }
  });
}

/** Graviton families carry a `g` after the generation digit: m7g, c6gn, r8gd, t4g, im4gn. */
function isGraviton(instanceType: string): boolean {
  return /^[a-z]+\d+[a-z-]*g[a-z-]*\./.test(instanceType) && !gpuInstanceShapes[instanceType];
}

/** Tags the program sets itself; config may not override them. */
const reservedTags = ["Project", "Environment", "ManagedBy"];

export const tagsSchema = z
  .record(
    z
      .string()
      .regex(
        /^(?!aws:)[\w .:/=+@-]{1,128}$/,
        "expected a tag key (1-128 chars, not starting with aws:)",
      ),
    z.string().max(256, "expected a tag value of at most 256 characters"),
  )
  .superRefine((t, ctx) => {
    for (const key of reservedTags) {
      if (key in t)
        ctx.addIssue({ code: "custom", path: [key], message: "is set by the program; remove it" });
    }
  });
