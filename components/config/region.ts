/**
 * Schema of `aws:region`: a region AWS has launched (components/platform/regions.ts), so a typo such as
 * `us-west-9` stops at validation instead of failing a `pulumi up` halfway.
 */
import { z } from "zod";
import { knownRegions } from "../platform/regions";

export const regionSchema = z
  .string({ error: "required: the AWS region, e.g. us-west-2" })
  .superRefine((region, ctx) => {
    if (knownRegions().has(region)) return;
    const sameArea = [...knownRegions().keys()].filter((r) => r.startsWith(region.split("-")[0]!));
    ctx.addIssue({
      code: "custom",
      message:
        `${region} is not an AWS region` +
        (sameArea.length
          ? ` (regions starting ${region.split("-")[0]}-: ${sameArea.join(", ")})`
          : "") +
        "; expected a region such as us-west-2 (the list: @aws-cdk/region-info)",
    });
  });

/** Valid but noteworthy regions: an opt-in region must be enabled in the account first. */
export function regionWarnings(region: string): string[] {
  return knownRegions().get(region)?.optIn
    ? [
        `aws:region: ${region} is an opt-in region: enable it for the account (AWS console, Account → AWS Regions) before pulumi up, or every call fails`,
      ]
    : [];
}
