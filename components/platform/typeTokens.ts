import type * as pulumi from "@pulumi/pulumi";

/**
 * Options for a component whose type token was renamed (to `llmplatform:<module>:<Name>`).
 * The token is part of the URN of the component and, through the parent chain, of every child;
 * the alias lets Pulumi match the state of stacks deployed under the old token, so they move to
 * the new URNs instead of being replaced. Children inherit their parent's aliases.
 */
export function renamedFrom(
  oldType: string,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), { type: oldType }] };
}
