import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy } from "./iam";
import type { OidcIdentity } from "../../platform/context";
import type { PolicyDocument } from "../../platform/policyDocument";

export interface IrsaRoleArgs {
  /** The cluster's OIDC provider. */
  readonly oidc: OidcIdentity;
  /** Namespace of the one service account that may assume the role. */
  readonly namespace: string;
  /** Name of that service account. */
  readonly serviceAccount: string;
  /** Physical role name. Default: auto-named from the component name. */
  readonly roleName?: string;
  /** AWS-managed or customer policies to attach, by a stable key (the attachment is named after it). Default none. */
  readonly managedPolicyArns?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Inline policies, by a stable key. Default none. */
  readonly inlinePolicies?: Readonly<Record<string, pulumi.Input<PolicyDocument>>>;
}

/**
 * An IAM role for one Kubernetes service account (IRSA). The trust policy admits only the cluster's
 * OIDC provider with `StringEquals` on both `:sub` (exactly this namespace/service account) and
 * `:aud` (sts.amazonaws.com). Policies are attached under names derived from their keys, so adding one
 * never replaces another.
 */
export class IrsaRole extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:IrsaRole", name, {}, opts);
    const { namespace, serviceAccount } = args;
    if (!namespace || !serviceAccount) {
      throw new Error(`IrsaRole ${name}: namespace and serviceAccount are required`);
    }

    const role = new aws.iam.Role(
      name,
      {
        name: args.roleName,
        description: `IRSA for ${namespace}/${serviceAccount}`,
        assumeRolePolicy: pulumi
          .all([args.oidc.providerArn, args.oidc.issuer])
          .apply(([arn, issuer]) =>
            JSON.stringify(irsaTrustPolicy(arn, issuer, namespace, serviceAccount)),
          ),
      },
      { parent: this },
    );

    for (const [key, policyArn] of Object.entries(args.managedPolicyArns ?? {})) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${key}`,
        { role: role.name, policyArn },
        { parent: this },
      );
    }
    for (const [key, doc] of Object.entries(args.inlinePolicies ?? {})) {
      new aws.iam.RolePolicy(
        `${name}-${key}`,
        { role: role.name, name: key, policy: pulumi.output(doc).apply((d) => JSON.stringify(d)) },
        { parent: this },
      );
    }

    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
