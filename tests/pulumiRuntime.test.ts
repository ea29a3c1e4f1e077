/**
 * `pulumi up` loads index.ts through ts-node (Pulumi's vendored copy unless the project has one) with
 * the tsconfig named in Pulumi.yaml. This checks that path offline: the program must load
 * transpile-only, exactly as the Pulumi CLI would load it.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { configKeys } from "../components/config/platformConfig";
import { repoRoot } from "../verify/program";

describe("Pulumi runtime settings", () => {
  const project = yaml.load(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as any;

  it("runs on nodejs with a transpile-only tsconfig (type-checking is done once, in npm test)", () => {
    assert.equal(project.name, "llm-platform");
    assert.deepEqual(project.runtime, {
      name: "nodejs",
      options: { packagemanager: "npm", tsconfig: "tsconfig.pulumi.json" },
    });
    const tsconfig = fs.readFileSync(path.join(repoRoot, "tsconfig.pulumi.json"), "utf8");
    assert.match(tsconfig, /"noCheck": true/);
  });

  it("declares in Pulumi.yaml exactly the keys both stacks set, and documents every key in the README", () => {
    const declared = Object.keys(project.config).sort();
    for (const stack of ["dev", "prod"]) {
      const file = yaml.load(
        fs.readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8"),
      ) as { config: object };
      // A declared key without a default is required in every stack by the Pulumi CLI.
      for (const key of declared)
        assert.ok(key in file.config, `${key} missing from Pulumi.${stack}.yaml`);
    }
    for (const key of declared)
      assert.ok(configKeys.includes(key), `${key} is declared but not read`);
    // Namespaced keys of other packages may not be declared without a value (the CLI rejects them).
    assert.ok(declared.every((k) => k.startsWith("llm-platform:")));
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
    for (const key of configKeys) {
      const short = key.replace(/^llm-platform:/, "");
      assert.ok(
        readme.includes(`\`${key}\``) || readme.includes(`\`${short}`),
        `${key} not in the README's configuration reference`,
      );
    }
  });

  it("loads index.ts the way the Pulumi CLI does", function () {
    this.timeout(60_000);
    const script = `
      const tsnode = require(${JSON.stringify(path.join(repoRoot, "node_modules/@pulumi/pulumi/vendor/ts-node@7.0.1"))});
      tsnode.register({ compiler: "typescript", transpileOnly: true, project: "tsconfig.pulumi.json", compilerOptions: {} });
      process.stdout.write(typeof require(${JSON.stringify(path.join(repoRoot, "index.ts"))}));`;
    const out = execFileSync(process.execPath, ["-e", script], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(out, "function");
  });
});
