import * as assert from "node:assert/strict";
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registry } from "../components/platform/registry";
import { writeRender } from "../scripts/render";
import { runStack, stacks, validateKubernetesObject } from "../verify/program";

for (const stack of stacks) {
  describe(`render (${stack})`, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "llm-render-"));
    after(() => fs.rmSync(out, { recursive: true, force: true }));

    it("writes every Kubernetes object, grouped by namespace, each valid against the upstream schema", async () => {
      const run = await runStack(stack);
      writeRender(run, out);
      const dir = path.join(out, stack, "k8s");
      // One file per registered namespace and one for the cluster-scoped objects (the program puts
      // nothing into kube-system: add-ons have namespaces of their own).
      assert.deepEqual(
        fs.readdirSync(dir).sort(),
        ["_cluster", ...Object.keys(registry.namespaces)].map((n) => `${n}.yaml`).sort(),
      );
      let count = 0;
      for (const file of fs.readdirSync(dir)) {
        for (const doc of yaml.loadAll(fs.readFileSync(path.join(dir, file), "utf8")) as any[]) {
          count++;
          const ns = file === "_cluster.yaml" ? undefined : file.replace(/\.yaml$/, "");
          assert.equal(doc.metadata.namespace, ns, `${doc.kind}/${doc.metadata.name} in ${file}`);
          const [group, version] = doc.apiVersion.includes("/")
            ? doc.apiVersion.split("/")
            : ["core", doc.apiVersion];
          await validateKubernetesObject({
            type: `kubernetes:${group}/${version}:${doc.kind}`,
            name: doc.metadata.name,
            inputs: doc,
            secretPaths: [],
            explicitProviders: [],
            dependsOn: [],
            ignoreChanges: [],
          });
        }
      }
      const expected = run.resources.filter(
        (r) => /^kubernetes:/.test(r.type) && !/helm\.sh/.test(r.type),
      ).length;
      assert.equal(count, expected);
    });

    it("summarises the AWS resources and the Helm releases", async () => {
      const run = await runStack(stack);
      writeRender(run, out);
      const aws = fs.readFileSync(path.join(out, stack, "aws.md"), "utf8");
      const rows = aws
        .split("\n")
        .filter((l) => l.startsWith("| aws:") || l.startsWith("| eks:") || l.startsWith("| awsx:"));
      assert.equal(
        rows.length,
        run.resources.filter((r) => /^(aws|awsx|eks):/.test(r.type)).length,
      );
      assert.ok(aws.includes('capacityType="SPOT"'));
      const releases = yaml.load(
        fs.readFileSync(path.join(out, stack, "helm-releases.yaml"), "utf8"),
      ) as { name: string; version: string }[];
      assert.equal(releases.length, run.ofType("kubernetes:helm.sh/v3:Release").length);
      assert.ok(
        releases.every((r) => /^\d+\.\d+\.\d+$/.test(r.version)),
        "every chart pinned",
      );
    });
  });
}
