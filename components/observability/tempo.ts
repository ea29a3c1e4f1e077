import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, hostPort, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, s3Store, type AddonScope } from "./unitScope";
import { tempoValues } from "./values/logsAndTraces";

/** Where Tempo takes OTLP traces and answers queries. */
export interface TraceEndpoints {
  /** OTLP/gRPC `host:port`. */
  readonly otlpGrpc: string;
  readonly queryUrl: string;
}

/** Tempo's endpoints, from the chart contract. */
export function tempoEndpoints(): TraceEndpoints {
  return {
    otlpGrpc: hostPort(chartEndpoints.tempoOtlpGrpc),
    queryUrl: httpUrl(chartEndpoints.tempoQuery),
  };
}

/**
 * Tempo (traces) on a volume or on S3 through IRSA; its metrics generator remote-writes span metrics
 * to `metricsRemoteWriteUrl`.
 */
export function createTempo(s: AddonScope, metricsRemoteWriteUrl: string): TraceEndpoints {
  const store = s.o.tempo.storage === "s3" ? s3Store(s, "tempo", ["tempo"]) : undefined;
  const p = { o: s.o, region: s.ctx.region, metricsRemoteWriteUrl };
  release(
    s,
    "tempo",
    charts.tempo,
    store
      ? pulumi
          .all([store.role.roleArn, store.names[0]!])
          .apply(([roleArn, bucket]) => tempoValues({ ...p, roleArn, bucket }))
      : tempoValues(p),
    store ? [store.role] : [],
  );
  return tempoEndpoints();
}
