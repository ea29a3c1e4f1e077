/**
 * A stand-in for what Argo's executor does around one step of the benchmark WorkflowTemplate, enough
 * to run the real program (components/benchmarks/program/main.mts) against a fake S3 bucket (a local
 * directory): substitute the step's parameters, download its input artifacts by their S3 keys (a file,
 * or every object under a "directory" key; optional ones may be missing), run its command with its
 * environment (container paths mapped into a scratch directory), then collect its output parameters
 * and upload its output artifacts to their keys. Keys, paths and environment come from the template
 * itself, so a disagreement between the template and the program fails the tests that use this.
 *
 * Not simulated: the DAG (tests call the steps in order), retries (tests call a step again with the
 * next attempt), and the vLLM client, whose saved result a test supplies.
 *
 * A step runs the shipped files under Node (as the pod does) when `shipped` is set; otherwise the
 * compiled copy of the same source in this process, which is ten times faster (no type stripping and
 * process start per step) for tests that run many steps.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Node.js 22.18+ strips types by default; 22.6-22.17 need the flag (the project needs Node 22). */
const stripTypes = (process as { features?: { typescript?: string } }).features?.typescript
  ? []
  : ["--experimental-strip-types", "--no-warnings"];

/** Replaces `{{name}}` in every string of a value where `vars` has the name. */
function substitute<T>(value: T, vars: Record<string, string>): T {
  return JSON.parse(
    JSON.stringify(value).replace(/\{\{([\w.-]+)\}\}/g, (m, name: string) =>
      name in vars ? JSON.stringify(vars[name]!).slice(1, -1) : m,
    ),
  ) as T;
}

type Outcome = { status: number; stdout: string; stderr: string };

/** The shipped file under Node, asynchronously (a fake Prometheus in this process must answer). */
function shippedRun(script: string, args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...stripTypes, script, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** The compiled copy of the same program, in this process, its exceptions reported as Node would. */
async function compiledRun(args: string[], env: Record<string, string>): Promise<Outcome> {
  const { main } = await import("../../components/benchmarks/program/main.mjs");
  const out = { stdout: "", stderr: "" };
  const log = {
    log: (l: string) => (out.stdout += `${l}\n`),
    error: (l: string) => (out.stderr += `${l}\n`),
  };
  try {
    return { status: await main(args[0], env, log), ...out };
  } catch (e) {
    return { status: 2, stdout: out.stdout, stderr: out.stderr + (e as Error).message };
  }
}

export interface StepResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
}

export class ArgoSimulator {
  private readonly program = fs.mkdtempSync(path.join(os.tmpdir(), "program-"));

  /**
   * @param spec the WorkflowTemplate's spec
   * @param programFiles the program ConfigMap's data (file name -> content)
   * @param workflow the workflow's name and parameters
   * @param bucket the fake bucket (object keys are paths under it); default a new empty one
   */
  constructor(
    private readonly spec: any,
    programFiles: Record<string, string>,
    private readonly workflow: { name: string; parameters: Record<string, string> },
    readonly bucket = fs.mkdtempSync(path.join(os.tmpdir(), "bucket-")),
    private readonly shipped = false,
  ) {
    for (const [f, text] of Object.entries(programFiles)) {
      fs.writeFileSync(path.join(this.program, f), text);
    }
  }

  /** The template of a step, with the workflow's and the step's parameters substituted. */
  template(name: string, params: Record<string, string>): any {
    const t = this.spec.templates.find((x: any) => x.name === name);
    if (!t) throw new Error(`no template ${name}`);
    const declared = (t.inputs?.parameters ?? []).map((p: any) => p.name);
    const missing = declared.filter((p: string) => !(p in params));
    if (missing.length) throw new Error(`${name}: missing parameters ${missing.join(", ")}`);
    const vars: Record<string, string> = { "workflow.name": this.workflow.name };
    for (const [k, v] of Object.entries(this.workflow.parameters))
      vars[`workflow.parameters.${k}`] = v;
    for (const p of declared) vars[`inputs.parameters.${p}`] = params[p]!;
    return substitute(t, vars);
  }

  /** Where a container path lives in this run's scratch directory. */
  private mapper(pod: string) {
    const mounts: [string, string][] = [["/program", this.program]];
    return (p: string) => {
      for (const [from, to] of mounts)
        if (p === from || p.startsWith(`${from}/`)) return to + p.slice(from.length);
      return path.join(pod, p);
    };
  }

  /** An object, or the objects under a prefix, copied to `dest` (false when there is none). */
  private download(key: string, dest: string): boolean {
    const src = path.join(this.bucket, key);
    if (!fs.existsSync(src)) return false;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(src, dest, { recursive: true });
    return true;
  }

  /** Uploads a file, or every file of a directory under the key as a prefix. */
  private upload(src: string, key: string): void {
    const dest = path.join(this.bucket, key);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(src, dest, { recursive: true });
  }

  /** The keys in the bucket, sorted. */
  keys(prefix = ""): string[] {
    const walk = (dir: string): string[] =>
      fs.existsSync(dir)
        ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
            const p = path.join(dir, e.name);
            return e.isDirectory() ? walk(p) : [path.relative(this.bucket, p)];
          })
        : [];
    return walk(path.join(this.bucket, prefix)).sort();
  }

  readJson(key: string): any {
    return JSON.parse(fs.readFileSync(path.join(this.bucket, key), "utf8"));
  }

  /**
   * Runs one step. For a step of the program the command runs under Node; for another (the vLLM
   * client) `fake` writes what its container would leave (paths given as container paths).
   */
  async run(
    name: string,
    params: Record<string, string>,
    fake?: (write: (containerPath: string, content: string) => void) => number,
  ): Promise<StepResult> {
    const t = this.template(name, params);
    const pod = fs.mkdtempSync(path.join(os.tmpdir(), `pod-${name}-`));
    const map = this.mapper(pod);
    for (const a of t.inputs?.artifacts ?? []) {
      if (!this.download(a.s3.key, map(a.path)) && !a.optional) {
        return { status: -1, stdout: "", stderr: `input artifact ${a.name} missing`, outputs: {} };
      }
    }
    fs.mkdirSync(map("/work/out"), { recursive: true });
    let r: { status: number; stdout: string; stderr: string };
    if (fake) {
      const status = fake((p, content) => {
        fs.mkdirSync(path.dirname(map(p)), { recursive: true });
        fs.writeFileSync(map(p), content);
      });
      r = { status, stdout: "", stderr: "" };
    } else {
      const [cmd, script, ...args] = t.container.command as string[];
      if (cmd !== "node") throw new Error(`${name}: not a program step (${cmd})`);
      const env = Object.fromEntries(
        (t.container.env as { name: string; value: string }[]).map((e) => [
          e.name,
          e.value.startsWith("/") ? map(e.value) : e.value,
        ]),
      );
      r = this.shipped ? await shippedRun(map(script!), args, env) : await compiledRun(args, env);
    }
    const outputs: Record<string, string> = {};
    for (const p of t.outputs?.parameters ?? []) {
      const file = map(p.valueFrom.path);
      if (fs.existsSync(file)) outputs[p.name] = fs.readFileSync(file, "utf8");
      else if (p.valueFrom.default !== undefined) outputs[p.name] = p.valueFrom.default;
      else throw new Error(`${name}: output parameter ${p.name} has no file and no default`);
    }
    // Artifacts are uploaded whatever the exit code (Argo's wait container saves them either way).
    for (const a of t.outputs?.artifacts ?? []) {
      const file = map(a.path);
      if (fs.existsSync(file)) this.upload(file, a.s3.key);
      else if (!a.optional) throw new Error(`${name}: output artifact ${a.name} missing`);
    }
    return { ...r, outputs };
  }
}
