/**
 * Whole-program checks per stack: what exists, who manages it, what is exported, and that every
 * Kubernetes object is valid against the upstream schema.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "../components/config";
import {
  cloneStackConfig,
  isKubernetesObject,
  runStack,
  stacks,
  validateKubernetesObject,
} from "./harness";

function isSecret(o: unknown): Promise<boolean> {
  return pulumi.Output.isInstance(o) ? pulumi.isSecret(o) : Promise.resolve(false);
}

/** Components deployed as `llmplatform:<Name>` before every token got its module. */
const formerTwoPartTokens = [
  "Edge",
  "GpuRuntime",
  "Keda",
  "LoadBalancerController",
  "ModelServing",
  "Observability",
  "PlatformServices",
];

for (const stack of stacks) {
  describe(`stack ${stack}`, () => {
    const prefix = `llmplatform-${stack}`;

    it("registers the expected resources, by type", async () => {
      const run = await runStack(stack);
      const counts: Record<string, number> = {};
      for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
      // adapters + results; prod adds the ALB access logs, Mimir blocks + ruler, Loki and Tempo.
      const buckets = stack === "dev" ? 2 : 7;
      // prod adds IRSA roles (and their policies) for Mimir, Loki and Tempo.
      const s3Stores = stack === "dev" ? 0 : 3;
      // A Route 53 zone: the program issues the certificate (2 validation + 2 alias records).
      const zone = parseConfig(cloneStackConfig(stack), stack).edge.hostedZone !== undefined;
      const expected: Record<string, number> = {
        "pulumi:providers:aws": 1,
        "pulumi:providers:kubernetes": 1,
        "llmplatform:aws:Network": 1,
        "llmplatform:aws:Cluster": 1,
        "llmplatform:aws:EksAddons": 2,
        "llmplatform:aws:NodeGroups": 1,
        // + the adapter sync role (llm-baseline/adapter-sync).
        "llmplatform:aws:IrsaRole": 10 + s3Stores,
        "llmplatform:aws:PrivateBucket": buckets,
        "llmplatform:k8s:DefaultStorageClass": 1,
        "llmplatform:k8s:Namespaces": 1,
        "llmplatform:k8s:Microservice": 4,
        "llmplatform:services:PlatformServices": 1,
        "llmplatform:gpu:GpuRuntime": 1,
        "llmplatform:edge:LoadBalancerController": 1,
        "llmplatform:edge:Edge": 1,
        "llmplatform:models:ModelServing": 1,
        "llmplatform:aws:ModelCacheFileSystem": 1,
        "llmplatform:k8s:ModelServer": 4,
        "awsx:ec2:Vpc": 1,
        "eks:index:Cluster": 1,
        "aws:cloudwatch/logGroup:LogGroup": 2,
        "llmplatform:aws:StackBudget": 1,
        "aws:budgets/budget:Budget": 1,
        "aws:ec2/flowLog:FlowLog": 1,
        "aws:iam/role:Role": 12 + s3Stores,
        "aws:iam/rolePolicy:RolePolicy": 7 + s3Stores,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 6,
        "aws:kms/key:Key": 1,
        "aws:kms/alias:Alias": 1,
        "aws:eks/addon:Addon": 6,
        "aws:ec2/launchTemplate:LaunchTemplate": 2,
        "aws:eks/nodeGroup:NodeGroup": 2,
        "aws:autoscaling/tag:Tag": 12,
        "aws:ecr/repository:Repository": 4,
        "aws:ecr/lifecyclePolicy:LifecyclePolicy": 4,
        "aws:s3/bucket:Bucket": buckets,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": buckets,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": buckets,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
          buckets,
        "aws:s3/bucketVersioning:BucketVersioning": buckets,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": buckets,
        "aws:s3/bucketPolicy:BucketPolicy": buckets,
        ...(zone
          ? {
              "aws:acm/certificate:Certificate": 1,
              "aws:acm/certificateValidation:CertificateValidation": 1,
              "aws:route53/record:Record": 4,
            }
          : {}),
        "aws:efs/fileSystem:FileSystem": 1,
        "aws:efs/backupPolicy:BackupPolicy": 1,
        "aws:efs/mountTarget:MountTarget": 3,
        "aws:ec2/securityGroup:SecurityGroup": 1,
        "kubernetes:storage.k8s.io/v1:StorageClass": 2,
        "kubernetes:core/v1:Namespace": 6,
        "kubernetes:core/v1:ResourceQuota": 6,
        "kubernetes:core/v1:LimitRange": 6,
        // + 8 for KEDA in kube-system, 1 for Prometheus admitting KEDA, 4 per-variant model ingress
        // (was 1 shared), 1 adapter-sync egress.
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 58,
        "kubernetes:core/v1:ConfigMap": 5,
        "kubernetes:core/v1:ServiceAccount": 6,
        "kubernetes:batch/v1:CronJob": 1,
        "llmplatform:k8s:AdapterSync": 1,
        // Every variant of both stacks autoscales: KEDA and one ScaledObject per variant.
        "llmplatform:models:Keda": 1,
        "kubernetes:keda.sh/v1alpha1:ScaledObject": 4,
        "kubernetes:apps/v1:Deployment": 8,
        "kubernetes:core/v1:Service": 8,
        // hf-token, grafana-admin (the alert webhook Secret exists only when its URL is set)
        "kubernetes:core/v1:Secret": 2,
        "kubernetes:core/v1:PersistentVolumeClaim": 1,
        // device plugin, DCGM, autoscaler, KEDA, LB controller, kube-prometheus-stack, Loki, Tempo, 2 collectors, Grafana (+ Mimir in prod)
        "kubernetes:helm.sh/v3:Release": stack === "dev" ? 11 : 12,
        "kubernetes:monitoring.coreos.com/v1:PodMonitor": 3,
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule": 1,
        "llmplatform:observability:Observability": 1,
        "random:index/randomPassword:RandomPassword": 1,
        "kubernetes:networking.k8s.io/v1:Ingress": 2,
        // prod only: PDBs for all four services, HPAs for the gateway and quant-api.
        ...(stack === "prod"
          ? {
              "kubernetes:policy/v1:PodDisruptionBudget": 4,
              "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 2,
            }
          : {}),
      };
      assert.deepEqual(counts, expected);
    });

    it("names every component llmplatform:<module>:<Name>, answering to a former two-part token", async () => {
      const run = await runStack(stack);
      const components = run.resources.filter((r) => r.type.startsWith("llmplatform:"));
      assert.ok(components.length > 0);
      for (const r of components) {
        assert.match(r.type, /^llmplatform:[a-z][a-zA-Z0-9]*:[A-Z][A-Za-z0-9]*$/, r.name);
        // A renamed token keeps deployed stacks' URNs (the component's and its children's) only
        // through an alias to the token it was deployed under.
        const name = r.type.split(":")[2]!;
        const expected = formerTwoPartTokens.includes(name) ? [`llmplatform:${name}`] : [];
        assert.deepEqual(r.aliasTypes ?? [], expected, `${r.type} ${r.name}`);
      }
    });

    it("manages every AWS resource through the one explicit, tagged provider", async () => {
      const run = await runStack(stack);
      const provider = run.get("pulumi:providers:aws", prefix);
      assert.equal(provider.inputs.region, "us-west-2");
      assert.deepEqual(JSON.parse(provider.inputs.defaultTags).tags, {
        Project: "llm-platform",
        Environment: stack,
        ManagedBy: "pulumi",
        Owner: "llm-platform-team",
        CostCenter: `llm-platform-${stack}`,
      });
      for (const r of run.resources.filter((x) => x.type.startsWith("aws:"))) {
        assert.equal(r.provider, prefix, `${r.type} ${r.name} uses provider ${r.provider}`);
      }
      // Remote components receive only explicitly passed providers.
      for (const type of ["eks:index:Cluster", "awsx:ec2:Vpc"]) {
        for (const r of run.ofType(type))
          assert.deepEqual(r.explicitProviders, [prefix], `${type} ${r.name}`);
      }
    });

    it("creates every Kubernetes object through the cluster's provider, valid against the upstream schema", async () => {
      const run = await runStack(stack);
      const objects = run.resources.filter((r) => isKubernetesObject(r.type));
      assert.ok(objects.length > 0);
      for (const r of objects) {
        assert.equal(r.provider, `${prefix}-k8s`, `${r.type} ${r.name}`);
        await validateKubernetesObject(r);
      }
    });

    it("exports the cluster's identity, network and node groups, with the kubeconfig secret", async () => {
      const run = await runStack(stack);
      assert.deepEqual(Object.keys(run.outputs).sort(), [
        "adapterBucket",
        "albHostname",
        "clusterName",
        "dnsRecords",
        "gatewayUrl",
        "grafanaAdminPassword",
        "grafanaUrl",
        "kubeconfig",
        "modelCacheFileSystemId",
        "nodeGroupNames",
        "oidcProviderArn",
        "privateSubnetIds",
        "publicSubnetIds",
        "region",
        "repositoryUrls",
        "resultsBucket",
        "vpcId",
      ]);
      assert.equal(run.outputs.clusterName, prefix);
      assert.equal(run.outputs.region, "us-west-2");
      assert.equal(run.outputs.vpcId, "vpc-0mock0000000001");
      assert.equal(run.outputs.privateSubnetIds.length, 3);
      assert.equal(run.outputs.adapterBucket, `${prefix}-adapters-20261123`);
      assert.equal(
        run.outputs.repositoryUrls.gateway,
        `111122223333.dkr.ecr.us-west-2.amazonaws.com/${prefix}/gateway`,
      );
      assert.equal(await isSecret(run.rawOutputs.kubeconfig), true);
      assert.equal(await isSecret(run.rawOutputs.grafanaAdminPassword), true);
      assert.equal(await isSecret(run.rawOutputs.clusterName), false);
    });
  });
}

describe("schema validation catches invalid objects", () => {
  it("rejects a StorageClass with a wrong field type", async () => {
    await assert.rejects(
      validateKubernetesObject({
        type: "kubernetes:storage.k8s.io/v1:StorageClass",
        name: "broken",
        inputs: {
          apiVersion: "storage.k8s.io/v1",
          kind: "StorageClass",
          metadata: { name: "x" },
          provisioner: "p",
          allowVolumeExpansion: "yes",
        },
        secretPaths: [],
        explicitProviders: [],
        dependsOn: [],
        ignoreChanges: [],
      }),
      /fails the Kubernetes schema/,
    );
  });
});
