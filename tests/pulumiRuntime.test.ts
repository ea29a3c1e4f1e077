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
import { configKeys } from "../components/config";
import { repoRoot } from "./harness";

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

  it("documents every config key the program reads in Pulumi.yaml", () => {
    assert.deepEqual(Object.keys(project.config).sort(), [...configKeys].sort());
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
