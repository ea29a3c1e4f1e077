import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A file of this project's source tree, by its path from the project root (where Pulumi.yaml is),
 * wherever the calling module runs from: `components/` when `pulumi` runs the TypeScript in place,
 * `bin/components/` when the tests run the compiled program. Programs the platform ships to pods
 * (e.g. the adapter sync's) are read from here, so what is tested is what is deployed.
 */
export function sourceFile(fromRoot: string): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no Pulumi.yaml above ${__dirname}: cannot find ${fromRoot}`);
    dir = up;
  }
  const file = path.join(dir, fromRoot);
  if (!fs.existsSync(file)) throw new Error(`${fromRoot} is missing from the project`);
  return file;
}
