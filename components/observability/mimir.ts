import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, s3Store, type AddonScope } from "./unitScope";
import { mimirValues } from "./values/metrics";

/** Where Mimir takes remote writes and answers Prometheus API queries. */
export interface MimirEndpoints {
  readonly pushUrl: string;
  readonly queryUrl: string;
}

/** Mimir's endpoints, from the chart contract. */
export function mimirEndpoints(): MimirEndpoints {
  return {
    pushUrl: httpUrl(chartEndpoints.mimirDistributor, "/api/v1/push"),
    queryUrl: httpUrl(chartEndpoints.mimirQueryFrontend, "/prometheus"),
  };
}

/** Mimir (long-term metrics) on S3 through IRSA: its buckets, role and release. */
export function createMimir(s: AddonScope): MimirEndpoints {
  const store = s3Store(s, "mimir", ["mimir-blocks", "mimir-ruler"]);
  release(
    s,
    "mimir",
    charts.mimir,
    pulumi.all([store.role.roleArn, ...store.names]).apply(([roleArn, blocks, ruler]) =>
      mimirValues({
        region: s.ctx.region,
        roleArn: roleArn!,
        blocksBucket: blocks!,
        rulerBucket: ruler!,
        retentionDays: s.o.mimir.retentionDays,
      }),
    ),
    [store.role],
  );
  return mimirEndpoints();
}
