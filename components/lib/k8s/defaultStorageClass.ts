import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Name of the cluster's default StorageClass. */
export const defaultStorageClassName = "gp3";

/**
 * The default StorageClass: encrypted gp3 through the EBS CSI driver, bound when the pod is scheduled
 * (so the volume lands in the pod's AZ), expandable, deleted with its claim. EKS stopped marking the
 * legacy `gp2` class as default on clusters created at 1.30 and later (the EKS 1.30 release notes), so
 * this becomes the only default without patching gp2. The Kubernetes provider comes through `opts`.
 */
export class DefaultStorageClass extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:k8s:DefaultStorageClass", name, {}, opts);
    new k8s.storage.v1.StorageClass(
      `${name}-gp3`,
      {
        metadata: {
          name: defaultStorageClassName,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: "Delete",
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
