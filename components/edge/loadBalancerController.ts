import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IrsaRole } from "../lib/aws/irsaRole";
import type { PlatformContext } from "../platform/context";
import { loadBalancerControllerPolicy } from "./loadBalancerControllerPolicy";
import { helmRelease } from "../lib/k8s/helm";
import { restrictedContainerSecurityContext } from "../lib/k8s/security";
import { charts } from "../platform/versions";
import { renamedFrom } from "../platform/typeTokens";
import { workloadLabels } from "../platform/scheduling";

/** The controller's service account (its IRSA role trusts it; RBAC for Secrets it reads names it). */
export const loadBalancerControllerAccount = {
  namespace: "kube-system",
  name: "aws-load-balancer-controller",
} as const;

/** Helm values of the controller: explicit cluster, region and VPC (nodes' IMDS is closed to pods). */
function loadBalancerControllerValues(args: {
  clusterName: string;
  region: string;
  vpcId: string;
  roleArn: string;
  tags: Record<string, string>;
}) {
  return {
    clusterName: args.clusterName,
    region: args.region,
    vpcId: args.vpcId,
    replicaCount: 2,
    serviceAccount: {
      create: true,
      name: loadBalancerControllerAccount.name,
      annotations: { "eks.amazonaws.com/role-arn": args.roleArn },
    },
    nodeSelector: workloadLabels.cpu,
    podDisruptionBudget: { maxUnavailable: 1 },
    resources: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    },
    // Pod Security `restricted` (the chart's default lacks the seccomp profile and the dropped
    // capabilities): the controller is a static binary that needs neither.
    securityContext: restrictedContainerSecurityContext(),
    // Only Ingresses are used; do not intercept every Service of type LoadBalancer.
    enableServiceMutatorWebhook: false,
    // Cost allocation: the ALBs, target groups and security groups it creates carry the stack's tags.
    defaultTags: args.tags,
  };
}

export interface LoadBalancerControllerArgs {
  /** Cluster name, region, partition and OIDC (its IRSA role). */
  readonly ctx: PlatformContext;
  readonly vpcId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  /** The CPU node group (the controller runs there). */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * The AWS Load Balancer Controller in kube-system (2 replicas, CPU nodes), with its IRSA role carrying
 * the upstream policy. Its webhook injects the ALB readiness gate into pods of labelled namespaces, so
 * Deployments there, and every Ingress, depend on this release; on destroy the Ingresses (and so the
 * ALBs and target groups) go first, before the controller that removes them. The Kubernetes
 * provider comes through `opts.providers`.
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  /** The Helm release: depend on it to order after the controller (and before it on destroy). */
  readonly release: k8s.helm.v3.Release;

  constructor(
    name: string,
    args: LoadBalancerControllerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(
      "llmplatform:edge:LoadBalancerController",
      name,
      {},
      renamedFrom("llmplatform:LoadBalancerController", opts),
    );
    const role = new IrsaRole(
      name,
      {
        oidc: args.ctx.oidc,
        namespace: loadBalancerControllerAccount.namespace,
        serviceAccount: loadBalancerControllerAccount.name,
        roleName: `${args.ctx.clusterName}-aws-load-balancer-controller-irsa`,
        inlinePolicies: {
          "load-balancer-controller": pulumi
            .output(args.ctx.partition)
            .apply(loadBalancerControllerPolicy),
        },
      },
      { parent: this },
    );
    this.release = helmRelease(
      "aws-load-balancer-controller",
      charts.awsLoadBalancerController,
      "kube-system",
      pulumi.all([args.vpcId, role.roleArn]).apply(([vpcId, roleArn]) =>
        loadBalancerControllerValues({
          clusterName: args.ctx.clusterName,
          region: args.ctx.region,
          vpcId,
          roleArn,
          tags: args.tags,
        }),
      ),
      { parent: this, dependsOn: [...args.dependsOn, role] },
    );
    this.registerOutputs({});
  }
}
