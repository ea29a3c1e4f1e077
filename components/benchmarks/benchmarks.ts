/**
 * The benchmark pipeline: a WorkflowTemplate that benchmarks model variants with the vLLM client,
 * their results in the results bucket under `benchmarks/`, and what it runs with (identities, RBAC,
 * the program, NetworkPolicies); a CronWorkflow where the config schedules runs.
 *
 * Where the workflows run: in the model namespace, next to the servers they measure, because the
 * client reads the tokenizer and prompt sets from the shared model cache (a claim of that namespace)
 * instead of downloading them (no Hugging Face token, no internet egress for benchmarks).
 */
import * as fs from "node:fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BenchmarksConfig } from "../config/benchmarks";
import type { ModelsConfig } from "../config/models";
import { IrsaRole } from "../lib/aws/irsaRole";
import { prefixReadWritePolicy } from "../lib/aws/bucketPolicies";
import { createNetworkPolicies } from "../lib/k8s/networkPolicies";
import { grantRole } from "../lib/k8s/rbac";
import type { PlatformContext } from "../platform/context";
import { modelNamespace, partOf } from "../platform/registry";
import { sourceFile } from "../platform/sourceFiles";
import {
  executorRules,
  benchmarkPolicies,
  prometheusFromBenchmarkPolicy,
  scalerRules,
} from "./access";
import { benchmarkNames, benchmarkSettings, programFiles, resultsPrefix } from "./settings";
import { benchmarkWorkflowSpec } from "./workflowTemplate";

/** The program's files as shipped: read from the source tree, so the tests run the deployed bytes. */
export function programSources(): Record<string, string> {
  return Object.fromEntries(
    programFiles.map((f) => [
      f,
      fs.readFileSync(sourceFile(`components/benchmarks/program/${f}`), "utf8"),
    ]),
  );
}

/**
 * The namespace's default Argo artifact repository: the results bucket, with the pod's IRSA
 * credentials (`useSDKCreds`). Every artifact of the template names its key under `benchmarks/`;
 * `keyFormat` places any other (logs are not archived) there too. No `encryptionOptions`: with
 * encryption on and no key id, Argo would send SSE-S3 and override the bucket's SSE-KMS default.
 */
export function artifactRepository(bucket: string, region: string) {
  return {
    s3: {
      bucket,
      endpoint: `s3.${region}.amazonaws.com`,
      region,
      insecure: false,
      useSDKCreds: true,
      keyFormat: `${resultsPrefix}/_argo/{{workflow.name}}/{{pod.name}}`,
    },
  };
}

/** The CronWorkflow spec of a scheduled run of the default variants (its run id: the workflow's name). */
export function benchmarkCronSpec(schedule: NonNullable<BenchmarksConfig["schedule"]>) {
  return {
    schedules: [schedule.cron],
    timezone: schedule.timezone,
    // A run still going when the next is due keeps its GPUs; the next waits for the one after.
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: 3600,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    workflowSpec: { workflowTemplateRef: { name: benchmarkNames.template } },
  };
}

export interface BenchmarksArgs {
  /** Name prefix (role name), region, OIDC (IRSA), VPC and Service CIDRs (egress). */
  readonly ctx: PlatformContext;
  readonly config: BenchmarksConfig;
  /** The variants (their Services, models, replicas, max context). */
  readonly models: ModelsConfig;
  /** The model namespace, where the workflows run. */
  readonly namespace: pulumi.Output<string>;
  /** The observability namespace (Prometheus admits the record step there). */
  readonly observabilityNamespace: pulumi.Output<string>;
  /** The results bucket; the benchmark writes under `benchmarks/` only. */
  readonly resultsBucket: {
    readonly name: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
  };
  /** Argo Workflows' release: its CRDs and controller exist before any template. */
  readonly engine: pulumi.Resource;
  /** Prometheus's Service port (the record step's queries). */
  readonly prometheusPort: number;
}

/**
 * The benchmark pipeline in the model namespace. Providers (aws, kubernetes) come through
 * `opts.providers`.
 */
export class Benchmarks extends pulumi.ComponentResource {
  constructor(name: string, args: BenchmarksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:benchmarks:Benchmarks", name, {}, opts);
    const o = { parent: this };
    const ns = args.namespace;
    const labels = { app: benchmarkNames.app, "app.kubernetes.io/part-of": partOf };
    const sa = benchmarkNames.serviceAccounts;
    const settings = benchmarkSettings(args.config, args.models);

    const role = new IrsaRole(
      name,
      {
        oidc: args.ctx.oidc,
        namespace: modelNamespace,
        serviceAccount: sa.artifacts,
        roleName: `${args.ctx.namePrefix}-benchmark-irsa`,
        inlinePolicies: {
          "results-benchmarks-readwrite": pulumi
            .output(args.resultsBucket.arn)
            .apply((arn) => prefixReadWritePolicy(arn, resultsPrefix)),
        },
      },
      o,
    );
    const accounts = [
      new k8s.core.v1.ServiceAccount(
        `${name}-sa`,
        {
          metadata: {
            name: sa.artifacts,
            namespace: ns,
            labels,
            annotations: { "eks.amazonaws.com/role-arn": role.roleArn },
          },
        },
        o,
      ),
      new k8s.core.v1.ServiceAccount(
        `${name}-scaler-sa`,
        { metadata: { name: sa.scaler, namespace: ns, labels } },
        o,
      ),
    ];
    const subject = (s: k8s.core.v1.ServiceAccount) => ({ name: s.metadata.name, namespace: ns });
    const targets = Object.values(settings.variants);
    const grants = [
      ...grantRole(
        name,
        {
          role: "benchmark-executor",
          namespace: ns,
          rules: executorRules(),
          subjects: accounts.map(subject),
        },
        o,
      ),
      ...grantRole(
        name,
        {
          role: "benchmark-scaler",
          namespace: ns,
          rules: scalerRules(
            targets.flatMap((t) => (t.scaledObject ? [t.scaledObject] : [])),
            targets.map((t) => t.deployment),
          ),
          subjects: [subject(accounts[1]!)],
        },
        o,
      ),
    ];

    const configMaps = [
      new k8s.core.v1.ConfigMap(
        `${name}-artifact-repositories`,
        {
          metadata: {
            name: benchmarkNames.artifactRepositories,
            namespace: ns,
            labels,
            annotations: { "workflows.argoproj.io/default-artifact-repository": "default-v1" },
          },
          data: {
            "default-v1": pulumi
              .output(args.resultsBucket.name)
              .apply((bucket) => JSON.stringify(artifactRepository(bucket, args.ctx.region))),
          },
        },
        o,
      ),
      new k8s.core.v1.ConfigMap(
        `${name}-program`,
        {
          metadata: { name: benchmarkNames.programConfigMap, namespace: ns, labels },
          data: { ...programSources(), "settings.json": JSON.stringify(settings, null, 2) },
        },
        o,
      ),
    ];

    const template = new k8s.apiextensions.CustomResource(
      `${name}-template`,
      {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "WorkflowTemplate",
        metadata: { name: benchmarkNames.template, namespace: ns, labels },
        spec: benchmarkWorkflowSpec(args.config, settings),
      },
      // The CRD and controller first; a run needs its identities, RBAC and ConfigMaps in place.
      { ...o, dependsOn: [args.engine, role, ...accounts, ...grants, ...configMaps] },
    );
    if (args.config.schedule) {
      new k8s.apiextensions.CustomResource(
        `${name}-schedule`,
        {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "CronWorkflow",
          metadata: { name: benchmarkNames.template, namespace: ns, labels },
          spec: benchmarkCronSpec(args.config.schedule),
        },
        { ...o, dependsOn: [template] },
      );
    }

    createNetworkPolicies(
      modelNamespace,
      ns,
      benchmarkPolicies(args.ctx.vpcCidr, args.ctx.serviceCidr, args.prometheusPort),
      o,
    );
    createNetworkPolicies(
      "observability",
      args.observabilityNamespace,
      [prometheusFromBenchmarkPolicy(modelNamespace, args.prometheusPort)],
      o,
    );
    this.registerOutputs({});
  }
}
