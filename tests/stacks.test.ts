/**
 * Whole-program checks per stack: what exists, who manages it, what is exported, and that every
 * Kubernetes object is valid against the upstream schema.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { registry } from "../components/platform/registry";
import {
  isKubernetesObject,
  runStack,
  stackConfig,
  stacks,
  validateKubernetesObject,
} from "../verify/program";

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

/** What every private bucket carries: no public access, owner-enforced, encrypted, versioned, expiring, TLS-only. */
const bucketGuards = [
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketPolicy:BucketPolicy",
];

/**
 * Every resource type the program may register besides its own components (named by the next test).
 * A new type is a reviewable event (an IAM user or an access key would show up here first), not a
 * count to keep in step with config.
 */
const allowedTypes = new Set([
  "pulumi:providers:aws",
  "pulumi:providers:kubernetes",
  "awsx:ec2:Vpc",
  "eks:index:Cluster",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:budgets/budget:Budget",
  "aws:ec2/flowLog:FlowLog",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:kms/key:Key",
  "aws:kms/alias:Alias",
  "aws:eks/addon:Addon",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:autoscaling/tag:Tag",
  "aws:ecr/repository:Repository",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  // the vLLM image cache, where a stack configures models.imageCache
  "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
  "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:s3/bucket:Bucket",
  ...bucketGuards,
  "aws:acm/certificate:Certificate",
  "aws:acm/certificateValidation:CertificateValidation",
  "aws:route53/record:Record",
  "aws:efs/fileSystem:FileSystem",
  "aws:efs/backupPolicy:BackupPolicy",
  "aws:efs/mountTarget:MountTarget",
  "aws:efs/fileSystemPolicy:FileSystemPolicy",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:s3/bucketLogging:BucketLogging",
  "aws:secretsmanager/secret:Secret",
  "aws:secretsmanager/secretVersion:SecretVersion",
  "aws:wafv2/webAcl:WebAcl",
  "aws:wafv2/ipSet:IpSet",
  "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
  "kubernetes:external-secrets.io/v1:ClusterSecretStore",
  "kubernetes:external-secrets.io/v1:ExternalSecret",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "kubernetes:storage.k8s.io/v1:StorageClass",
  "kubernetes:core/v1:Namespace",
  "kubernetes:core/v1:ResourceQuota",
  "kubernetes:core/v1:LimitRange",
  "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  "kubernetes:core/v1:ConfigMap",
  "kubernetes:core/v1:ServiceAccount",
  "kubernetes:batch/v1:CronJob",
  "kubernetes:batch/v1:Job",
  "kubernetes:keda.sh/v1alpha1:ScaledObject",
  "kubernetes:apps/v1:Deployment",
  "kubernetes:core/v1:Service",
  "kubernetes:core/v1:PersistentVolumeClaim",
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:monitoring.coreos.com/v1:PodMonitor",
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  "random:index/randomPassword:RandomPassword",
  "kubernetes:networking.k8s.io/v1:Ingress",
  "kubernetes:policy/v1:PodDisruptionBudget",
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  // Namespaced RBAC only (no ClusterRole): Argo's controller and the benchmark's service accounts.
  "kubernetes:rbac.authorization.k8s.io/v1:Role",
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
  "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
]);

/** What the platform has exactly one of, whatever the config. */
const singletons = [
  "pulumi:providers:aws",
  "pulumi:providers:kubernetes",
  "awsx:ec2:Vpc",
  "eks:index:Cluster",
  "aws:budgets/budget:Budget",
  "aws:ec2/flowLog:FlowLog",
  "aws:efs/fileSystem:FileSystem",
];

for (const stack of stacks) {
  describe(`stack ${stack}`, () => {
    const prefix = `llmplatform-${stack}`;

    it("registers only resource types from the allow-list (no IAM users, keys or other surprises)", async () => {
      const run = await runStack(stack);
      const unexpected = [...new Set(run.resources.map((r) => r.type))].filter(
        (t) => !t.startsWith("llmplatform:") && !allowedTypes.has(t),
      );
      assert.deepEqual(unexpected, [], "add a new type to allowedTypes only after reviewing it");
    });

    it("empties ECR repositories and buckets on destroy exactly when destroyDeletesData says so", async () => {
      const run = await runStack(stack);
      const deletesData = stackConfig(stack).destroyDeletesData;
      const repos = run.ofType("aws:ecr/repository:Repository");
      const buckets = run.ofType("aws:s3/bucket:Bucket");
      assert.ok(repos.length > 0 && buckets.length > 0);
      // Explicit either way (false is also the provider's default): a reviewer sees the decision.
      for (const r of repos) assert.equal(r.inputs.forceDelete, deletesData, r.name);
      for (const b of buckets) assert.equal(b.inputs.forceDestroy, deletesData, b.name);
    });

    it("deletes every chart store's volume claims with its release (Prometheus, Loki, Tempo, Mimir)", async () => {
      const run = await runStack(stack);
      const values = (name: string) =>
        run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.name === name)?.inputs.values;
      const deleted = { whenDeleted: "Delete", whenScaled: "Retain" };
      assert.deepEqual(
        values("kube-prometheus-stack").prometheus.prometheusSpec
          .persistentVolumeClaimRetentionPolicy,
        deleted,
      );
      const loki = values("loki");
      if (loki) {
        assert.deepEqual(
          [
            loki.singleBinary.persistence.enableStatefulSetAutoDeletePVC,
            loki.singleBinary.persistence.whenDeleted,
          ],
          [true, "Delete"],
        );
      }
      assert.equal(values("tempo").persistence.enableStatefulSetAutoDeletePVC, true);
      const mimir = values("mimir");
      if (mimir) {
        for (const c of ["ingester", "store_gateway", "compactor"])
          assert.deepEqual(
            mimir[c].persistentVolume,
            { enableRetentionPolicy: true, ...deleted },
            c,
          );
      }
      // Grafana's claim is a chart template of a Deployment (no StatefulSet): helm uninstall deletes it.
      assert.notEqual(values("grafana").useStatefulSet, true);
    });

    it("registers the platform's singletons exactly once", async () => {
      const run = await runStack(stack);
      for (const type of singletons) assert.equal(run.ofType(type).length, 1, type);
    });

    it("derives per-item resources from config: namespaces, node groups, subnets, variants, HPAs, PDBs, the zone", async () => {
      const run = await runStack(stack);
      const config = stackConfig(stack);
      const count = (type: string) => run.ofType(type).length;
      // Components by name, whatever module their token is in.
      const components = (name: string) =>
        run.resources.filter(
          (r) => r.type.startsWith("llmplatform:") && r.type.endsWith(`:${name}`),
        ).length;
      const namespaces = Object.keys(config.namespaces).length;
      for (const kind of ["Namespace", "ResourceQuota", "LimitRange"])
        assert.equal(count(`kubernetes:core/v1:${kind}`), namespaces, kind);
      const groups = 1 + config.nodeGroups.gpu.length;
      assert.equal(count("aws:eks/nodeGroup:NodeGroup"), groups);
      assert.equal(count("aws:ec2/launchTemplate:LaunchTemplate"), groups);
      // The model cache is reachable from every private subnet (one per AZ).
      assert.equal(count("aws:efs/mountTarget:MountTarget"), config.network.availabilityZones);
      const variants = Object.keys(config.models.variants).length;
      assert.equal(components("ModelServer"), variants);
      assert.equal(count("kubernetes:keda.sh/v1alpha1:ScaledObject"), variants);
      const services = (Object.values(config.services) as any[]).filter(
        (v) => typeof v === "object",
      );
      assert.equal(components("Microservice"), services.length);
      assert.equal(count("aws:ecr/repository:Repository"), services.length);
      assert.equal(
        count("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"),
        services.filter((v) => v.hpa).length,
      );
      assert.equal(
        count("kubernetes:policy/v1:PodDisruptionBudget"),
        services.filter((v) => v.pdb).length,
      );
      const zone = config.edge.hostedZone !== undefined;
      assert.equal(count("aws:acm/certificate:Certificate"), zone ? 1 : 0);
      assert.equal(count("aws:route53/record:Record") > 0, zone);
    });

    it("pairs every resource with its companions: each Deployment its Service, each bucket its guards, each IRSA role its component", async () => {
      const run = await runStack(stack);
      const names = (type: string) =>
        run
          .ofType(type)
          .map((r) => r.name)
          .sort();
      const bucketNames = names("aws:s3/bucket:Bucket");
      for (const guard of bucketGuards) assert.deepEqual(names(guard), bucketNames, guard);
      const components = (name: string) =>
        run.resources.filter(
          (r) => r.type.startsWith("llmplatform:") && r.type.endsWith(`:${name}`),
        );
      assert.equal(components("PrivateBucket").length, bucketNames.length);
      const key = (r: { inputs: any }) =>
        `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`;
      const services = new Set(run.ofType("kubernetes:core/v1:Service").map(key));
      for (const d of run.ofType("kubernetes:apps/v1:Deployment"))
        assert.ok(services.has(key(d)), `${key(d)} has no Service`);
      const webIdentity = run
        .ofType("aws:iam/role:Role")
        .filter((r) => r.inputs.assumeRolePolicy.includes("sts:AssumeRoleWithWebIdentity"));
      assert.equal(components("IrsaRole").length, webIdentity.length);
      assert.equal(
        run.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy").length,
        run.ofType("aws:ecr/repository:Repository").length,
      );
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
      const config = stackConfig(stack);
      const provider = run.get("pulumi:providers:aws", prefix);
      assert.equal(provider.inputs.region, config.region);
      // The program's own tags, then the stack's (config.test.ts checks how they merge).
      assert.deepEqual(JSON.parse(provider.inputs.defaultTags).tags, config.tags);
      assert.deepEqual(
        [config.tags.Project, config.tags.Environment, config.tags.ManagedBy],
        ["llm-platform", stack, "pulumi"],
      );
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
        "albHostname",
        "buckets",
        "clusterName",
        "dnsRecords",
        "gatewayUrl",
        "grafanaAdminSecret",
        "grafanaUrl",
        "kubeconfig",
        "modelCacheFileSystemId",
        "nodeGroupNames",
        "oidcProviderArn",
        "privateSubnetIds",
        "publicSubnetIds",
        "region",
        "repositoryUrls",
        "vpcId",
      ]);
      assert.equal(run.outputs.clusterName, prefix);
      assert.equal(run.outputs.region, stackConfig(stack).region);
      assert.equal(run.outputs.vpcId, "vpc-0mock0000000001");
      assert.equal(
        run.outputs.privateSubnetIds.length,
        stackConfig(stack).network.availabilityZones,
      );
      // One bucket per bucket the registry declares, by its registry name.
      const declared = Object.values(registry.services).flatMap((d) =>
        d.bucket ? [d.bucket.name] : [],
      );
      assert.deepEqual(Object.keys(run.outputs.buckets).sort(), declared.sort());
      for (const name of declared) {
        assert.equal(run.outputs.buckets[name], `${prefix}-${name}-20261123`);
      }
      assert.equal(
        run.outputs.repositoryUrls.gateway,
        `111122223333.dkr.ecr.${stackConfig(stack).region}.amazonaws.com/${prefix}/gateway`,
      );
      assert.equal(await isSecret(run.rawOutputs.kubeconfig), true);
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
