/**
 * promtool, Prometheus's own rule checker, for the PromQL the program writes (alert rules, KEDA scaler
 * queries, dashboard panels). Found as $PROMTOOL, in `<cache>/tools/promtool`, or on PATH; on a Debian
 * or Ubuntu machine without it, Debian's `prometheus` package is downloaded with `apt-get download`
 * (no root, nothing installed) and only promtool is extracted into the cache. Nothing is committed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { cacheDir } from "./helm";

/** A Prometheus rule as a rule file holds it (alerting or recording). */
export type RuleFileRule =
  | { alert: string; expr: string; for?: string; labels?: object; annotations?: object }
  | { record: string; expr: string };

function onPath(): string | undefined {
  const r = spawnSync("promtool", ["--version"], { stdio: "ignore" });
  return r.status === 0 ? "promtool" : undefined;
}

/** Extracts promtool from Debian's `prometheus` package into the cache; undefined when apt is absent. */
function fromDebianPackage(target: string): string | undefined {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
  try {
    execFileSync("apt-get", ["download", "prometheus"], { cwd: work, stdio: "ignore" });
    const deb = fs.readdirSync(work).find((f) => f.endsWith(".deb"));
    if (!deb) return undefined;
    execFileSync("dpkg-deb", ["-x", deb, "x"], { cwd: work, stdio: "ignore" });
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(work, "x", "usr", "bin", "promtool"), target);
    fs.chmodSync(target, 0o755);
    return target;
  } catch {
    return undefined;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Path of a promtool, acquiring it on first use; undefined when none can be had here. */
export function findPromtool(): string | undefined {
  if (process.env.PROMTOOL) return process.env.PROMTOOL;
  const cached = path.join(cacheDir(), "tools", "promtool");
  if (fs.existsSync(cached)) return cached;
  return onPath() ?? fromDebianPackage(cached);
}

/** Grafana's substitutions: built-in intervals, then `$var` / `${var}` as a matching regex. */
export function grafanaToPromql(expr: string): string {
  return expr
    .replace(/\$__(rate_)?interval/g, "5m")
    .replace(/\$__range/g, "1h")
    .replace(/\$\{?\w+\}?/g, ".*");
}

/** `promtool check rules` over the given groups: ok, or promtool's own report of what is wrong. */
export function checkRules(
  promtool: string,
  groups: { name: string; rules: RuleFileRule[] }[],
): { ok: boolean; report: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rules-"));
  const file = path.join(dir, "rules.yaml");
  try {
    fs.writeFileSync(file, yaml.dump({ groups }, { lineWidth: -1 }));
    const r = spawnSync(promtool, ["check", "rules", file], { encoding: "utf8" });
    return { ok: r.status === 0, report: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A `promtool test rules` case: input series, then expected query results and alerts. */
export interface RuleTest {
  readonly interval: string;
  readonly input_series: readonly { readonly series: string; readonly values: string }[];
  readonly promql_expr_test?: readonly {
    readonly expr: string;
    readonly eval_time: string;
    readonly exp_samples: readonly { readonly labels: string; readonly value: number }[];
  }[];
  readonly alert_rule_test?: readonly {
    readonly eval_time: string;
    readonly alertname: string;
    readonly exp_alerts: readonly {
      readonly exp_labels: Record<string, string>;
      readonly exp_annotations: Record<string, string>;
    }[];
  }[];
}

/** `promtool test rules`: the groups evaluated over input series; ok, or promtool's report. */
export function testRules(
  promtool: string,
  groups: readonly { name: string; rules: readonly object[] }[],
  tests: readonly RuleTest[],
): { ok: boolean; report: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rules-test-"));
  try {
    fs.writeFileSync(path.join(dir, "rules.yaml"), yaml.dump({ groups }, { lineWidth: -1 }));
    fs.writeFileSync(
      path.join(dir, "test.yaml"),
      yaml.dump(
        { rule_files: ["rules.yaml"], evaluation_interval: "1m", tests },
        { lineWidth: -1 },
      ),
    );
    const r = spawnSync(promtool, ["test", "rules", "test.yaml"], { cwd: dir, encoding: "utf8" });
    return { ok: r.status === 0, report: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
