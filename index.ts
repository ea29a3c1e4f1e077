/**
 * llm-platform: composition only. Load and validate the stack config, build the components in the
 * order data flows through them, export what operators and later stacks need.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { addonSpecs, EksAddons } from "./components/foundation/eksAddons";
import { StackBudget } from "./components/foundation/stackBudget";
import { BucketAccessLogs } from "./components/foundation/bucketAccessLogs";
import { Cluster } from "./components/foundation/cluster";
import { Network } from "./components/foundation/network";
import { NodeGroups } from "./components/foundation/nodeGroups";
import { nodeGroupSpecs, runPreflight } from "./components/foundation/preflight";
import { loadConfig } from "./components/config/platformConfig";
import { podStartBudgets } from "./components/config/coldStart";
import type { AwsContext, PlatformContext } from "./components/platform/context";
import { Namespaces } from "./components/teams/namespaces";
import { DefaultStorageClass } from "./components/lib/k8s/defaultStorageClass";
import { Edge } from "./components/edge/edge";
import { GpuRuntime } from "./components/addons/gpuRuntime";
import { LoadBalancerController } from "./components/edge/loadBalancerController";
import { Keda } from "./components/addons/keda";
import { ExternalSecrets } from "./components/addons/externalSecrets";
import { ModelServing } from "./components/models/modelServing";
import { Observability } from "./components/observability/observability";
import { serviceCidr } from "./components/foundation/cluster";
import { adapterServing } from "./components/platform/registry";
import { PlatformServices } from "./components/teams/platformServices";
import { ArgoWorkflows } from "./components/addons/argoWorkflows";
import { Benchmarks } from "./components/benchmarks/benchmarks";
import { resultsBucket } from "./components/benchmarks/settings";

export = async () => {
  // Invalid config throws here, before any resource is registered.
  const config = loadConfig();
  const name = config.namePrefix;

  // One explicit AWS provider: the validated region, and the platform's tags on every resource.
  const awsProvider = new aws.Provider(name, {
    region: config.region,
    defaultTags: { tags: { ...config.tags } },
  });
  const opts = { providers: { aws: awsProvider } };

  // Before anything that costs money: the region offers the node groups' instance types and the
  // account's vCPU quotas hold them, or the preview stops here naming the fix.
  await runPreflight(
    {
      region: config.region,
      specs: nodeGroupSpecs(config.nodeGroups),
      checks: config.nodeGroups.preflight,
    },
    awsProvider,
  );
  const partition = aws.getPartitionOutput({}, { provider: awsProvider }).partition;
  const accountId = aws.getCallerIdentityOutput({}, { provider: awsProvider }).accountId;

  // Cost alerts exist from the first `pulumi up`, before anything that costs money.
  new StackBudget(name, { namePrefix: name, budget: config.budget, tags: config.tags }, opts);

  // Where the platform runs, before the cluster exists (providers travel through options).
  const awsCtx: AwsContext = {
    stack: config.stack,
    clusterName: name,
    namePrefix: name,
    region: config.region,
    partition,
    accountId,
    destroyDeletesData: config.destroyDeletesData,
  };

  const network = new Network(name, { ctx: awsCtx, network: config.network }, opts);

  const cluster = new Cluster(name, { ctx: awsCtx, cluster: config.cluster, network }, opts);

  // S3 server access logs of the data buckets, where config asks for them.
  const bucketAccessLogs = config.bucketAccessLogs
    ? new BucketAccessLogs(
        `${name}-bucket-access-logs`,
        { ctx: awsCtx, config: config.bucketAccessLogs },
        opts,
      )
    : undefined;

  // What every platform unit may need about where it runs, once the cluster (its OIDC) exists.
  const ctx: PlatformContext = {
    ...awsCtx,
    oidc: cluster.oidc,
    vpcCidr: config.network.cidr,
    serviceCidr,
    loadBalancerCidrs: network.publicSubnetCidrs,
    ...(bucketAccessLogs ? { dataBucketAccessLogs: bucketAccessLogs.target } : {}),
  };

  // Components that create both AWS and Kubernetes resources take both providers through options.
  const k8sOpts = { providers: { ...opts.providers, kubernetes: cluster.provider } };

  const addons = addonSpecs(config.cluster.kubernetesVersion);
  const networking = new EksAddons(
    `${name}-networking`,
    { ctx, cluster, addons: addons.beforeNodes },
    opts,
  );

  const nodeGroups = new NodeGroups(
    name,
    {
      ctx,
      kubernetesVersion: config.cluster.kubernetesVersion,
      subnetIds: network.privateSubnetIds,
      cpu: config.nodeGroups.cpu,
      gpu: config.nodeGroups.gpu,
      dependsOn: [networking],
    },
    opts,
  );

  const compute = new EksAddons(
    `${name}-compute`,
    { ctx, cluster, addons: addons.afterNodes, dependsOn: [nodeGroups.cpu] },
    opts,
  );

  // Kubernetes-only components: on a component, `provider` is shorthand for `providers: [provider]`,
  // which its children inherit.
  const k8sOnly = { provider: cluster.provider };
  new DefaultStorageClass(name, k8sOnly);

  const namespaces = new Namespaces(
    name,
    {
      stack: config.stack,
      kubernetesVersion: config.cluster.kubernetesVersion,
      namespaces: config.namespaces,
      // On destroy a namespace is gone only once its volume claims are, and a released claim's EBS
      // volume is deleted by the EBS CSI driver: the namespaces (and their claims) go before the
      // storage add-ons, so the driver still runs when the volumes are released. It deletes them
      // asynchronously, within seconds; README's teardown step checks for a stray one.
      dependsOn: [compute],
    },
    k8sOnly,
  );

  // Every secret lives in Secrets Manager; ESO syncs it into the Kubernetes Secret its consumer mounts.
  const externalSecrets = new ExternalSecrets(
    `${name}-external-secrets`,
    {
      ctx,
      secrets: config.secrets,
      namespace: namespaces.names["external-secrets"],
      dependsOn: [nodeGroups.cpu],
    },
    k8sOpts,
  );
  const secrets = externalSecrets.store;

  const loadBalancerController = new LoadBalancerController(
    `${name}-alb-controller`,
    {
      ctx,
      vpcId: network.vpcId,
      tags: { ...config.tags },
      dependsOn: [nodeGroups.cpu],
    },
    k8sOpts,
  );

  const services = new PlatformServices(
    name,
    {
      ctx,
      services: config.services,
      models: config.models,
      namespaces: namespaces.names,
      loadBalancerController: loadBalancerController.release,
      secrets,
    },
    k8sOpts,
  );

  const edge = new Edge(
    `${name}-edge`,
    {
      ctx,
      edge: config.edge,
      tags: { ...config.tags },
      gateway: { namespace: namespaces.names.platform, service: "gateway", port: 80 },
      // Grafana's Service comes from its release, which needs this edge's URL (root_url).
      grafana: {
        namespace: namespaces.names.observability,
        service: "grafana",
        port: 3000,
        serviceCreatedLater: true,
      },
      controller: loadBalancerController.release,
      secrets,
      ...(config.grafanaOidcClientSecret
        ? { grafanaOidcClientSecret: config.grafanaOidcClientSecret }
        : {}),
    },
    k8sOpts,
  );

  const observability = new Observability(
    `${name}-observability`,
    {
      ctx,
      config: config.observability,
      grafanaUrl: edge.grafanaUrl,
      ...(config.alertWebhookUrl ? { alertWebhookUrl: config.alertWebhookUrl } : {}),
      // Each variant's predicted start (components/platform/coldStart.ts), recorded beside the measured.
      modelStart: {
        budgets: podStartBudgets(config.models, config.nodeGroups.gpu),
        marginPercent: config.models.coldStart.alertMarginPercent,
      },
      namespace: namespaces.names.observability,
      secrets,
      // CPU nodes to run on, EBS CSI for the volumes, the controller whose webhook admits the pods.
      dependsOn: [nodeGroups.cpu, compute, loadBalancerController.release],
    },
    k8sOpts,
  );

  new GpuRuntime(
    `${name}-gpu`,
    {
      ctx,
      kubernetesVersion: config.cluster.kubernetesVersion,
      observabilityNamespace: namespaces.names.observability,
      dependsOn: [nodeGroups.cpu],
      observabilityDependsOn: [loadBalancerController.release],
    },
    k8sOpts,
  );

  // KEDA only where a variant autoscales (a plain boolean from config, known at preview).
  const autoscaled = Object.values(config.models.variants).some((v) => v.autoscaling);
  const keda = autoscaled
    ? new Keda(
        `${name}-keda`,
        {
          ctx,
          namespace: namespaces.names.keda,
          prometheus: observability.prometheus,
          observabilityNamespace: namespaces.names.observability,
          dependsOn: [nodeGroups.cpu],
        },
        k8sOpts,
      )
    : undefined;

  // The variant serving LoRA adapters syncs them from the bucket its client publishes to.
  const adapters = adapterServing();
  const models = new ModelServing(
    `${name}-models`,
    {
      ctx,
      ...(adapters ? { adapterBucket: services.buckets[adapters.bucket] } : {}),
      ...(keda ? { autoscaler: keda } : {}),
      vpcId: network.vpcId,
      nodeSecurityGroupId: cluster.nodeSecurityGroupId,
      privateSubnetIds: network.privateSubnetIds,
      availabilityZones: config.network.availabilityZones,
      // Streaming servers reach S3 and STS through the VPC's endpoints, not the internet.
      s3Cidrs: network.s3Cidrs,
      stsEndpointAddresses: network.stsEndpointAddresses,
      models: config.models,
      ...(config.hfToken ? { hfToken: config.hfToken } : {}),
      secrets,
      namespace: namespaces.names["llm-baseline"],
      efsDriver: compute.addons["aws-efs-csi-driver"]!,
    },
    k8sOpts,
  );

  // The benchmark pipeline: Argo Workflows (controller in `argo`, workflows in the model namespace)
  // runs the benchmark templates; results go to the eval team's results bucket under benchmarks/.
  const argo = new ArgoWorkflows(
    `${name}-argo-workflows`,
    {
      ctx,
      namespace: namespaces.names.argo,
      managedNamespace: namespaces.names["llm-baseline"],
      dependsOn: [nodeGroups.cpu],
    },
    k8sOnly,
  );
  new Benchmarks(
    `${name}-benchmarks`,
    {
      ctx,
      config: config.benchmarks,
      models: config.models,
      namespace: namespaces.names["llm-baseline"],
      observabilityNamespace: namespaces.names.observability,
      resultsBucket: services.buckets[resultsBucket]!,
      engine: argo.release,
      prometheusPort: observability.prometheus.port,
    },
    k8sOpts,
  );

  return {
    region: config.region,
    clusterName: cluster.clusterName,
    kubeconfig: cluster.kubeconfig,
    oidcProviderArn: cluster.oidc.providerArn,
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    nodeGroupNames: nodeGroups.names,
    repositoryUrls: services.repositoryUrls,
    buckets: Object.fromEntries(Object.entries(services.buckets).map(([k, b]) => [k, b.name])),
    modelCacheFileSystemId: models.fileSystemId,
    albHostname: edge.albHostname,
    gatewayUrl: edge.gatewayUrl,
    grafanaUrl: edge.grafanaUrl,
    dnsRecords: edge.dnsRecords,
    grafanaAdminSecret: observability.grafanaAdminSecret,
  } satisfies Record<string, pulumi.Input<unknown>>;
};
