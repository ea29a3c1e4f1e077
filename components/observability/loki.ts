import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, s3Store, type AddonScope } from "./unitScope";
import { lokiValues } from "./values/logsAndTraces";

/** Where Loki answers queries and takes OTLP log pushes. */
export interface LogEndpoints {
  readonly queryUrl: string;
  /** OTLP/HTTP base URL (the exporter appends /v1/logs). */
  readonly otlpUrl: string;
}

/** The endpoints of a Loki-compatible store at `base`: queries at the base, OTLP under /otlp. */
export function logEndpointsAt(base: string): LogEndpoints {
  return { queryUrl: base, otlpUrl: `${base}/otlp` };
}

/** Loki's endpoints, from the chart contract. */
export function lokiEndpoints(): LogEndpoints {
  return logEndpointsAt(httpUrl(chartEndpoints.loki));
}

/**
 * The log store: Loki on a volume or on S3 through IRSA, as config says, or none in the cluster when
 * the store is external. Either way it returns where consumers send and query logs.
 */
export function createLoki(s: AddonScope): LogEndpoints {
  const loki = s.o.loki;
  if (loki.storage === "external") return logEndpointsAt(loki.url);
  const store = loki.storage === "s3" ? s3Store(s, "loki", ["loki"]) : undefined;
  const region = s.ctx.region;
  release(
    s,
    "loki",
    charts.loki,
    store
      ? pulumi
          .all([store.role.roleArn, store.names[0]!])
          .apply(([roleArn, bucket]) => lokiValues({ loki, region, roleArn, bucket }))
      : lokiValues({ loki, region }),
    store ? [store.role] : [],
  );
  return lokiEndpoints();
}
