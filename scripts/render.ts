/**
 * `npm run render -- <stack> [outDir]`: runs the program for a stack from its real stack file, offline
 * and without credentials (Pulumi mocks, as the tests do), and writes what it would apply:
 *   <outDir>/<stack>/k8s/<namespace>.yaml   every Kubernetes object, grouped by namespace
 *   <outDir>/<stack>/k8s/_cluster.yaml      cluster-scoped objects
 *   <outDir>/<stack>/helm-releases.yaml     Helm releases with chart, version and values
 *   <outDir>/<stack>/aws.md                 the AWS resources (type, name, key settings)
 * Reviewers diff two renders (e.g. before and after a change) to see exactly what moves.
 * Values only known after deployment (ARNs, IDs) come from the mocks in verify/program.ts.
 */
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  isKubernetesObject,
  runProgram,
  type RecordedResource,
  type StackRun,
} from "../verify/program";

/** Settings worth reviewing per AWS type (all inputs would bury them). */
const keySettings: Record<string, string[]> = {
  "aws:eks/nodeGroup:NodeGroup": [
    "capacityType",
    "amiType",
    "instanceTypes",
    "scalingConfig",
    "labels",
    "taints",
  ],
  "aws:eks/addon:Addon": ["addonName", "addonVersion", "serviceAccountRoleArn"],
  "aws:autoscaling/tag:Tag": ["tag"],
  "aws:ec2/launchTemplate:LaunchTemplate": ["metadataOptions", "blockDeviceMappings"],
  "aws:kms/key:Key": ["enableKeyRotation", "deletionWindowInDays"],
  "aws:iam/role:Role": ["name"],
  "aws:ecr/repository:Repository": ["name", "imageTagMutability"],
  "aws:s3/bucket:Bucket": ["bucketPrefix"],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "retentionInDays"],
  "aws:efs/fileSystem:FileSystem": ["encrypted", "throughputMode"],
  "aws:acm/certificate:Certificate": ["domainName", "subjectAlternativeNames"],
  "aws:route53/record:Record": ["name", "type"],
  "eks:index:Cluster": [
    "name",
    "version",
    "authenticationMode",
    "endpointPublicAccess",
    "publicAccessCidrs",
    "enabledClusterLogTypes",
  ],
  "awsx:ec2:Vpc": ["cidrBlock", "numberOfAvailabilityZones", "natGateways"],
};

function settings(r: RecordedResource): string {
  const keys = keySettings[r.type] ?? [];
  return keys
    .filter((k) => r.inputs[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify(r.inputs[k])}`)
    .join(" ");
}

/** Writes the render of one stack run; returns the files written. */
export function writeRender(run: StackRun, outDir: string): string[] {
  const dir = path.join(outDir, run.stack);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "k8s"), { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string) => {
    fs.writeFileSync(path.join(dir, file), text);
    written.push(path.join(dir, file));
  };

  const byNamespace = new Map<string, RecordedResource[]>();
  for (const r of run.resources.filter((x) => isKubernetesObject(x.type))) {
    const ns = r.inputs.metadata?.namespace ?? "_cluster";
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), r]);
  }
  for (const [ns, objects] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    const docs = objects
      .sort((a, b) =>
        `${a.inputs.kind}/${a.inputs.metadata?.name}`.localeCompare(
          `${b.inputs.kind}/${b.inputs.metadata?.name}`,
        ),
      )
      .map((o) => yaml.dump(o.inputs, { noRefs: true, sortKeys: true, lineWidth: 200 }));
    write(`k8s/${ns}.yaml`, docs.join("---\n"));
  }

  const releases = run.ofType("kubernetes:helm.sh/v3:Release").map((r) => ({
    name: r.inputs.name,
    namespace: r.inputs.namespace,
    chart: r.inputs.chart,
    version: r.inputs.version,
    repo: r.inputs.repositoryOpts?.repo,
    values: r.inputs.values,
  }));
  releases.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  write(
    "helm-releases.yaml",
    yaml.dump(releases, { noRefs: true, sortKeys: true, lineWidth: 200 }),
  );

  const aws = run.resources
    .filter((r) => /^(aws|awsx|eks):/.test(r.type))
    .sort((a, b) => `${a.type}${a.name}`.localeCompare(`${b.type}${b.name}`))
    .map((r) => `| ${r.type} | ${r.name} | ${settings(r).replace(/\|/g, "\\|")} |`);
  write(
    "aws.md",
    [
      `# AWS resources of ${run.stack} (${aws.length})`,
      "",
      "| Type | Name | Key settings |",
      "|---|---|---|",
      ...aws,
      "",
    ].join("\n"),
  );
  return written;
}

async function main(): Promise<void> {
  const [stack, outDir = "render"] = process.argv.slice(2);
  if (!stack || !fs.existsSync(`Pulumi.${stack}.yaml`)) {
    console.error(
      "usage: npm run render -- <stack> [outDir]   (stack: a Pulumi.<stack>.yaml in this directory)",
    );
    process.exit(2);
  }
  const run = await runProgram(stack);
  if (run.error) throw run.error;
  const files = writeRender(run, outDir);
  console.log(
    `rendered ${run.resources.length} resources of ${stack} into ${files.length} files under ${path.join(outDir, stack)}`,
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
