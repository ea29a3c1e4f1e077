/**
 * Pure IAM helpers: policy documents as plain data, so tests compare them exactly.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "../../platform/policyDocument";

/** `arn:<partition>:iam::aws:policy/<path+name>` for an AWS-managed policy. */
export function awsManagedPolicyArn(
  partition: pulumi.Input<string>,
  name: string,
): pulumi.Output<string> {
  return pulumi.interpolate`arn:${partition}:iam::aws:policy/${name}`;
}

/** Trust policy letting one AWS service assume a role, for this account only (confused-deputy guard). */
export function serviceTrustPolicy(service: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}

/** Trust policy for EC2 instances (node roles). EC2 sends no aws:SourceAccount, so none is required. */
export function ec2TrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ],
  };
}

/**
 * Trust policy for IAM Roles for Service Accounts: only the cluster's OIDC provider, only tokens whose
 * subject is exactly `system:serviceaccount:<namespace>:<serviceAccount>` and whose audience is STS.
 */
export function irsaTrustPolicy(
  oidcProviderArn: string,
  oidcIssuer: string,
  namespace: string,
  serviceAccount: string,
): PolicyDocument {
  const issuer = oidcIssuer.replace(/^https:\/\//, "");
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/**
 * The explicit AWS provider of `parent`, for remote components (eks.Cluster, awsx.ec2.Vpc): unlike
 * ordinary children, they receive only the providers passed to them, not their parent's.
 */
export function awsProviderOf(parent: pulumi.Resource): Record<string, pulumi.ProviderResource> {
  const provider = parent.getProvider("aws::Provider");
  return provider ? { aws: provider } : {};
}
