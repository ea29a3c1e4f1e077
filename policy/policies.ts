/**
 * The platform's standards as CrossGuard policies, checked on every `pulumi preview --policy-pack
 * policy`. They read resource inputs by type token (no provider SDKs needed), skip values still unknown
 * at preview, and are unit-tested offline against both stacks' recorded resources (tests/policy.test.ts).
 *
 * Helm releases are opaque here (their manifests are rendered by Helm at apply time); the charts'
 * settings are asserted by the program's own tests instead.
 */
import type {
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";

type Props = Record<string, any>;

const workloadTypes = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
];

/** Annotation that names why a workload's root filesystem must stay writable. */
const rootFsExceptionAnnotation = "llmplatform.io/root-fs-exception";

function podSpec(props: Props): Props | undefined {
  return props?.spec?.template?.spec;
}

/** A workload validation over each container of the pod template. */
function forEachContainer(
  check: (c: Props, pod: Props, props: Props, report: ReportViolation) => void,
) {
  return (args: { type: string; props: Props }, report: ReportViolation) => {
    if (!workloadTypes.includes(args.type)) return;
    const pod = podSpec(args.props);
    for (const c of pod?.containers ?? []) check(c, pod!, args.props, report);
  };
}

const workloadProbes: ResourceValidationPolicy = {
  name: "workload-probes",
  description:
    "Every container of a Deployment/StatefulSet/DaemonSet has liveness and readiness probes, and a startup probe.",
  enforcementLevel: "mandatory",
  validateResource: forEachContainer((c, _pod, _props, report) => {
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      if (!c[probe]) report(`container ${c.name} has no ${probe}`);
    }
  }),
};

const workloadResources: ResourceValidationPolicy = {
  name: "workload-resources",
  description: "Every container sets CPU and memory requests and limits.",
  enforcementLevel: "mandatory",
  validateResource: forEachContainer((c, _pod, _props, report) => {
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) {
        if (c.resources?.[kind]?.[r] === undefined)
          report(`container ${c.name} has no ${kind}.${r}`);
      }
    }
  }),
};

const workloadSecurity: ResourceValidationPolicy = {
  name: "workload-security",
  description:
    "Containers run as non-root, with a read-only root filesystem (or a named exception), no privilege escalation and all capabilities dropped.",
  enforcementLevel: "mandatory",
  validateResource: forEachContainer((c, pod, props, report) => {
    const sc = c.securityContext ?? {};
    if (sc.runAsNonRoot !== true && pod.securityContext?.runAsNonRoot !== true)
      report(`container ${c.name} may run as root`);
    const exception = props?.spec?.template?.metadata?.annotations?.[rootFsExceptionAnnotation];
    if (sc.readOnlyRootFilesystem !== true && !exception)
      report(
        `container ${c.name} has a writable root filesystem and no ${rootFsExceptionAnnotation}`,
      );
    if (sc.allowPrivilegeEscalation !== false)
      report(`container ${c.name} allows privilege escalation`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL"))
      report(`container ${c.name} does not drop ALL capabilities`);
  }),
};

const imageTags: ResourceValidationPolicy = {
  name: "image-tags",
  description:
    "Images are pinned: never `:latest` or untagged; with `forbidMovingTags` (prod) no `*-latest` tag either.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { forbidMovingTags: { type: "boolean", default: false } } },
  validateResource: (args, report) => {
    if (!workloadTypes.includes(args.type)) return;
    const { forbidMovingTags } = args.getConfig<{ forbidMovingTags?: boolean }>();
    for (const c of podSpec(args.props)?.containers ?? []) {
      const image = c.image;
      if (typeof image !== "string") continue; // unknown at preview (e.g. a new ECR repository)
      const tag = /^[^@]+:([^/:@]+)$/.exec(image)?.[1];
      if (!tag && !image.includes("@sha256:"))
        report(`container ${c.name} image ${image} has no tag`);
      else if (tag === "latest") report(`container ${c.name} uses :latest`);
      else if (forbidMovingTags && tag && /latest/.test(tag))
        report(`container ${c.name} uses the moving tag ${tag}`);
    }
  },
};

const clusterIpServices: ResourceValidationPolicy = {
  name: "clusterip-services",
  description: "Services are ClusterIP: traffic enters only through the ALB Ingress.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "kubernetes:core/v1:Service") return;
    const type = args.props?.spec?.type ?? "ClusterIP";
    if (type !== "ClusterIP") report(`Service ${args.name} is ${type}`);
  },
};

const gpuNodeGroups: ResourceValidationPolicy = {
  name: "gpu-node-groups-spot-tainted",
  description: "GPU node groups are SPOT and carry the nvidia.com/gpu NoSchedule taint.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "aws:eks/nodeGroup:NodeGroup") return;
    if (!/NVIDIA/.test(args.props.amiType ?? "")) return;
    if (args.props.capacityType !== "SPOT")
      report(`GPU node group ${args.name} is ${args.props.capacityType ?? "ON_DEMAND"}, not SPOT`);
    const tainted = (args.props.taints ?? []).some(
      (t: Props) => t.key === "nvidia.com/gpu" && t.effect === "NO_SCHEDULE",
    );
    if (!tainted) report(`GPU node group ${args.name} lacks the nvidia.com/gpu NoSchedule taint`);
  },
};

const irsaTrust: ResourceValidationPolicy = {
  name: "irsa-trust-scoped",
  description:
    "Every web-identity (IRSA) trust policy pins both the token subject (:sub) and audience (:aud) with StringEquals.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "aws:iam/role:Role" || typeof args.props.assumeRolePolicy !== "string")
      return;
    const doc = JSON.parse(args.props.assumeRolePolicy) as { Statement: Props[] };
    for (const s of doc.Statement) {
      const actions = ([] as string[]).concat(s.Action);
      if (!actions.includes("sts:AssumeRoleWithWebIdentity")) continue;
      const eq = s.Condition?.StringEquals ?? {};
      const keys = Object.keys(eq);
      if (!keys.some((k) => k.endsWith(":sub")))
        report(`role ${args.name}: web identity trust without StringEquals on :sub`);
      if (!keys.some((k) => k.endsWith(":aud") && eq[k] === "sts.amazonaws.com"))
        report(`role ${args.name}: web identity trust without :aud = sts.amazonaws.com`);
    }
  },
};

const allLogTypes = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

const eksClusterSecure: ResourceValidationPolicy = {
  name: "eks-cluster-secure",
  description:
    "The EKS cluster envelope-encrypts secrets with a KMS key and sends all five control-plane log types.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type === "eks:index:Cluster") {
      if (!args.props.encryptionConfigKeyArn)
        report("cluster secrets are not KMS-encrypted (encryptionConfigKeyArn)");
      const logs: string[] = args.props.enabledClusterLogTypes ?? [];
      const missing = allLogTypes.filter((l) => !logs.includes(l));
      if (missing.length) report(`cluster does not log ${missing.join(", ")}`);
    }
    if (args.type === "aws:eks/cluster:Cluster") {
      if (!args.props.encryptionConfig)
        report("cluster secrets are not KMS-encrypted (encryptionConfig)");
      const logs: string[] = args.props.enabledClusterLogTypes ?? [];
      const missing = allLogTypes.filter((l) => !logs.includes(l));
      if (missing.length) report(`cluster does not log ${missing.join(", ")}`);
    }
  },
};

const s3BucketsPrivate: StackValidationPolicy = {
  name: "s3-buckets-private-encrypted",
  description:
    "Every S3 bucket has all four public-access blocks on and default encryption configured beside it.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const siblings = (bucket: PolicyResource, type: string) =>
      args.resources.filter(
        (r) =>
          r.type === type && r.parent?.urn !== undefined && r.parent.urn === bucket.parent?.urn,
      );
    for (const bucket of args.resources.filter((r) => r.type === "aws:s3/bucket:Bucket")) {
      const pab = siblings(bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
      const blocked = pab.some((p) =>
        ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
          (k) => p.props[k] === true,
        ),
      );
      if (!blocked)
        report(
          `bucket ${bucket.name} has no public access block with all four settings on`,
          bucket.urn,
        );
      const sse = siblings(
        bucket,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      );
      if (sse.length === 0) report(`bucket ${bucket.name} has no default encryption`, bucket.urn);
    }
  },
};

const secretsFromSecretsManager: ResourceValidationPolicy = {
  name: "secrets-from-secrets-manager",
  description:
    "No Kubernetes Secret carries a value written by the program: secrets live in AWS Secrets Manager, encrypted with the stack's key, and reach the cluster through ExternalSecrets.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type === "kubernetes:core/v1:Secret") {
      const written = ["data", "stringData"].filter(
        (k) => Object.keys((args.props[k] as Props | undefined) ?? {}).length > 0,
      );
      if (written.length)
        report(
          `Secret ${args.props.metadata?.name} carries ${written.join(" and ")}: keep the value in Secrets Manager and sync it with an ExternalSecret`,
        );
    }
    if (args.type === "aws:secretsmanager/secret:Secret" && !args.props.kmsKeyId)
      report(`secret ${args.props.name} is not encrypted with the stack's KMS key`);
  },
};

/** Every policy of the pack. */
export const policies: Policies = [
  workloadProbes,
  workloadResources,
  workloadSecurity,
  imageTags,
  clusterIpServices,
  gpuNodeGroups,
  irsaTrust,
  eksClusterSecure,
  s3BucketsPrivate,
  secretsFromSecretsManager,
];
