/**
 * The README, offline: its Markdown tables render (no table split by a blank line, every row with the
 * header's cell count), the configuration reference is one table, and it names every config key the
 * schemas declare. Also: every npm script that runs compiled code builds it first (fresh clones).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { registry, routedServices } from "../components/platform/registry";
import { configKeys, configSchema } from "../components/config/platformConfig";
import { repoRoot, runStack, stacks } from "../verify/program";

const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");

/** Cells of a table row: split on `|` not escaped as `\|`. */
const cells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

/** Runs of consecutive lines starting with `|`, with their first line number. */
function tableBlocks(text: string): { start: number; lines: string[] }[] {
  const blocks: { start: number; lines: string[] }[] = [];
  let inFence = false;
  text.split("\n").forEach((line, i) => {
    if (line.startsWith("```")) inFence = !inFence;
    const row = !inFence && line.trimStart().startsWith("|");
    const last = blocks[blocks.length - 1];
    if (row && last && last.start + last.lines.length === i) last.lines.push(line);
    else if (row) blocks.push({ start: i, lines: [line] });
  });
  return blocks;
}

/** Problems that stop a block of `|` lines rendering as one table. */
export function tableProblems(text: string): string[] {
  const problems: string[] = [];
  for (const { start, lines } of tableBlocks(text)) {
    const where = `line ${start + 1}`;
    if (lines.length < 2 || !/^\|?\s*:?-{3,}/.test(lines[1]!.trim())) {
      problems.push(
        `${where}: rows without a header and separator (a table split by a blank line?)`,
      );
      continue;
    }
    const width = cells(lines[0]!).length;
    lines.forEach((l, j) => {
      if (cells(l).length !== width)
        problems.push(`line ${start + j + 1}: ${cells(l).length} cells, header has ${width}`);
    });
  }
  return problems;
}

/** Dotted field paths a schema declares, below its top-level key (instance maps use `<...>`). */
function fieldNames(schema: z.ZodType, depth = 0): string[] {
  const s = schema as any;
  const inner = s.unwrap?.() ?? s.def?.innerType ?? s.def?.in;
  if (s.def?.type === "array") return fieldNames(s.element, depth);
  if (s.def?.type === "union") {
    return (s.def.options as z.ZodType[]).flatMap((o) => fieldNames(o, depth));
  }
  if (s.def?.type === "object") {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => [
      k,
      ...(depth < 3 ? fieldNames(v, depth + 1) : []),
    ]);
  }
  return inner && inner !== schema ? fieldNames(inner, depth) : [];
}

describe("README", () => {
  it("renders every table: no split tables, every row as wide as its header", () => {
    assert.deepEqual(tableProblems(readme), []);
  });

  it("catches a table split by a blank line, and a row with a cell too many", () => {
    const table = "| a | b |\n| --- | --- |\n| 1 | 2 |\n";
    assert.deepEqual(tableProblems(table), []);
    assert.equal(tableProblems(`${table}\n| 3 | 4 |\n`).length, 1);
    assert.deepEqual(tableProblems(`${table}| 3 | 4 | 5 |\n`), ["line 4: 3 cells, header has 2"]);
  });

  it("has one configuration table that names every config key and field", () => {
    const instanceKeys = new Set([
      ...Object.keys(registry.namespaces),
      ...Object.keys(registry.services),
      ...routedServices(registry).map(([, d]) => d.route.key),
      ...Object.keys(registry.models),
    ]);
    const section = readme.slice(
      readme.indexOf("## Configuration reference"),
      readme.indexOf("\n## ", readme.indexOf("## Configuration reference") + 1),
    );
    const blocks = tableBlocks(section);
    assert.equal(blocks.length, 1, "one table");
    const rows = blocks[0]!.lines.slice(2).map((l) => cells(l).join(" "));
    const missing: string[] = [];
    for (const key of configKeys) {
      const short = key.replace(/^llm-platform:/, "");
      const mine = rows.filter((r) => r.includes(`\`${key}`) || r.includes(`\`${short}`));
      if (mine.length === 0) {
        missing.push(key);
        continue;
      }
      const shape = (configSchema as any).shape[key] as z.ZodType;
      for (const field of new Set(fieldNames(shape))) {
        // Instance keys (the registry's namespace, service, route and variant names) appear as
        // <ns>, <svc>, <v>: a new registry entry needs no new row, a new field of its own does.
        if (instanceKeys.has(field)) continue;
        if (/^(requests|limits|cpu|memory|pods|services|secrets|configmaps)$/.test(field)) continue;
        if (!mine.some((r) => r.includes(field))) missing.push(`${short}: ${field}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

/** The IAM service prefix each resource type the program registers is created through. */
const iamPrefixes: Record<string, string[]> = {
  acm: ["acm"],
  autoscaling: ["autoscaling"],
  budgets: ["budgets"],
  cloudwatch: ["logs"],
  ec2: ["ec2"],
  ecr: ["ecr"],
  efs: ["elasticfilesystem"],
  eks: ["eks"],
  iam: ["iam"],
  kms: ["kms"],
  route53: ["route53"],
  s3: ["s3"],
  secretsmanager: ["secretsmanager"],
  wafv2: ["wafv2"],
};
/** Remote components and what they create (pulumi-eks: cluster, roles, OIDC provider, security groups). */
const componentPrefixes: Record<string, string[]> = {
  "eks:index:Cluster": ["eks", "iam", "ec2"],
  "awsx:ec2:Vpc": ["ec2"],
};
/** Read-only calls: the account id (sts) and the preflight's quota reads (servicequotas). */
const invokePrefixes = ["sts", "servicequotas"];

describe("README: AWS permissions", () => {
  it("names every IAM service the program creates resources through, and only those (acm and route53 with a hosted zone)", async () => {
    const needed = new Set(invokePrefixes);
    for (const stack of stacks) {
      for (const r of (await runStack(stack)).resources) {
        const m = /^aws:([a-z0-9]+)\//.exec(r.type);
        const prefixes = m ? iamPrefixes[m[1]!] : componentPrefixes[r.type];
        if (m) assert.ok(prefixes, `map ${r.type} to its IAM prefix in this test`);
        for (const p of prefixes ?? []) needed.add(p);
      }
    }
    const section = readme.slice(
      readme.indexOf("- **AWS permissions.**"),
      readme.indexOf("- **A Pulumi backend.**"),
    );
    const documented = new Set(
      section
        .split("\n")
        .filter((l) => l.trim().startsWith("| `"))
        .flatMap((l) => [...cells(l)[0]!.matchAll(/`([a-z0-9]+)`/g)].map((x) => x[1]!)),
    );
    assert.deepEqual(
      [...needed].filter((p) => !documented.has(p)),
      [],
      "missing from the README",
    );
    assert.deepEqual(
      [...documented].filter((p) => !needed.has(p) && !["acm", "route53"].includes(p)),
      [],
      "documented but never used",
    );
  });
});

describe("npm scripts", () => {
  it("build before running compiled code, so they work from a fresh clone", () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"))
      .scripts as Record<string, string>;
    for (const [name, cmd] of Object.entries(scripts)) {
      if (cmd.includes("bin/")) assert.match(cmd, /npm run build\b.*&&/, name);
    }
  });
});
