/**
 * Where a model server's weights come from, and what that means for its command line, environment and
 * init steps. Pure: tested directly.
 *
 * - `store`: vLLM gets the `s3://` prefix of the staged revision as its model and streams the
 *   safetensors with the Run:ai Model Streamer (`--load-format runai_streamer`; its concurrency and CPU
 *   buffer from config), the small configuration and tokenizer files through boto3. Credentials come
 *   from the pod's IRSA role (read-only on the store's prefix) through the STS interface endpoint,
 *   whose addresses the pod resolves the regional STS name to (lib/aws/stsEndpoint.ts: whichever SDK
 *   the streamer's version resolves credentials with, boto3 or the AWS C++ SDK), S3 through the
 *   gateway endpoint: no internet, no HF token. Hub access is switched off (`HF_HUB_OFFLINE`), so
 *   nothing waits on a connection the NetworkPolicy drops.
 * - `hub`: today's path, for a variant the streamer cannot serve: vLLM downloads the pinned revision
 *   from the Hub into the EFS cache (`HF_HOME`), with the token when the model is gated.
 */
import * as pulumi from "@pulumi/pulumi";
import { stsClientEnv, stsHostAliases, type HostAlias } from "../lib/aws/stsEndpoint";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";

/** The model store a `store` variant streams from. */
export interface StoreSource {
  readonly kind: "store";
  /** `s3://<bucket>/models/<org>/<name>/<revision>/`. */
  readonly uri: pulumi.Input<string>;
  readonly bucket: pulumi.Input<string>;
  /** The staging Job's marker of a complete copy. */
  readonly markerKey: string;
  readonly streamer: { readonly concurrency: number; readonly memoryLimitMiB: number };
  readonly region: string;
  /** The STS interface endpoint's addresses (IRSA without the internet). */
  readonly stsEndpointAddresses: pulumi.Input<string[]>;
}

/** The Hub, as a fallback. */
export interface HubSource {
  readonly kind: "hub";
  readonly model: string;
  readonly revision: string;
}

export type WeightSource = StoreSource | HubSource;

/** vLLM's model argument and the flags of its source. */
export function weightSourceArgs(s: WeightSource): {
  model: pulumi.Input<string>;
  flags: string[];
} {
  if (s.kind === "hub") {
    return {
      model: s.model,
      flags: ["--revision", s.revision, "--tokenizer-revision", s.revision],
    };
  }
  // memory_limit bytes: the streamer's CPU buffer, which counts against the pod's memory limit.
  const extra = {
    concurrency: s.streamer.concurrency,
    memory_limit: s.streamer.memoryLimitMiB * 2 ** 20,
  };
  return {
    model: s.uri,
    flags: [
      "--load-format",
      "runai_streamer",
      "--model-loader-extra-config",
      JSON.stringify(extra),
    ],
  };
}

/**
 * Environment of a streaming server's containers. The region is explicit because pods cannot reach
 * the instance metadata (launch template hop limit 1), and boto3 hands it to the streamer's S3
 * client; no S3 endpoint override: the gateway endpoint serves the regional name. STS: the regional
 * name, which the pod resolves to the interface endpoint (`weightSourceHostAliases`); no
 * `AWS_ENDPOINT_URL_STS` (why: `stsClientEnv`).
 */
export function weightSourceEnv(s: WeightSource): Record<string, pulumi.Input<string>> {
  if (s.kind === "hub") return {};
  return { ...stsClientEnv(s.region), HF_HUB_OFFLINE: "1" };
}

/**
 * A streaming server's `hostAliases`: the regional STS name at the endpoint's addresses, for every
 * container of the pod (the wait step and vLLM alike). None for a Hub server, which reaches the
 * public STS name as any other pod does.
 */
export function weightSourceHostAliases(s: WeightSource): pulumi.Output<HostAlias[]> | undefined {
  if (s.kind === "hub") return undefined;
  return pulumi.output(s.stsEndpointAddresses).apply((ips) => stsHostAliases(s.region, ips));
}

/** Seconds between the wait step's checks. */
const waitIntervalSeconds = 20;

/**
 * Python run by the wait step: list the marker (the read-only role may list under the prefix; a
 * HeadObject on a missing key would be refused, not answered "not found"), retry until it is there.
 */
export const waitForWeightsScript = [
  "import os, sys, time, boto3",
  'bucket, key = os.environ["STORE_BUCKET"], os.environ["STAGED_MARKER"]',
  's3 = boto3.client("s3")',
  "while True:",
  "    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)",
  '    if any(o["Key"] == key for o in listed.get("Contents", [])):',
  "        sys.exit(0)",
  '    print(f"waiting for s3://{bucket}/{key}: the model is not staged yet", flush=True)',
  `    time.sleep(${waitIntervalSeconds})`,
].join("\n");

/**
 * A streaming server's first init step: wait until the staging Job has published the revision's
 * marker, so vLLM never starts on a missing or half-copied model (and the startup probe's clock starts
 * only then). Runs the vLLM image (already on the node; boto3 ships with the streamer) as the same
 * user, with the same credentials.
 */
export function waitForWeightsContainer(image: pulumi.Input<string>, s: StoreSource, home: string) {
  const env = {
    ...weightSourceEnv(s),
    HOME: home,
    STORE_BUCKET: s.bucket,
    STAGED_MARKER: s.markerKey,
  };
  return {
    name: "wait-for-weights",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["python3", "-c", waitForWeightsScript],
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    // Requests = limits, as every container of the pod: the server keeps Guaranteed QoS.
    resources: {
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "250m", memory: "256Mi" },
    },
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [{ name: "home", mountPath: home }],
  };
}
