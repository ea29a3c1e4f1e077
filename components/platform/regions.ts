/**
 * Every AWS region, from AWS's own region table as the AWS CDK maintains it
 * (`@aws-cdk/region-info`, pinned exactly in package.json; 2.269.0 of 2026-09-15 lists 46 regions in 8
 * partitions: aws 34, aws-cn 2, aws-us-gov 2, aws-iso 2, aws-iso-b 2, aws-iso-f 2, aws-iso-e 1,
 * aws-eusc 1). A region AWS has not launched (`us-west-9`) is an error at validation, not a failed
 * `pulumi up`, and so is one outside the `aws` partition (components/config/region.ts). A region
 * launched after that release needs a package bump.
 */
import { RegionInfo } from "@aws-cdk/region-info";

/** What the program needs to know of a region before it runs. */
export interface RegionFacts {
  readonly name: string;
  /** ARN partition: aws, aws-cn, aws-us-gov, ... */
  readonly partition: string;
  /** Regions launched since 2019 are disabled in an account until enabled (Account → AWS Regions). */
  readonly optIn: boolean;
}

let table: ReadonlyMap<string, RegionFacts> | undefined;

/** Every known region by name (read once: the package's fact table takes ~0.25 s to load). */
export function knownRegions(): ReadonlyMap<string, RegionFacts> {
  table ??= new Map(
    RegionInfo.regions.map((r) => [
      r.name,
      { name: r.name, partition: r.partition ?? "aws", optIn: r.isOptInRegion },
    ]),
  );
  return table;
}
