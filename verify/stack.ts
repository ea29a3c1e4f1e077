/**
 * The whole-cluster verification of one stack run: render its Helm releases with the real charts
 * (where the packages can be had), build the cluster model, run every check.
 */
import { mockStsEndpointAddresses, mockSubnetLayout, type StackRun } from "./program";
import { renderReleases, type ReleaseRender } from "./charts";
import { buildModel, releasesOf } from "./cluster";
import { checkCluster, checkRenderedSchemas, type Finding } from "./checks";
import { ensureHelm } from "./helm";
import type { ClusterModel, KObject } from "./model";

export interface StackVerification {
  readonly model: ClusterModel;
  readonly renders: readonly ReleaseRender[];
  readonly findings: readonly Finding[];
  /** Custom resource kinds in rendered charts that no schema package covers. */
  readonly noSchema: readonly string[];
  /** Why charts were not rendered at all (no helm), if so. */
  readonly helmUnavailable?: string;
}

/**
 * The VPC CIDR, a public subnet's CIDR, the STS interface endpoint's addresses (as the mocked EC2
 * reports them) and the Kubernetes version a run was built with.
 */
function clusterFacts(run: StackRun): {
  vpcCidr: string;
  loadBalancerCidr: string;
  stsEndpointAddresses: string[];
  kubeVersion: string;
} {
  const vpc = run.ofType("awsx:ec2:Vpc")[0];
  const cluster = run.ofType("eks:index:Cluster")[0];
  if (!vpc || !cluster) throw new Error(`stack ${run.stack} has no VPC or EKS cluster`);
  const layout = vpc.inputs as Parameters<typeof mockSubnetLayout>[0];
  const publicSubnet = mockSubnetLayout(layout).public[0];
  if (!publicSubnet) throw new Error(`stack ${run.stack} has no public subnet`);
  return {
    vpcCidr: vpc.inputs.cidrBlock,
    loadBalancerCidr: publicSubnet,
    stsEndpointAddresses: mockStsEndpointAddresses(layout),
    kubeVersion: `${cluster.inputs.version}.0`,
  };
}

/**
 * Verifies a stack run. `render: false` checks the program's objects against the chart contract only;
 * otherwise charts are rendered where their packages are cached (or pulled, with `pull`).
 */
export async function verifyStack(
  run: StackRun,
  opts: { render: boolean; pull: boolean; log?: (line: string) => void },
): Promise<StackVerification> {
  const { vpcCidr, loadBalancerCidr, stsEndpointAddresses, kubeVersion } = clusterFacts(run);
  let renders: ReleaseRender[] = [];
  let helmUnavailable: string | undefined;
  if (opts.render) {
    try {
      const helm = ensureHelm(opts.log);
      renders = await renderReleases(helm, releasesOf(run), kubeVersion, opts.pull);
    } catch (e) {
      helmUnavailable = (e as Error).message;
    }
  }
  const model = buildModel(run, { vpcCidr, loadBalancerCidr, stsEndpointAddresses }, renders);
  const schema = await checkRenderedSchemas(model);
  const renderFailures: Finding[] = renders.flatMap((r) =>
    "error" in r
      ? [{ check: "render", subject: `release ${r.release.name}`, message: r.error }]
      : [],
  );
  return {
    model,
    renders,
    findings: [...renderFailures, ...checkCluster(model), ...schema.findings],
    noSchema: schema.noSchema,
    ...(helmUnavailable ? { helmUnavailable } : {}),
  };
}

/**
 * The objects the named Helm releases of a run render with the cached charts (the Kubernetes version
 * the run's cluster asks for); a failed render throws, naming the release.
 */
export async function renderedObjects(run: StackRun, names: readonly string[]): Promise<KObject[]> {
  const { kubeVersion } = clusterFacts(run);
  const releases = releasesOf(run).filter((r) => names.includes(r.name));
  const out = await renderReleases(ensureHelm(), releases, kubeVersion, false);
  return out.flatMap((r) => {
    if ("error" in r) throw new Error(`${r.release.name}: ${r.error}`);
    return "objects" in r ? r.objects : [];
  });
}
