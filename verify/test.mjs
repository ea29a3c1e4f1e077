// `npm test`: type-check and test side by side. The tests need only JavaScript, and turning each
// TypeScript file into JavaScript needs no type information (tsconfig.json sets isolatedModules, so
// tsc rejects anything a file-by-file transpile would get wrong). So this transpiles every file of
// tsconfig.json into bin/ (a few seconds, no .d.ts of the dependencies loaded), then runs mocha and
// `tsc --noEmit` (the full strict type-check, the slow part) at the same time, on two cores. It fails
// when either fails; tsc's report is printed after mocha's. Plain JavaScript: it runs before any build.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Transpiles every file tsconfig.json includes into its outDir, as tsc would lay them out. */
function transpileProject() {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(d.messageText) };
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, host);
  if (config.errors.length) fail(ts.formatDiagnostics(config.errors, formatHost));
  const { options } = config;
  fs.rmSync(options.outDir, { recursive: true, force: true });
  for (const file of config.fileNames) {
    const out = path.join(options.outDir, path.relative(options.rootDir, file));
    const js = out.replace(/\.mts$/, ".mjs").replace(/\.ts$/, ".js");
    const result = ts.transpileModule(fs.readFileSync(file, "utf8"), {
      compilerOptions: options,
      fileName: file,
      reportDiagnostics: true,
    });
    if (result.diagnostics?.length) fail(ts.formatDiagnostics(result.diagnostics, formatHost));
    fs.mkdirSync(path.dirname(js), { recursive: true });
    fs.writeFileSync(js, result.outputText);
    if (result.sourceMapText) fs.writeFileSync(`${js}.map`, result.sourceMapText);
    // JSON modules (resolveJsonModule) are copied, as tsc emits them.
    for (const m of result.outputText.matchAll(/require\("(\.[^"]+\.json)"\)/g)) {
      const target = path.resolve(path.dirname(js), m[1]);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.resolve(path.dirname(file), m[1]), target);
    }
  }
}

const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => "\n",
};

function fail(message) {
  process.stderr.write(`${String(message)}\n`);
  process.exit(1);
}

/** Runs a command; resolves to its exit code. `quiet` buffers its output and returns it. */
function run(command, args, quiet) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: quiet ? "pipe" : "inherit" });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

transpileProject();
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const [tests, types] = await Promise.all([
  run(bin("mocha"), process.argv.slice(2), false),
  run(bin("tsc"), ["-p", "tsconfig.json", "--noEmit"], true),
]);
process.stdout.write(
  types.code === 0
    ? "tsc: the strict type-check passed\n"
    : `\ntsc: the strict type-check failed:\n${types.output}\n`,
);
process.exit(tests.code || types.code);
