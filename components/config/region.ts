/**
 * Schema of `aws:region`: a region AWS has launched (components/platform/regions.ts), so a typo such as
 * `us-west-9` stops at validation instead of failing a `pulumi up` halfway; and a region of the `aws`
 * partition, the only one the program can deploy to (see `supportedPartition`).
 */
import { z } from "zod";
import { knownRegions } from "../platform/regions";

/**
 * The one partition the program supports: the commercial AWS regions. It writes that partition's
 * endpoints (`s3.<region>.amazonaws.com` for Mimir, Tempo and the benchmarks, the
 * `secretsmanager.<region>.amazonaws.com` of the secrets key's `kms:ViaService`), and China
 * (`amazonaws.com.cn`), GovCloud, ISO and European Sovereign Cloud regions have other endpoints,
 * services and ARNs, which it has never been written or tested for.
 */
export const supportedPartition = "aws";

export const regionSchema = z
  .string({ error: "required: the AWS region, e.g. us-west-2" })
  .superRefine((region, ctx) => {
    const facts = knownRegions().get(region);
    if (facts?.partition === supportedPartition) return;
    if (facts) {
      ctx.addIssue({
        code: "custom",
        message:
          `${region} is a region of the ${facts.partition} partition; the program supports the ` +
          `${supportedPartition} partition only (China, GovCloud, ISO and European Sovereign Cloud ` +
          "regions need their own partition's endpoints and ARNs, which it does not write): " +
          "expected a region such as us-west-2",
      });
      return;
    }
    const area = `${region.split("-")[0]}-`;
    const sameArea = [...knownRegions().values()]
      .filter((r) => r.partition === supportedPartition && r.name.startsWith(area))
      .map((r) => r.name);
    ctx.addIssue({
      code: "custom",
      message:
        `${region} is not an AWS region` +
        (sameArea.length ? ` (regions starting ${area}: ${sameArea.join(", ")})` : "") +
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
