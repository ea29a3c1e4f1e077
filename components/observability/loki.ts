import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, httpUrl } from "../chartContracts";
import { charts } from "../versions";
import { release, s3Store, type AddonScope } from "./addon";
import { lokiValues } from "./values/logsAndTraces";

/** Where Loki answers queries and takes OTLP log pushes. */
export interface LogEndpoints {
  readonly queryUrl: string;
  /** OTLP/HTTP base URL (the exporter appends /v1/logs). */
  readonly otlpUrl: string;
}

/** Loki's endpoints, from the chart contract. */
export function lokiEndpoints(): LogEndpoints {
  const base = httpUrl(chartEndpoints.loki);
  return { queryUrl: base, otlpUrl: `${base}/otlp` };
}

/** Loki (logs) on a volume or on S3 through IRSA, as config says. */
export function createLoki(s: AddonScope): LogEndpoints {
  const store = s.o.loki.storage === "s3" ? s3Store(s, "loki", ["loki"]) : undefined;
  const region = s.ctx.region;
  release(
    s,
    "loki",
    charts.loki,
    store
      ? pulumi
          .all([store.role.roleArn, store.names[0]!])
          .apply(([roleArn, bucket]) => lokiValues({ o: s.o, region, roleArn, bucket }))
      : lokiValues({ o: s.o, region }),
    store ? [store.role] : [],
  );
  return lokiEndpoints();
}
