/**
 * LoRA adapter delivery: a CronJob copies the configured adapters from the adapters bucket into the
 * shared model cache, validates each against the served base model and rank, and only then publishes
 * it where vLLM's filesystem resolver looks (`/models/adapters/<name>`). A new adapter becomes
 * servable without restarting the model server: the resolver loads it by name on its first request.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IrsaRole } from "../lib/aws/irsaRole";
import type { PlatformContext } from "../platform/context";
import { adapterSyncPolicy } from "../lib/aws/bucketPolicies";
import { modelNamespace, partOf } from "../platform/registry";
import type { ModelVariantConfig } from "../config/models";
import { images } from "../platform/versions";
import { workloadLabels } from "../platform/scheduling";
import { allowHttpsEgress, createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";

/** Where adapters live: in the bucket, in the cache (mirror = last download), and where vLLM reads them. */
const adapterPaths = {
  /** Key prefix in the adapters bucket: `adapters/<name>/adapter_config.json`, `adapter_model.safetensors`. */
  bucketPrefix: "adapters/",
  /** Last downloaded copy of each adapter (outside the resolver directory: vLLM never reads it). */
  mirror: "/models/.adapter-sync/mirror",
  /** vLLM's resolver directory (VLLM_LORA_RESOLVER_CACHE_DIR). */
  served: "/models/adapters",
  scripts: "/scripts",
};

/** The app label of the sync pods (NetworkPolicies select it). */
const adapterSyncApp = "adapter-sync";

/** Download step (AWS CLI image): mirror each configured adapter's prefix; nothing else is read. */
const adapterDownloadScript = [
  "#!/bin/bash",
  "set -euo pipefail",
  'IFS="," read -r -a names <<< "$ADAPTERS"',
  'for name in "${names[@]}"; do',
  '  mkdir -p "$MIRROR_DIR/$name"',
  '  aws s3 sync --only-show-errors --delete "s3://$ADAPTER_BUCKET/$ADAPTER_PREFIX$name/" "$MIRROR_DIR/$name/"',
  "done",
  "",
].join("\n");

/**
 * Validate-and-publish step (Node.js, no AWS access). For each configured adapter in the mirror:
 * `adapter_config.json` must say `peft_type: LORA`, name the served `--model` as
 * `base_model_name_or_path` (what vLLM's resolver compares) and have a rank `r` <= `--max-lora-rank`,
 * and weights must be present. A valid adapter is copied to `<served>/.versions/<name>@<digest>`
 * (written under a temporary name, then renamed) and `<served>/<name>` is switched to it by renaming a
 * symlink over it: vLLM sees the old adapter or the new one, never a half-copied directory. The
 * symlink stays inside the resolver directory, which the resolver requires (it resolves real paths).
 * Invalid adapters are reported and left unpublished; the job then exits 1, so it shows as failed.
 */
export const adapterPublishScript = `import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const env = process.env;
const adapters = (env.ADAPTERS || "").split(",").filter(Boolean);
const baseModel = env.BASE_MODEL;
const maxRank = Number(env.MAX_LORA_RANK);
const mirror = env.MIRROR_DIR;
const served = env.ADAPTERS_DIR;
const versions = path.join(served, ".versions");

/** What is wrong with an adapter directory for the served base model ([] = valid). */
function problems(dir) {
  const file = path.join(dir, "adapter_config.json");
  if (!fs.existsSync(file)) return ["no adapter_config.json (not in the bucket yet?)"];
  let c;
  try {
    c = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return ["adapter_config.json is not valid JSON: " + e.message];
  }
  const out = [];
  if (c.peft_type !== "LORA") {
    out.push("peft_type is " + JSON.stringify(c.peft_type) + ', expected "LORA"');
  }
  if (c.base_model_name_or_path !== baseModel) {
    out.push(
      "base_model_name_or_path is " + JSON.stringify(c.base_model_name_or_path) +
        ", expected " + JSON.stringify(baseModel) + " (the served --model)",
    );
  }
  if (!Number.isInteger(c.r) || c.r < 1 || c.r > maxRank) {
    out.push("rank r is " + JSON.stringify(c.r) + ", expected 1 to --max-lora-rank " + maxRank);
  }
  if (!["adapter_model.safetensors", "adapter_model.bin"].some((f) => fs.existsSync(path.join(dir, f)))) {
    out.push("no adapter_model.safetensors or adapter_model.bin");
  }
  return out;
}

function files(dir, rel = "") {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

function digest(dir) {
  const h = createHash("sha256");
  for (const f of files(dir)) {
    h.update(f + "\\0");
    h.update(fs.readFileSync(path.join(dir, f)));
  }
  return h.digest("hex").slice(0, 16);
}

function currentLink(link) {
  try {
    return fs.readlinkSync(link);
  } catch {
    return null;
  }
}

function publish(name) {
  const version = name + "@" + digest(path.join(mirror, name));
  const link = path.join(served, name);
  const target = path.join(".versions", version);
  const current = currentLink(link);
  if (current === target) return "unchanged";
  fs.mkdirSync(versions, { recursive: true });
  const dest = path.join(versions, version);
  if (!fs.existsSync(dest)) {
    const tmp = dest + ".tmp";
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(path.join(mirror, name), tmp, { recursive: true });
    fs.renameSync(tmp, dest);
  }
  // A plain directory someone put there by hand: move it aside so the link can take its place.
  if (current === null && fs.existsSync(link)) {
    fs.renameSync(link, path.join(versions, name + "@replaced-" + Date.now()));
  }
  const tmpLink = path.join(served, "." + name + ".link");
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(target, tmpLink);
  fs.renameSync(tmpLink, link);
  // Keep the published version and the one before it; a running server has already loaded either.
  for (const v of fs.readdirSync(versions)) {
    const old = path.join(".versions", v);
    if (v.split("@")[0] === name && old !== target && old !== current) {
      fs.rmSync(path.join(versions, v), { recursive: true, force: true });
    }
  }
  return current === null ? "published" : "updated (servers that loaded the old one keep it until restarted)";
}

fs.mkdirSync(served, { recursive: true });
let failed = 0;
for (const name of adapters) {
  const p = problems(path.join(mirror, name));
  if (p.length > 0) {
    failed++;
    console.error("adapter " + name + ": not published: " + p.join("; "));
    continue;
  }
  console.log("adapter " + name + ": " + publish(name));
}
process.exitCode = failed > 0 ? 1 : 0;
`;

/** Environment of both sync steps: which adapters, from where, validated against what. */
function adapterSyncEnv(p: {
  lora: NonNullable<ModelVariantConfig["lora"]>;
  baseModel: string;
  bucket: pulumi.Input<string>;
  region: string;
}): Record<string, pulumi.Input<string>> {
  return {
    ADAPTERS: p.lora.adapters.join(","),
    ADAPTER_BUCKET: p.bucket,
    ADAPTER_PREFIX: adapterPaths.bucketPrefix,
    MIRROR_DIR: adapterPaths.mirror,
    ADAPTERS_DIR: adapterPaths.served,
    BASE_MODEL: p.baseModel,
    MAX_LORA_RANK: String(p.lora.maxLoraRank),
    AWS_REGION: p.region,
    // Read-only root filesystem: the AWS CLI keeps its cache under HOME, an emptyDir.
    HOME: "/tmp",
  };
}

interface AdapterSyncJobParams {
  readonly schedule: string;
  readonly env: Record<string, pulumi.Input<string>>;
  readonly serviceAccount: pulumi.Input<string>;
  readonly cacheClaim: pulumi.Input<string>;
  readonly scriptsConfigMap: pulumi.Input<string>;
  /** UID/GID the cache's EFS access point assigns (the vLLM user), so published files match. */
  readonly user: { uid: number; gid: number };
}

/**
 * The CronJob spec: download (AWS CLI, IRSA) as an init container, then validate-and-publish (Node.js)
 * as the main container, both as the cache's owner under Pod Security `restricted`, on CPU nodes. One
 * run at a time; a run that hangs is stopped after 10 minutes.
 */
function adapterSyncCronJobSpec(p: AdapterSyncJobParams): k8s.types.input.batch.v1.CronJobSpec {
  const env = Object.entries(p.env).map(([name, value]) => ({ name, value }));
  const mounts = [
    { name: "model-cache", mountPath: "/models" },
    { name: "tmp", mountPath: "/tmp" },
    { name: "scripts", mountPath: adapterPaths.scripts, readOnly: true },
  ];
  const resources = {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "1", memory: "512Mi" },
  };
  const step = (name: string, image: string, command: string[]) => ({
    name,
    image,
    imagePullPolicy: "IfNotPresent",
    command,
    env,
    resources,
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: mounts,
  });
  return {
    schedule: p.schedule,
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: 300,
    successfulJobsHistoryLimit: 1,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      spec: {
        backoffLimit: 1,
        activeDeadlineSeconds: 600,
        template: {
          metadata: { labels: { app: adapterSyncApp, "app.kubernetes.io/part-of": partOf } },
          spec: {
            serviceAccountName: p.serviceAccount,
            // The IRSA webhook mounts its own web-identity token; no Kubernetes API token is needed.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            restartPolicy: "Never",
            nodeSelector: workloadLabels.cpu,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: p.user.uid,
              runAsGroup: p.user.gid,
              seccompProfile: { type: "RuntimeDefault" },
            },
            initContainers: [
              step("download", images.awsCli, ["/bin/bash", `${adapterPaths.scripts}/download.sh`]),
            ],
            containers: [
              step("validate-and-publish", images.node, [
                "node",
                `${adapterPaths.scripts}/publish.mjs`,
              ]),
            ],
            volumes: [
              { name: "model-cache", persistentVolumeClaim: { claimName: p.cacheClaim } },
              { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
              {
                name: "scripts",
                configMap: { name: p.scriptsConfigMap, defaultMode: 0o444 },
              },
            ],
          },
        },
      },
    },
  };
}

export interface AdapterSyncArgs {
  /** Name prefix (role name), region, OIDC provider (IRSA) and VPC CIDR (egress policy). */
  readonly ctx: PlatformContext;
  /** The LoRA variant: its adapters, rank limit and served base model. */
  readonly variant: ModelVariantConfig;
  readonly bucketName: pulumi.Input<string>;
  readonly bucketArn: pulumi.Input<string>;
  readonly namespace: pulumi.Output<string>;
  readonly cacheClaim: pulumi.Input<string>;
  readonly user: { uid: number; gid: number };
}

const adapterSyncLabels = { app: adapterSyncApp, "app.kubernetes.io/part-of": partOf };

/** The sync's read-only IRSA role (the bucket's `adapters/` prefix) and its service account. */
function adapterSyncIdentity(name: string, parent: pulumi.Resource, args: AdapterSyncArgs) {
  const role = new IrsaRole(
    name,
    {
      oidc: args.ctx.oidc,
      namespace: modelNamespace,
      serviceAccount: adapterSyncApp,
      roleName: `${args.ctx.namePrefix}-adapter-sync-irsa`,
      inlinePolicies: {
        "adapters-read": pulumi
          .output(args.bucketArn)
          .apply((arn) => adapterSyncPolicy(arn, adapterPaths.bucketPrefix)),
      },
    },
    { parent },
  );
  const sa = new k8s.core.v1.ServiceAccount(
    `${name}-sa`,
    {
      metadata: {
        name: adapterSyncApp,
        namespace: args.namespace,
        labels: adapterSyncLabels,
        annotations: { "eks.amazonaws.com/role-arn": role.roleArn },
      },
      automountServiceAccountToken: false,
    },
    { parent },
  );
  return { role, serviceAccount: sa.metadata.name };
}

/** The sync's scripts (ConfigMap) and the CronJob running them. */
function adapterSyncJob(
  name: string,
  parent: pulumi.Resource,
  args: AdapterSyncArgs,
  lora: NonNullable<ModelVariantConfig["lora"]>,
  identity: { role: IrsaRole; serviceAccount: pulumi.Output<string> },
) {
  const labels = adapterSyncLabels;
  const scripts = new k8s.core.v1.ConfigMap(
    `${name}-scripts`,
    {
      metadata: { name: `${adapterSyncApp}-scripts`, namespace: args.namespace, labels },
      data: { "download.sh": adapterDownloadScript, "publish.mjs": adapterPublishScript },
    },
    { parent },
  );
  new k8s.batch.v1.CronJob(
    name,
    {
      metadata: { name: adapterSyncApp, namespace: args.namespace, labels },
      spec: adapterSyncCronJobSpec({
        schedule: lora.syncSchedule,
        env: adapterSyncEnv({
          lora,
          baseModel: args.variant.model,
          bucket: args.bucketName,
          region: args.ctx.region,
        }),
        serviceAccount: identity.serviceAccount,
        cacheClaim: args.cacheClaim,
        scriptsConfigMap: scripts.metadata.name,
        user: args.user,
      }),
    },
    // The role's policy must exist before the first run calls S3.
    { parent, dependsOn: [identity.role] },
  );
}

/**
 * The adapter sync: a read-only IRSA role scoped to the bucket's `adapters/` prefix, its service
 * account, the scripts, the CronJob, and HTTPS egress to S3/STS for its pods only.
 */
export class AdapterSync extends pulumi.ComponentResource {
  constructor(name: string, args: AdapterSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:k8s:AdapterSync", name, {}, opts);
    const lora = args.variant.lora;
    if (!lora) throw new Error("AdapterSync needs the LoRA variant's `lora` settings");
    const identity = adapterSyncIdentity(name, this, args);
    adapterSyncJob(name, this, args, lora, identity);
    createNetworkPolicies(
      modelNamespace,
      args.namespace,
      [
        allowHttpsEgress(
          "allow-adapter-sync-https-to-aws",
          { app: adapterSyncApp },
          args.ctx.vpcCidr,
        ),
      ],
      { parent: this },
    );
    this.registerOutputs({});
  }
}
