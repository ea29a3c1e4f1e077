/**
 * The staging Job of one model at one revision: check the store (AWS CLI), download from the Hub
 * (./modelStage.mts on Node.js, the only step that sees the HF token), upload and publish the marker
 * last (AWS CLI). Pure: the Job spec and its scripts, tested without mocks.
 */
import * as fs from "node:fs";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { images } from "../platform/versions";
import { sourceFile } from "../platform/sourceFiles";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { modelCacheMount, notTokenizerFiles, tokenizerDir } from "../platform/modelCacheLayout";
import { modelPrefix, stagedMarkerKey, stagingDir } from "./modelStoreLayout";
import { cacheWriterPod, hfTokenDir, hfTokenMount, hfTokenVolume } from "./podParts";

/** The app label of staging pods (their NetworkPolicy selects it). */
export const stagingApp = "model-stage";

/** Where things are inside a staging pod. */
const paths = {
  cache: modelCacheMount,
  scripts: "/scripts",
  /** Written by the check step when the store has the model: the later steps then do nothing. */
  skipFile: "/tmp/already-staged",
};

/**
 * Bash shared by the check and upload steps: publish the model's files other than its weights
 * (`notTokenizerFiles`) in `$MODEL_FILES_DIR` on the shared cache (platform/modelCacheLayout.ts), whole
 * or not at all. The directory is filled aside (a hidden sibling, by the command given as argument:
 * from the staging copy or from the store), must then hold config.json, and is renamed into place,
 * so a reader never sees half of it.
 * An existing directory is kept: it only ever appears complete, and one revision's files never change.
 * One Job per model and revision writes it, so leftovers of a killed attempt are removed first.
 */
export const publishTokenizerFunctions = [
  "tokenizer_tmp=''",
  'trap \'[ -z "$tokenizer_tmp" ] || rm -rf "$tokenizer_tmp"\' EXIT',
  "publish_tokenizer() {",
  '  if [ -d "$MODEL_FILES_DIR" ]; then',
  '    echo "$MODEL@$REVISION: tokenizer files already in $MODEL_FILES_DIR"',
  "    return 0",
  "  fi",
  '  local parent="${MODEL_FILES_DIR%/*}" name="${MODEL_FILES_DIR##*/}"',
  '  mkdir -p "$parent"',
  '  rm -rf "$parent/.$name.tmp."*',
  '  tokenizer_tmp=$(mktemp -d "$parent/.$name.tmp.XXXXXX")',
  '  "$@" "$tokenizer_tmp"',
  '  if [ ! -f "$tokenizer_tmp/config.json" ]; then',
  '    echo "$MODEL@$REVISION: no config.json among the files to publish in $MODEL_FILES_DIR" >&2',
  "    return 1",
  "  fi",
  '  chmod 755 "$tokenizer_tmp"',
  "  # rename(2): fails, rather than moving into it, when the directory appeared meanwhile.",
  '  if ! mv -T "$tokenizer_tmp" "$MODEL_FILES_DIR" && [ ! -d "$MODEL_FILES_DIR" ]; then return 1; fi',
  '  echo "$MODEL@$REVISION: tokenizer files published in $MODEL_FILES_DIR"',
  "}",
  "copy_from_staging() {",
  "  local f",
  '  for f in "$STAGING_DIR"/*; do',
  '    [ -f "$f" ] || continue',
  `    case "\${f##*/}" in ${notTokenizerFiles.join(" | ")}) continue ;; esac`,
  '    cp "$f" "$1/"',
  "  done",
  "}",
  "copy_from_store() {",
  `  aws s3 cp --recursive --only-show-errors ${notTokenizerFiles.map((p) => `--exclude '${p}'`).join(" ")} \\`,
  '    "s3://$STORE_BUCKET/$MODEL_PREFIX" "$1"',
  "}",
];

/**
 * Check step: is the model's marker in the store? (A listing, which the prefix-scoped role may do.)
 * When it is, the later steps do nothing, and the tokenizer directory is filled from the store if it
 * is missing: a model staged before the platform published that directory gets it without restaging.
 */
export const checkScript = [
  "#!/bin/bash",
  "set -euo pipefail",
  ...publishTokenizerFunctions,
  'found=$(aws s3api list-objects-v2 --bucket "$STORE_BUCKET" --prefix "$MARKER_KEY" \\',
  "  --max-items 1 --query 'Contents[0].Key' --output text)",
  'if [ "$found" = "$MARKER_KEY" ]; then',
  '  echo "$MODEL@$REVISION is in the model store already (s3://$STORE_BUCKET/$MARKER_KEY)"',
  '  touch "$SKIP_FILE"',
  "  publish_tokenizer copy_from_store",
  "else",
  '  echo "$MODEL@$REVISION is not in the model store yet: staging it"',
  "fi",
  "",
].join("\n");

/**
 * Upload step: the files, then the tokenizer directory, then the manifest as the marker (so a model
 * the store marks staged has its tokenizer directory too), then the staging copy goes.
 */
export const uploadScript = [
  "#!/bin/bash",
  "set -euo pipefail",
  'if [ -e "$SKIP_FILE" ]; then echo "$MODEL@$REVISION: already in the model store"; exit 0; fi',
  ...publishTokenizerFunctions,
  'aws s3 sync --only-show-errors --exclude manifest.json --exclude "*.part" \\',
  '  "$STAGING_DIR/" "s3://$STORE_BUCKET/$MODEL_PREFIX"',
  "publish_tokenizer copy_from_staging",
  'aws s3 cp --only-show-errors "$STAGING_DIR/manifest.json" "s3://$STORE_BUCKET/$MARKER_KEY"',
  'rm -rf "$STAGING_DIR"',
  'echo "$MODEL@$REVISION staged: s3://$STORE_BUCKET/$MODEL_PREFIX"',
  "",
].join("\n");

/** The download program, read from the source tree so the tests exercise the deployed bytes. */
export function stageProgram(): string {
  return fs.readFileSync(sourceFile("components/models/modelStage.mts"), "utf8");
}

/** The scripts ConfigMap's data. */
export function stagingScripts(): Record<string, string> {
  return { "check.sh": checkScript, "stage.mts": stageProgram(), "upload.sh": uploadScript };
}

export interface StagingJobParams {
  readonly model: string;
  readonly revision: string;
  /** The model needs the HF token (gated): only then is the token Secret mounted. */
  readonly gated: boolean;
  readonly bucket: pulumi.Input<string>;
  readonly region: string;
  readonly serviceAccount: pulumi.Input<string>;
  readonly cacheClaim: pulumi.Input<string>;
  readonly scriptsConfigMap: pulumi.Input<string>;
  readonly tokenSecret: pulumi.Input<string>;
  /** UID/GID the cache's EFS access point assigns (the vLLM user). */
  readonly user: { uid: number; gid: number };
}

/**
 * The Job spec: three steps as the cache's owner under Pod Security `restricted`, on CPU nodes, with
 * the IRSA role that may write only the store's `models/` prefix. Retried twice; stopped after 3 hours.
 */
export function stagingJobSpec(p: StagingJobParams): k8s.types.input.batch.v1.JobSpec {
  const env = Object.entries({
    MODEL: p.model,
    REVISION: p.revision,
    STORE_BUCKET: p.bucket,
    MODEL_PREFIX: modelPrefix(p.model, p.revision),
    MARKER_KEY: stagedMarkerKey(p.model, p.revision),
    STAGING_DIR: stagingDir(paths.cache, p.model, p.revision),
    // Not TOKENIZER_DIR: policy scanners (Polaris' sensitiveContainerEnvVar) take any plain env
    // name holding "token" for a credential.
    MODEL_FILES_DIR: tokenizerDir(p.model, p.revision),
    SKIP_FILE: paths.skipFile,
    AWS_REGION: p.region,
    // Read-only root filesystem: the AWS CLI keeps its cache under HOME, an emptyDir.
    HOME: "/tmp",
  }).map(([name, value]) => ({ name, value }));
  const mounts = [
    { name: "model-cache", mountPath: paths.cache },
    { name: "tmp", mountPath: "/tmp" },
    { name: "scripts", mountPath: paths.scripts, readOnly: true },
  ];
  const step = (name: string, image: string, command: string[], extra: object = {}) => ({
    name,
    image,
    imagePullPolicy: "IfNotPresent",
    command,
    env,
    resources: {
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    },
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: mounts,
    ...extra,
  });
  const download = step("download", images.node, ["node", `${paths.scripts}/stage.mts`], {
    ...(p.gated
      ? {
          env: [...env, { name: "HF_TOKEN_PATH", value: `${hfTokenDir}/token` }],
          volumeMounts: [...mounts, hfTokenMount],
        }
      : {}),
  });
  return {
    backoffLimit: 2,
    activeDeadlineSeconds: 3 * 3600,
    template: cacheWriterPod({
      app: stagingApp,
      serviceAccount: p.serviceAccount,
      user: p.user,
      initContainers: [
        step("check", images.awsCli, ["/bin/bash", `${paths.scripts}/check.sh`]),
        download,
      ],
      containers: [step("upload", images.awsCli, ["/bin/bash", `${paths.scripts}/upload.sh`])],
      volumes: [
        { name: "model-cache", persistentVolumeClaim: { claimName: p.cacheClaim } },
        { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
        { name: "scripts", configMap: { name: p.scriptsConfigMap, defaultMode: 0o444 } },
        ...(p.gated ? [hfTokenVolume(p.tokenSecret)] : []),
      ],
    }),
  };
}
