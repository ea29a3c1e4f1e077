// `npm test`: the strict type-check, the type-aware lint and the tests, side by side on two cores.
//
// - A child process transpiles every TypeScript file of tsconfig.json into bin/ on its own (tsconfig
//   sets isolatedModules, so tsc rejects anything a file-by-file transpile would get wrong; the output
//   is tsc's, byte for byte: seconds, no type information, no dependency .d.ts loaded), then runs mocha
//   over the compiled tests.
// - Meanwhile this process builds the TypeScript program once and uses it twice: tsc's diagnostics
//   (what `tsc --noEmit` reports) and ESLint with its type-aware rules (`parserOptions.programs`),
//   which reuse the types the type-check computed instead of building a second program. That sharing
//   is what keeps `.ci/run` near a minute on two cores.
// Fails when any of the three fails; the type-check and lint reports follow mocha's.
// Plain JavaScript: it runs before anything is compiled. `npm test -- <mocha args>` passes them on.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import ts from "typescript";

const youngGeneration = "--max-semi-space-size=64";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => "\n",
};

function fail(message) {
  process.stderr.write(`${String(message)}\n`);
  process.exit(1);
}

/** tsconfig.json, parsed. */
function projectConfig() {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(d.messageText) };
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, host);
  if (config.errors.length) fail(ts.formatDiagnostics(config.errors, formatHost));
  return config;
}

/** Transpiles every file of the project into its outDir, as tsc lays them out. */
function transpile({ fileNames, options }) {
  fs.rmSync(options.outDir, { recursive: true, force: true });
  for (const file of fileNames) {
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

/** Runs a command with the terminal; resolves to its exit code. */
function run(command, args) {
  return new Promise((resolve) => {
    // A larger young generation: the program runs under mocks allocate fast (about a tenth faster).
    const env = {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${youngGeneration}`,
    };
    const child = spawn(command, args, { cwd: root, stdio: "inherit", env });
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** The strict type-check and the whole ESLint run, over one TypeScript program. */
async function typeCheckAndLint({ fileNames, options }) {
  const program = ts.createProgram({ rootNames: fileNames, options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const eslint = new ESLint({
    cwd: root,
    overrideConfig: [
      {
        files: ["**/*.ts", "**/*.mts"],
        languageOptions: { parserOptions: { programs: [program] } },
      },
    ],
  });
  const results = await eslint.lintFiles(["."]);
  const problems = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);
  const lint = problems ? await (await eslint.loadFormatter("stylish")).format(results) : "";
  return {
    ok: diagnostics.length === 0 && problems === 0,
    report:
      (diagnostics.length
        ? `tsc: the strict type-check failed:\n${ts.formatDiagnostics(diagnostics, formatHost)}\n`
        : "tsc: the strict type-check passed\n") +
      (problems ? `eslint: ${problems} problem(s):${lint}\n` : "eslint: no problems\n"),
  };
}

const config = projectConfig();
if (process.env.LLM_PLATFORM_TEST_PART === "tests") {
  // The child: transpile, then mocha.
  transpile(config);
  process.exit(await run(path.join(root, "node_modules", ".bin", "mocha"), process.argv.slice(2)));
}
// The parent: the tests in a child process (this script again), the checks here, at the same time.
const tests = new Promise((resolve) => {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, LLM_PLATFORM_TEST_PART: "tests" },
    },
  );
  child.on("close", (code) => resolve(code ?? 1));
});
const checks = await typeCheckAndLint(config);
const testsCode = await tests;
process.stdout.write(checks.report);
process.exit(testsCode || (checks.ok ? 0 : 1));
