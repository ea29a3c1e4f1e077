/**
 * Renders the Helm releases a stack installs with the real chart packages at their pinned versions and
 * exactly the release name, namespace, values and Kubernetes version the program uses, so the objects a
 * `pulumi up` would create from charts can be checked like the program's own.
 *
 * Chart packages live in `<cache>/charts/<chart>-<version>.tgz` (see verify/helm.ts for `<cache>`),
 * fetched with `helm pull --repo` when missing and the network allows, reused offline. Nothing from a
 * chart is ever written into this repository. Renders are memoised in `<cache>/renders/` by a hash of
 * everything that determines them, so an unchanged release is not rendered twice.
 */
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { charts, helmBinary, type ChartPin } from "../components/platform/versions";
import { cacheDir } from "./helm";
import type { KObject } from "./model";

const run = promisify(execFile);

/** A Helm release as the program registers it. */
export interface ReleaseSpec {
  readonly name: string;
  readonly namespace: string;
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, unknown>;
  readonly maxHistory: number;
}

/** What rendering one release gave: its objects, or why there are none. */
export type ReleaseRender =
  | { readonly release: ReleaseSpec; readonly objects: KObject[] }
  | { readonly release: ReleaseSpec; readonly missing: string }
  | { readonly release: ReleaseSpec; readonly error: string };

/**
 * API groups a live cluster offers when these releases install (Capabilities.APIVersions): the
 * Prometheus Operator CRDs arrive first with kube-prometheus-stack, and charts that gate their
 * ServiceMonitors on them (dcgm-exporter) must see them as the real install does.
 */
const clusterApiVersions = [
  "monitoring.coreos.com/v1",
  "monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PodMonitor",
  "monitoring.coreos.com/v1/PrometheusRule",
];

/** Where a chart package is cached. */
export function chartPackagePath(chart: string, version: string): string {
  return path.join(cacheDir(), "charts", `${chart}-${version}.tgz`);
}

/** The pinned charts whose packages are in the cache, and those that are not. */
export function chartCache(): { cached: ChartPin[]; missing: ChartPin[] } {
  const all: ChartPin[] = Object.values(charts);
  const isCached = (p: ChartPin) => fs.existsSync(chartPackagePath(p.chart, p.version));
  return { cached: all.filter(isCached), missing: all.filter((p) => !isCached(p)) };
}

/**
 * One line saying which chart-backed checks ran (charts rendered with real helm) and which did not,
 * and why: what `.ci/run` prints after the tests.
 */
export function chartCheckSummary(): string {
  const { cached, missing } = chartCache();
  const all = cached.length + missing.length;
  const names = (ps: ChartPin[]) => ps.map((p) => `${p.chart} ${p.version}`).join(", ");
  return (
    `chart-backed checks: ${cached.length} of ${all} pinned charts rendered with real helm and checked` +
    (missing.length
      ? `; not rendered: ${names(missing)} (not in ${path.dirname(chartPackagePath("x", "0"))}; ` +
        "`npm run charts -- <stack>` pulls them), so their releases were checked against the chart contract only"
      : "")
  );
}

/**
 * The cached package of a chart, pulled from its repository when missing (and `pull` is allowed).
 * Returns undefined, with the reason, when it cannot be had.
 */
async function ensureChart(
  helm: string,
  r: Pick<ReleaseSpec, "repo" | "chart" | "version">,
  pull: boolean,
): Promise<{ file: string } | { missing: string }> {
  const file = chartPackagePath(r.chart, r.version);
  if (fs.existsSync(file)) return { file };
  if (!pull) return { missing: `${path.basename(file)} is not in ${path.dirname(file)}` };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    await run(helm, [
      "pull",
      r.chart,
      "--repo",
      r.repo,
      "--version",
      r.version,
      "-d",
      path.dirname(file),
    ]);
    return { file };
  } catch (e) {
    const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    return { missing: `helm pull ${r.chart} ${r.version} from ${r.repo} failed: ${why}` };
  }
}

/** The namespace of every namespaced object a chart renders without one (as Helm installs it). */
function withNamespace(o: KObject, namespace: string): KObject {
  if (o.metadata.namespace || clusterScopedKinds.has(o.kind)) return o;
  return { ...o, metadata: { ...o.metadata, namespace } };
}

const clusterScopedKinds = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "IngressClass",
  "IngressClassParams",
  "StorageClass",
  "PriorityClass",
  "APIService",
  "RuntimeClass",
  "PersistentVolume",
]);

/** Renders one release with `helm template`; the result is memoised by its inputs. */
async function renderRelease(
  helm: string,
  r: ReleaseSpec,
  kubeVersion: string,
  pull: boolean,
): Promise<ReleaseRender> {
  const chart = await ensureChart(helm, r, pull);
  if ("missing" in chart) return { release: r, missing: chart.missing };
  const values = JSON.stringify(r.values);
  const args = [
    "template",
    r.name,
    chart.file,
    "--namespace",
    r.namespace,
    "--kube-version",
    kubeVersion,
    ...clusterApiVersions.flatMap((v) => ["--api-versions", v]),
  ];
  const key = crypto
    .createHash("sha256")
    .update(fs.readFileSync(chart.file))
    .update(JSON.stringify([helmBinary.helmVersion, process.env.HELM ?? "", args, values]))
    .digest("hex");
  const memo = path.join(cacheDir(), "renders", `${r.name}-${key.slice(0, 32)}.yaml`);
  let text: string;
  if (fs.existsSync(memo)) {
    text = fs.readFileSync(memo, "utf8");
  } else {
    const dir = fs.mkdtempSync(path.join(cacheDir(), "values-"));
    try {
      const valuesFile = path.join(dir, "values.json");
      fs.writeFileSync(valuesFile, values);
      text = (await run(helm, [...args, "--values", valuesFile], { maxBuffer: 256 << 20 })).stdout;
    } catch (e) {
      const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
      return { release: r, error: why };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.mkdirSync(path.dirname(memo), { recursive: true });
    fs.writeFileSync(memo, text);
  }
  const objects = (yaml.loadAll(text) as (KObject | null)[])
    .filter((o): o is KObject => !!o && typeof o === "object" && !!o.kind)
    // A `List` is applied as its items.
    .flatMap((o) => (o.kind === "List" ? ((o.items ?? []) as KObject[]) : [o]))
    .map((o) => withNamespace(o, r.namespace));
  return { release: r, objects };
}

/** Renders every release (two at a time: helm is CPU-bound and CI has two cores). */
export async function renderReleases(
  helm: string,
  releases: readonly ReleaseSpec[],
  kubeVersion: string,
  pull: boolean,
): Promise<ReleaseRender[]> {
  const out: ReleaseRender[] = new Array(releases.length);
  let next = 0;
  const worker = async () => {
    while (next < releases.length) {
      const i = next++;
      out[i] = await renderRelease(helm, releases[i]!, kubeVersion, pull);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}
