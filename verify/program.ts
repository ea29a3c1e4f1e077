/**
 * Test harness: runs the whole program for a stack from its real `Pulumi.<stack>.yaml` under Pulumi
 * mocks, and records every resource it registers: type, name, inputs, and the options that matter
 * (provider, dependsOn, parent, ignoreChanges). Kubernetes objects are validated against the upstream
 * schema by `validateKubernetesObject`.
 *
 * Remote components (eks:index:Cluster, awsx:ec2:Vpc) create no children under mocks: `mockState`
 * returns the outputs the program reads from them, and the tests assert the inputs it passes.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  parseConfig,
  secretConfigKeys,
  type PlatformConfig,
} from "../components/config/platformConfig";
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as nodeModule from "node:module";
import * as path from "node:path";

/** The repository root (tests run from bin/tests). */
export const repoRoot = path.resolve(__dirname, "..", "..");
/** AWS account id the mocks report (AWS's documentation example account). */
export const testAccountId = "111122223333";
/** The OIDC issuer the mocked cluster reports, in the stack's region as EKS names it. */
export function mockOidcIssuer(region: string): string {
  return `oidc.eks.${region}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
}
/** The IAM OIDC provider the mocked cluster reports. */
export function mockOidcProviderArn(region: string): string {
  return `arn:aws:iam::${testAccountId}:oidc-provider/${mockOidcIssuer(region)}`;
}
/**
 * The ARN the mocks give a resource of `type` (e.g. `aws:kms/key:Key`) named `name` in `region`: what
 * the program reads back as its `arn`. Tests of a stack pass the stack's region
 * (`stackConfig(stack).region`), never a literal one.
 */
export function mockResourceArn(region: string, type: string, name: string): string {
  return `arn:aws:mock:${region}:${testAccountId}:${type.split(":").pop()}/${name}`;
}

/**
 * What the mocked AWS account answers the preflight (components/foundation/preflight.ts), per run.
 * By default an account whose quotas hold both stacks and a region that offers every type.
 */
export interface MockAccount {
  /** EC2 vCPU quota values by quota code; a code not listed has `defaultMockQuota` vCPUs. */
  readonly serviceQuotas?: Readonly<Record<string, number>>;
  /** Instance types the region does not offer. */
  readonly notOffered?: readonly string[];
  /** Services whose read calls the account refuses, as AWS does without the IAM permission. */
  readonly denied?: readonly ("servicequotas" | "ec2")[];
}

/** vCPUs of every quota the mocked account does not override: enough for both stacks at maxSize. */
export const defaultMockQuota = 1000;

/**
 * S3's prefix list the mocked gateway endpoint reports: the form of us-west-2's, not its current
 * entries (AWS changes them; the program reads the real ones at deploy time).
 */
export const testS3Cidrs = ["3.5.76.0/22", "18.34.48.0/20", "52.92.128.0/17", "52.218.128.0/17"];

export type StackName = "dev" | "prod";
export const stacks: readonly StackName[] = ["dev", "prod"];

/** Raw stack config: full key -> YAML value (as `parseConfig` takes it). */
export type RawConfig = Record<string, unknown>;

/** A resource the program registered. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as plain values (secrets unwrapped; see `secretPaths`). */
  readonly inputs: Record<string, any>;
  /** Paths of the inputs that arrived as secrets, e.g. `kubeconfig` or `stringData.token`. */
  readonly secretPaths: string[];
  /** Name of the provider that manages it, explicit or inherited from its parent chain. */
  readonly provider?: string;
  /** Providers passed explicitly in `providers` (what remote components receive). */
  readonly explicitProviders: string[];
  /** Explicit dependsOn, as `type::name`. */
  readonly dependsOn: string[];
  /** Parent resource name (undefined for the stack's direct children). */
  readonly parent?: string;
  readonly ignoreChanges: string[];
  /** Former type tokens it answers to (`aliases: [{ type }]`), so deployed stacks keep its URN. */
  readonly aliasTypes?: string[];
}

/** The result of running the program for one stack. */
export interface StackRun {
  readonly stack: string;
  readonly resources: RecordedResource[];
  readonly outputs: Record<string, any>;
  /** The program's return value before Pulumi resolved it (to check which outputs are secret). */
  readonly rawOutputs: Record<string, unknown>;
  /** What the program threw, if it failed; `resources` then holds what it registered before failing. */
  readonly error?: Error;
  /** The warnings the program logged (`pulumi.log.warn`), as `pulumi preview` would show them. */
  readonly warnings: readonly string[];
  /** All resources of a type. */
  ofType(type: string): RecordedResource[];
  /** The one resource of a type and name; throws (listing candidates) if missing. */
  get(type: string, name: string): RecordedResource;
}

/**
 * Secrets both stacks need and operators set with `pulumi config set --secret` (so the committed
 * stack files cannot hold them): the harness supplies fakes. Optional secrets (the alert webhook)
 * stay unset, as in a fresh stack; tests that need them add them.
 */
const operatorSecrets = ["llm-platform:hfToken"];

/** The fake value the harness uses for a secret config key (shaped like the real thing where validated). */
export function fakeSecret(key: string): string {
  return key.endsWith("Url")
    ? `https://alerts.example.test/hooks/fake-secret-${key}`
    : `fake-secret-${key}`;
}

/**
 * The environment variable that puts every stack file the harness reads in another region:
 * `LLM_PLATFORM_TEST_REGION=eu-west-1 npm test` runs the whole suite as if `aws:region` said so in
 * both stack files (the committed region is one choice, and no test may assume it).
 */
export const testRegionVariable = "LLM_PLATFORM_TEST_REGION";

/**
 * Reads `Pulumi.<stack>.yaml`; `secure:` values, and declared secrets the file does not hold, become
 * fake secrets so nothing real is needed. With `LLM_PLATFORM_TEST_REGION` set, its value replaces the
 * file's `aws:region` (validated like any stack value, by the tests that parse the config).
 */
export function readStackConfig(stack: string): { raw: RawConfig; secretKeys: string[] } {
  const file = path.join(repoRoot, `Pulumi.${stack}.yaml`);
  let doc: { config?: RawConfig };
  try {
    doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: RawConfig };
  } catch (e) {
    throw new Error(`Pulumi.${stack}.yaml is not valid YAML: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const secretKeys: string[] = [];
  const raw: RawConfig = {};
  for (const key of operatorSecrets) {
    raw[key] = fakeSecret(key);
    secretKeys.push(key);
  }
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (isSecure(value)) {
      raw[key] = fakeSecret(key);
      if (!secretKeys.includes(key)) secretKeys.push(key);
    } else {
      raw[key] = fakeNestedSecrets(value, key);
    }
  }
  const region = process.env[testRegionVariable];
  if (region) raw["aws:region"] = region;
  return { raw, secretKeys };
}

function isSecure(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "secure" in v;
}

function fakeNestedSecrets(v: unknown, at: string): unknown {
  if (isSecure(v)) return `fake-secret-${at}`;
  if (Array.isArray(v)) return v.map((x, i) => fakeNestedSecrets(x, `${at}[${i}]`));
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, fakeNestedSecrets(x, `${at}.${k}`)]),
    );
  }
  return v;
}

/** A deep copy of a stack's raw config, for tests that break one value. */
export function cloneStackConfig(stack: StackName): RawConfig {
  return structuredClone(readStackConfig(stack).raw);
}

/** The problems a stack's config reports after `edit` changes it, or [] when it still parses. */
export function configProblems(
  stack: StackName,
  edit: (raw: Record<string, any>) => void,
): string[] {
  const raw = cloneStackConfig(stack) as Record<string, any>;
  edit(raw);
  try {
    parseConfig(raw, stack);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

/** A stack's validated config, as the program sees it: tests derive expectations from it. */
export function stackConfig(stack: StackName): PlatformConfig {
  return parseConfig(cloneStackConfig(stack), stack);
}

/** Outputs the mocks return per resource type: what the program reads from each resource. */
function mockState(args: pulumi.runtime.MockResourceArgs, region: string): Record<string, unknown> {
  const inputs = args.inputs as Record<string, any>;
  const arn = mockResourceArn(region, args.type, args.name);
  const oidcIssuer = mockOidcIssuer(region);
  switch (args.type) {
    case "eks:index:Cluster":
      return {
        ...inputs,
        eksCluster: {
          name: inputs.name,
          arn: `arn:aws:eks:${region}:${testAccountId}:cluster/${inputs.name}`,
        },
        kubeconfig: { apiVersion: "v1", kind: "Config", clusters: [{ name: inputs.name }] },
        kubeconfigJson: JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: inputs.name }],
        }),
        oidcProviderArn: mockOidcProviderArn(region),
        oidcIssuer,
        oidcProviderUrl: `https://${oidcIssuer}`,
        clusterSecurityGroupId: "sg-0cluster0000000001",
        nodeSecurityGroupId: "sg-0cluster0000000001",
      };
    case "awsx:ec2:Vpc": {
      const azs = Number(inputs.numberOfAvailabilityZones ?? 3);
      const ids = (kind: string) =>
        Array.from({ length: azs }, (_, i) => `subnet-${kind}-${i + 1}`);
      const layout = mockSubnetLayout(inputs as Parameters<typeof mockSubnetLayout>[0]);
      mockSubnets.clear();
      mockInterfaces.clear();
      for (const kind of ["public", "private"] as const)
        ids(kind).forEach((id, i) => mockSubnets.set(id, layout[kind][i]!));
      return {
        ...inputs,
        vpcId: "vpc-0mock0000000001",
        publicSubnetIds: ids("public"),
        privateSubnetIds: ids("private"),
        // awsx gives every subnet its own route table.
        routeTableAssociations: [...ids("public"), ...ids("private")].map((subnetId) => ({
          subnetId,
          routeTableId: subnetId.replace(/^subnet-/, "rtb-"),
        })),
      };
    }
    case "aws:ec2/vpcEndpoint:VpcEndpoint": {
      if (inputs.vpcEndpointType === "Gateway")
        return { ...inputs, arn, prefixListId: "pl-0mock0001", cidrBlocks: [...testS3Cidrs] };
      // One network interface per subnet (getNetworkInterface answers for them), listed in no fixed
      // order by EC2: reversed here, so the program cannot lean on the order.
      const interfaces = ((inputs.subnetIds ?? []) as string[]).map((subnetId, i) => {
        const id = `eni-0mock-${args.name}-${i + 1}`;
        mockInterfaces.set(id, subnetId);
        return id;
      });
      return {
        ...inputs,
        arn,
        networkInterfaceIds: interfaces.reverse(),
        dnsEntries: [
          {
            dnsName: `vpce-0mock-${args.name}.${String(inputs.serviceName).split(".").pop()}.${region}.vpce.amazonaws.com`,
            hostedZoneId: "Z0MOCKVPCE0001",
          },
        ],
      };
    }
    case "aws:iam/role:Role": {
      const name = inputs.name ?? `${args.name}-generated`;
      return { ...inputs, name, arn: `arn:aws:iam::${testAccountId}:role/${name}` };
    }
    case "aws:s3/bucket:Bucket": {
      const bucket = `${inputs.bucketPrefix}20261123`;
      return { ...inputs, bucket, id: bucket, arn: `arn:aws:s3:::${bucket}` };
    }
    case "aws:ecr/repository:Repository":
      return {
        ...inputs,
        arn,
        repositoryUrl: `${testAccountId}.dkr.ecr.${region}.amazonaws.com/${inputs.name}`,
      };
    case "aws:acm/certificate:Certificate":
      return {
        ...inputs,
        arn: `arn:aws:acm:${region}:${testAccountId}:certificate/00000000-0000-4000-8000-000000000001`,
        domainValidationOptions: [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])].map(
          (d: string) => ({
            domainName: d,
            resourceRecordName: `_x1.${d}.`,
            resourceRecordType: "CNAME",
            resourceRecordValue: `_x2.acm-validations.aws.`,
          }),
        ),
      };
    case "aws:acm/certificateValidation:CertificateValidation":
      return { ...inputs };
    case "aws:route53/record:Record":
      return { ...inputs, fqdn: String(inputs.name).replace(/\.$/, "") };
    case "kubernetes:networking.k8s.io/v1:Ingress":
      return {
        ...inputs,
        status: {
          loadBalancer: {
            ingress: [{ hostname: mockAlbHostname(region) }],
          },
        },
      };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: "mock-generated-password-0123456789ab" };
    case "aws:kms/key:Key":
      return { ...inputs, arn, keyId: `${args.name}-key-id` };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...inputs, arn, latestVersion: 1 };
    case "aws:eks/nodeGroup:NodeGroup":
      return {
        ...inputs,
        arn,
        nodeGroupName: `${inputs.nodeGroupNamePrefix}20261123`,
        resources: [
          {
            autoscalingGroups: [{ name: `eks-${args.name}-asg` }],
            remoteAccessSecurityGroupId: "",
          },
        ],
      };
    default:
      return { ...inputs, arn };
  }
}

/** Subnet id -> CIDR of the VPC the last run created (what `aws.ec2.getSubnet` answers). */
const mockSubnets = new Map<string, string>();
/** Network interface id -> subnet id of the interface endpoints the last run created. */
const mockInterfaces = new Map<string, string>();

/** IPv4 address <-> number. */
const ipNumber = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
const ipString = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** The address the mocked EC2 gives an interface endpoint's network interface in a subnet. */
export function mockEndpointAddress(subnetCidr: string): string {
  return ipString(ipNumber(subnetCidr.split("/")[0]!) + 10);
}

/**
 * The STS interface endpoint's addresses the mocks report for a VPC's inputs: one per private subnet
 * (the endpoint's subnets), in address order. The whole-cluster model places the endpoint there.
 */
export function mockStsEndpointAddresses(vpc: Parameters<typeof mockSubnetLayout>[0]): string[] {
  return mockSubnetLayout(vpc).private.map(mockEndpointAddress);
}

/**
 * The subnets awsx's `Auto` strategy lays out for a VPC's inputs: each AZ gets the next block of
 * `vpc prefix + ceil(log2(azs))` bits; inside it the subnet specs follow one another in order (each
 * aligned to its own size). The mocks answer with these CIDRs, and the whole-cluster model places the
 * load balancer and the pods in them.
 */
export function mockSubnetLayout(vpc: {
  cidrBlock: string;
  numberOfAvailabilityZones?: number;
  subnetSpecs?: { type: string; cidrMask: number }[];
}): { public: string[]; private: string[] } {
  const [base, bits] = vpc.cidrBlock.split("/");
  const azs = Number(vpc.numberOfAvailabilityZones ?? 3);
  const azSize = 2 ** (32 - (Number(bits) + Math.ceil(Math.log2(azs))));
  const out = { public: [] as string[], private: [] as string[] };
  for (let az = 0; az < azs; az++) {
    let next = ipNumber(base!) + az * azSize;
    for (const spec of vpc.subnetSpecs ?? []) {
      const size = 2 ** (32 - spec.cidrMask);
      const start = Math.ceil(next / size) * size;
      const kind = spec.type.toLowerCase() as "public" | "private";
      out[kind]?.push(`${ipString(start)}/${spec.cidrMask}`);
      next = start + size;
    }
  }
  return out;
}

/** The DNS name the mocked load balancer controller writes into an Ingress's status. */
export function mockAlbHostname(region: string): string {
  return `k8s-llmplatform-0123456789.${region}.elb.amazonaws.com`;
}

/**
 * An error shaped like the AWS provider's for a call the identity may not make. The SDK reads a failed
 * invoke's message from the gRPC error's `details`, as the engine sends it.
 */
function accessDenied(action: string): Error {
  const message = `operation error: ${action}, https response error StatusCode: 400, api error AccessDeniedException: User: arn:aws:iam::${testAccountId}:user/ci is not authorized to perform: ${action}`;
  return Object.assign(new Error(message), { details: message });
}

/** Results of the provider functions the program invokes. Unknown invokes fail the run. */
function mockCall(
  args: pulumi.runtime.MockCallArgs,
  account: MockAccount,
  region: string,
): Record<string, unknown> {
  switch (args.token) {
    case "aws:servicequotas/getServiceQuota:getServiceQuota": {
      if (account.denied?.includes("servicequotas"))
        throw accessDenied("servicequotas:GetServiceQuota");
      const code = String(args.inputs.quotaCode);
      const value = account.serviceQuotas?.[code] ?? defaultMockQuota;
      return { serviceCode: "ec2", quotaCode: code, value, defaultValue: 0, adjustable: true };
    }
    case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
      if (account.denied?.includes("ec2")) throw accessDenied("ec2:DescribeInstanceTypeOfferings");
      const asked = (args.inputs.filters as { name: string; values: string[] }[])
        .filter((f) => f.name === "instance-type")
        .flatMap((f) => f.values);
      const instanceTypes = asked.filter((t) => !account.notOffered?.includes(t));
      return { instanceTypes, locations: instanceTypes.map(() => "region"), locationTypes: [] };
    }
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:route53/getZone:getZone":
      return { zoneId: "Z0MOCKZONE00000001", name: args.inputs.name, id: "Z0MOCKZONE00000001" };
    case "aws:lb/getHostedZoneId:getHostedZoneId":
      return { id: "Z1H1FL5HABSF5" };
    case "aws:elb/getServiceAccount:getServiceAccount":
      return { id: "797873946194", arn: "arn:aws:iam::797873946194:root" };
    case "aws:ec2/getNetworkInterface:getNetworkInterface": {
      const id = String(args.inputs.id);
      const subnetId = mockInterfaces.get(id);
      const cidr = subnetId ? mockSubnets.get(subnetId) : undefined;
      if (!subnetId || !cidr) throw new Error(`getNetworkInterface: unknown mock interface ${id}`);
      const privateIp = mockEndpointAddress(cidr);
      const az = Number(subnetId.split("-").pop()) - 1;
      return {
        id,
        subnetId,
        privateIp,
        privateIps: [privateIp],
        availabilityZone: `${region}${"abcdef"[az] ?? "a"}`,
        interfaceType: "vpc_endpoint",
        requesterManaged: true,
        vpcId: "vpc-0mock0000000001",
      };
    }
    case "aws:ec2/getSubnet:getSubnet": {
      const cidrBlock = mockSubnets.get(String(args.inputs.id));
      if (!cidrBlock) throw new Error(`getSubnet: unknown mock subnet ${String(args.inputs.id)}`);
      return { id: args.inputs.id, cidrBlock };
    }
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        accountId: testAccountId,
        arn: `arn:aws:iam::${testAccountId}:user/ci`,
        userId: "AIDAEXAMPLE",
        id: testAccountId,
      };
    default:
      throw new Error(`unmocked invoke ${args.token}: add it to verify/program.ts`);
  }
}

/** The marker Pulumi's wire format puts on secret values. */
const secretSig = "4dabf18193072939515e22adb298388d";
const secretMarker = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces wire-format secrets with their values, collecting the paths where they were. */
function unwrapSecrets(v: unknown, at: string, paths: string[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => unwrapSecrets(x, `${at}[${i}]`, paths));
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  if (o[secretSig] === secretMarker) {
    paths.push(at);
    return unwrapSecrets(o.value, at, []);
  }
  return Object.fromEntries(
    Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x, at ? `${at}.${k}` : k, paths)]),
  );
}

function nameOf(r: unknown): string {
  const res = r as { __name?: string; __pulumiType?: string };
  return `${res.__pulumiType}::${res.__name}`;
}

/**
 * Runs `during` with the program's Pulumi warnings (which `pulumi.log.warn` prints to the console when
 * no engine runs) collected instead of printed.
 */
async function collectingWarnings<T>(during: () => Promise<T>): Promise<[T, string[]]> {
  const warnings: string[] = [];
  const prefix = "warning: [runtime] ";
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    if (line.startsWith(prefix)) warnings.push(line.slice(prefix.length));
    else original(...args);
  };
  try {
    return [await during(), warnings];
  } finally {
    console.warn = original;
  }
}

/**
 * Runs the program for `stack` with `raw` as its config (default: the real stack file) against a
 * mocked AWS account (default: quotas that hold both stacks, every type offered) and returns every
 * registered resource, once all registrations have settled. A program error is returned in `error`,
 * with whatever was registered before it.
 */
export async function runProgram(
  stack: string,
  raw?: RawConfig,
  account: MockAccount = {},
): Promise<StackRun> {
  const [run, warnings] = await withoutSourceMaps(() =>
    collectingWarnings(() => runProgramOnce(stack, raw, account)),
  );
  return { ...run, warnings };
}

/**
 * Runs `during` with source-mapped stack traces off. Pulumi records every resource's call stack
 * (`new Error().stack`, no depth limit) and mocha runs with `--enable-source-maps`, which maps every
 * frame of every such stack: a quarter of the suite's time. A test's own failure, outside the run,
 * still reports TypeScript lines; an error the program throws is reported by its message.
 */
async function withoutSourceMaps<T>(during: () => Promise<T>): Promise<T> {
  const before = nodeModule.getSourceMapsSupport();
  nodeModule.setSourceMapsSupport(false);
  try {
    return await during();
  } finally {
    nodeModule.setSourceMapsSupport(before.enabled, before);
  }
}

async function runProgramOnce(
  stack: string,
  raw: RawConfig | undefined,
  account: MockAccount,
): Promise<Omit<StackRun, "warnings">> {
  const file = readStackConfig(stack);
  // Every declared secret the run sets is handed over as a secret, as the Pulumi CLI would.
  const secretKeys = [
    ...new Set([...file.secretKeys, ...secretConfigKeys.filter((k) => raw && k in raw)]),
  ];
  const config = raw ?? file.raw;
  // The mocks answer in the stack's region, as AWS would (ARNs, the OIDC issuer, endpoints). A config
  // without one fails validation before any resource; no real region stands in for it.
  const region = typeof config["aws:region"] === "string" ? config["aws:region"] : "no-region";
  const registered: pulumi.runtime.MockResourceArgs[] = [];
  const options = new Map<string, { opts: pulumi.ResourceOptions; resource: pulumi.Resource }>();

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(args);
        return { id: `${args.name}-id`, state: mockState(args, region) };
      },
      call: (args) => mockCall(args, account, region),
    },
    "llm-platform",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
    secretKeys,
  );

  // Pulumi accepts a sync or an async program function and awaits its result; so does the harness.
  type Program = () => Record<string, unknown> | Promise<Record<string, unknown>>;
  // The program must load after setMocks/setAllConfig above; a static import would be hoisted.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require("../index") as Program;
  let failure: Error | undefined;
  let rawOutputs: Record<string, unknown> = {};
  const outputs = await pulumi.runtime
    .runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((t) => {
        options.set(`${t.type}::${t.name}`, { opts: t.opts, resource: t.resource });
        return undefined;
      });
      rawOutputs = await program();
      return rawOutputs;
    })
    .catch((e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      return undefined;
    });
  // waitForRPCs is not re-exported by @pulumi/pulumi's public runtime index; load its own module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require("@pulumi/pulumi/runtime/settings").waitForRPCs();

  const resources = registered
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r): RecordedResource => {
      const o = options.get(`${r.type}::${r.name}`);
      const opts = (o?.opts ?? {}) as pulumi.CustomResourceOptions &
        pulumi.ComponentResourceOptions;
      const provider = o?.resource.getProvider(r.type);
      const explicit = Array.isArray(opts.providers)
        ? opts.providers
        : Object.values(opts.providers ?? {});
      const parent = opts.parent as unknown as
        { __name?: string; __pulumiType?: string } | undefined;
      const dependsOn = ([] as unknown[]).concat(opts.dependsOn ?? []);
      const secretPaths: string[] = [];
      return {
        type: r.type,
        name: r.name,
        inputs: unwrapSecrets(r.inputs, "", secretPaths) as Record<string, any>,
        secretPaths,
        provider: provider ? nameOf(provider).split("::")[1] : undefined,
        explicitProviders: explicit.map((p) => nameOf(p).split("::")[1] ?? ""),
        dependsOn: dependsOn.map(nameOf),
        parent: parent?.__pulumiType === "pulumi:pulumi:Stack" ? undefined : parent?.__name,
        ignoreChanges: opts.ignoreChanges ?? [],
        aliasTypes: (opts.aliases ?? []).flatMap((a) =>
          typeof a === "object" && "type" in a && typeof a.type === "string" ? [a.type] : [],
        ),
      };
    });
  return {
    stack,
    resources,
    outputs: (outputs ?? {}) as Record<string, any>,
    rawOutputs,
    error: failure,
    ofType: (type) => resources.filter((r) => r.type === type),
    get: (type, name) => {
      const found = resources.find((r) => r.type === type && r.name === name);
      if (!found) {
        const names = resources.filter((r) => r.type === type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ") || "none"}`);
      }
      return found;
    },
  };
}

const realRuns = new Map<string, Promise<StackRun>>();

/** The program run for a real stack file, shared by every test file (run once per stack). */
export function runStack(stack: StackName): Promise<StackRun> {
  let run = realRuns.get(stack);
  if (!run) {
    run = runProgram(stack).then((r) => {
      if (r.error) throw r.error;
      return r;
    });
    realRuns.set(stack, run);
  }
  return run;
}

/** Which resources the program runs under mocks are Kubernetes objects with an upstream schema. */
export function isKubernetesObject(type: string): boolean {
  return (
    /^kubernetes:[^:]+:[A-Za-z]+$/.test(type) &&
    !type.startsWith("kubernetes:helm.sh/") &&
    !type.endsWith("Patch")
  );
}

/**
 * Validates a recorded Kubernetes object against the upstream OpenAPI schema shipped in the
 * `kubernetes-models` package (ESM, hence the dynamic import). Throws with the schema's complaint.
 */
export async function validateKubernetesObject(r: RecordedResource): Promise<void> {
  const m = /^kubernetes:(?:([^/]+)\/)?([^:]+):(\w+)$/.exec(r.type);
  if (!m) throw new Error(`not a Kubernetes type: ${r.type}`);
  const [, group, version, kind] = m;
  // Custom resources validate against their operator's published schema.
  const crdPackages: Record<string, string> = {
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
    "keda.sh": "@kubernetes-models/keda",
    // Generated from ESO v0.16.2: the v1 fields this program writes are all there (checked against
    // the 2.9.0 CRDs by rendering the chart).
    "external-secrets.io": "@kubernetes-models/external-secrets",
    "argoproj.io": "@kubernetes-models/argo-workflows",
  };
  const pkg = crdPackages[group ?? ""] ?? "kubernetes-models";
  const modulePath =
    !group || group === "core" ? `${pkg}/${version}` : `${pkg}/${group}/${version}`;
  const mod = (await import(modulePath)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = mod[kind!];
  if (!Model) throw new Error(`${modulePath} has no ${kind}`);
  try {
    new Model(r.inputs).validate();
  } catch (e) {
    throw new Error(`${r.type} ${r.name} fails the Kubernetes schema: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
