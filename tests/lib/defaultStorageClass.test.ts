import * as assert from "node:assert/strict";
import { runStack, stacks } from "../../verify/program";

for (const stack of stacks) {
  describe(`storage (${stack})`, () => {
    it("makes encrypted gp3 the default StorageClass, zonal-binding and expandable", async () => {
      const run = await runStack(stack);
      const sc = run.get(
        "kubernetes:storage.k8s.io/v1:StorageClass",
        `llmplatform-${stack}-gp3`,
      ).inputs;
      assert.deepEqual(sc.metadata, {
        name: "gp3",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      });
      assert.equal(sc.provisioner, "ebs.csi.aws.com");
      assert.deepEqual(sc.parameters, {
        type: "gp3",
        encrypted: "true",
        "csi.storage.k8s.io/fstype": "ext4",
      });
      assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
      assert.equal(sc.allowVolumeExpansion, true);
      assert.equal(sc.reclaimPolicy, "Delete");
    });
  });
}
