/**
 * Any region: the program run with another region in the stack file names only that region in what
 * it registers (ARNs, endpoints, chart values), and the cost estimate prices it, saying where prices
 * were borrowed. The committed stacks' region is one choice among AWS's regions, not an assumption:
 * `LLM_PLATFORM_TEST_REGION=<region> npm test` runs the whole suite in another one, and no test may
 * write a region where it means the stack's (checked below, without a second run).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { parseConfig } from "../components/config/platformConfig";
import { formatText } from "../components/cost/report";
import { stackEstimate } from "../components/cost/stackEstimate";
import { knownRegions } from "../components/platform/regions";
import { cloneStackConfig, repoRoot, runProgram } from "../verify/program";

describe("any region", () => {
  const region = "eu-west-1";

  it(`runs dev in ${region}, naming no other region anywhere, and estimates its cost with borrowed prices marked`, async () => {
    const raw = cloneStackConfig("dev");
    const committed = raw["aws:region"];
    raw["aws:region"] = region;
    const run = await runProgram("dev", raw);
    assert.equal(run.error, undefined);
    const regions = [...knownRegions().keys()].filter((r) => r !== region);
    const named = run.resources.flatMap((r) => {
      const text = JSON.stringify(r.inputs);
      return regions
        .filter((other) => text.includes(other))
        .map((o) => `${r.type} ${r.name}: ${o}`);
    });
    assert.deepEqual(named, [], `the stack file's region was ${String(committed)}`);
    // Streaming servers resolve this region's STS name to the VPC's endpoint.
    const pod = run.get("kubernetes:apps/v1:Deployment", "vllm-baseline").inputs.spec.template.spec;
    assert.deepEqual(
      [...new Set(pod.hostAliases.flatMap((a: { hostnames: string[] }) => a.hostnames))],
      [`sts.${region}.amazonaws.com`],
    );
    const text = formatText(stackEstimate("dev", parseConfig(raw, "dev"), run.resources));
    assert.match(text, new RegExp(`^Cost estimate of stack dev \\(${region},`));
    assert.match(text, /^Prices borrowed from us-west-2 \(none read for eu-west-1\): /m);
  });
});

/**
 * The files under tests/ and verify/ whose strings name a real AWS region, how many times, and why
 * that is not the stack's region: each such test hands the region to a pure function, or pins it in a
 * config it builds itself. Everything else derives region values from the stack's config
 * (`stackConfig(stack).region`, `mockOidcIssuer(region)`, `mockResourceArn(region, type, name)`).
 */
const regionLiterals: Record<string, { readonly names: number; readonly why: string }> = {
  "tests/addons/externalSecrets.test.ts": {
    names: 5,
    why: "pure parts: the controller's policy and the store's spec, for a region the test passes",
  },
  "tests/addons/gpuRuntime.test.ts": {
    names: 2,
    why: "the cluster autoscaler's policy (pure), for a region the test passes",
  },
  "tests/config/config.test.ts": {
    names: 8,
    why: "validation of aws:region itself: the opt-in warning, the partition and us-west-9 messages",
  },
  "tests/cost/benchmarkCost.test.ts": {
    names: 1,
    why: "figures worked out by hand from one region's prices: pins aws:region in the config it prices",
  },
  "tests/cost/cost.test.ts": {
    names: 10,
    why: "the price tables of named regions, how a region without one borrows, a mismatched table",
  },
  "tests/edge/edge.test.ts": {
    names: 4,
    why: "albAnnotations (pure) with example ARNs, and a malformed certificate ARN",
  },
  "tests/foundation/preflight.test.ts": {
    names: 9,
    why: "quotaFindings and offeringFindings (pure), for a region the test passes",
  },
  "tests/foundation/stackBudget.test.ts": {
    names: 2,
    why: "an SNS topic ARN handed to the budget's pure spec",
  },
  "tests/lib/stsEndpoint.test.ts": {
    names: 12,
    why: "the STS endpoint helpers (pure), across regions and partitions the test passes",
  },
  "tests/models/modelStore.test.ts": {
    names: 1,
    why: "the staging Job's spec and its scripts (pure), for a region the test passes",
  },
  "tests/observability/observability.test.ts": {
    names: 1,
    why: "mimirValues (pure), for a region the test passes",
  },
  "tests/platform/registry.test.ts": {
    names: 1,
    why: "builds the components with a context and region of its own; runs no stack file",
  },
  "tests/policy.test.ts": {
    names: 1,
    why: "an image reference written into a resource to test the image-tags policy",
  },
  "tests/workflows.test.ts": {
    names: 1,
    why: "the region of the test workflow's second mocha run (LLM_PLATFORM_TEST_REGION)",
  },
  "tests/regions.test.ts": {
    names: 3,
    why: "runs dev in a region it sets itself and reads the borrowed-prices line",
  },
};

/** Every TypeScript file under `dir`, relative to the repository root. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return /\.m?ts$/.test(e.name) ? [rel] : [];
  });
}

/** The region names written in a source's string, template and regular expression literals. */
function regionsNamed(file: string, text: string, pattern: RegExp): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateLiteralToken(node) ||
      ts.isRegularExpressionLiteral(node)
    ) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      for (const m of node.text.matchAll(pattern)) names.push(`${file}:${line} ${m[0]}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** Matches any region AWS has launched, as a whole word. */
function anyRegion(): RegExp {
  const names = [...knownRegions().keys()].join("|");
  return new RegExp(`(?<![a-z0-9-])(?:${names})(?![a-z0-9-])`, "g");
}

describe("no test assumes the stack files' region", () => {
  it("names a real region in a string only in the tests listed with their reason (tests/regions.test.ts)", () => {
    const pattern = anyRegion();
    const found = new Map<string, string[]>();
    for (const file of [...sources("tests"), ...sources("verify")]) {
      const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
      const named = regionsNamed(file, text, pattern);
      if (named.length) found.set(file, named);
    }
    const problems: string[] = [];
    for (const [file, named] of found) {
      const allowed = regionLiterals[file];
      if (!allowed)
        problems.push(
          `${file} names a region (${named.join("; ")}): derive it from the stack's config ` +
            "(stackConfig(stack).region, mockOidcIssuer, mockResourceArn), or, for a pure function " +
            "or a config the test pins itself, list the file in regionLiterals with why",
        );
      else if (allowed.names !== named.length)
        problems.push(
          `${file} names a region ${named.length} times, regionLiterals says ${allowed.names} ` +
            `(${allowed.why}): ${named.join("; ")}; a name where the stack's region is meant ` +
            "must come from the stack's config; otherwise update the count",
        );
    }
    for (const file of Object.keys(regionLiterals))
      if (!found.has(file)) problems.push(`${file} names no region: drop it from regionLiterals`);
    assert.deepEqual(problems, []);
  });

  it("finds a region in strings, templates and regular expressions, not in comments or longer names", () => {
    const [a, b] = [...knownRegions().keys()];
    const snippet = [
      `const arn = \`arn:aws:mock:${a}:1:Key/\${name}\`; // ${b} in a comment`,
      `const re = /${b}/; const pool = "${a}_EXAMPLE1"; const not = "${a}0 x-${b}";`,
    ].join("\n");
    assert.deepEqual(regionsNamed("snippet.ts", snippet, anyRegion()), [
      `snippet.ts:1 ${a}`,
      `snippet.ts:2 ${b}`,
      `snippet.ts:2 ${a}`,
    ]);
  });
});
