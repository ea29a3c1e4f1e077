/**
 * Schema of the observability config: retention, storage, replicas and backends per environment.
 */
import { z } from "zod";

const gi = (min: number) => z.number().int().min(min);
/** Prometheus/Loki-style duration: 12h, 7d, 2w. */
const duration = z.string().regex(/^\d+(h|d|w)$/, "expected a duration such as 72h, 15d or 2w");

/** Loki in the cluster: `filesystem` on a persistent volume (single replica only), or `s3` via IRSA. */
const lokiInCluster = z.strictObject({
  storage: z.enum(["filesystem", "s3"]),
  replicas: z.number().int().min(1).max(5),
  /** Persistent volume of each Loki replica. Default 50. */
  storageGi: gi(10).default(50),
  retentionDays: z.number().int().min(1),
});

/**
 * A Loki-compatible store outside the cluster (a central Loki, a managed service) that takes OTLP logs
 * at `<url>/otlp` and answers Loki queries at `<url>`, without authentication from this cluster.
 * HTTPS on 443 outside the VPC: the egress the observability namespace already allows.
 */
const lokiExternal = z.strictObject({
  storage: z.literal("external"),
  url: z
    .url({ protocol: /^https$/, error: "expected an https:// URL" })
    .refine((u) => ["", "443"].includes(new URL(u).port), "expected the default HTTPS port (443)")
    .transform((u) => u.replace(/\/+$/, "")),
});

export const observabilitySchema = z
  .strictObject({
    prometheus: z.strictObject({
      replicas: z.number().int().min(1).max(3),
      /** Local TSDB retention (with Mimir this is only the short-term window). */
      retention: duration,
      storageGi: gi(10),
    }),
    /** Long-term metrics in S3 through Mimir (classic architecture, see components/observability/values.ts). */
    mimir: z.strictObject({
      enabled: z.boolean(),
      retentionDays: z.number().int().min(1).default(395),
    }),
    /** The log store: Loki in the cluster, or an external Loki-compatible store (`storage: external`). */
    loki: z.discriminatedUnion("storage", [lokiInCluster, lokiExternal]),
    tempo: z.strictObject({
      storage: z.enum(["local", "s3"]),
      storageGi: gi(5),
      retentionHours: z.number().int().min(1),
    }),
    alertmanager: z.strictObject({ replicas: z.number().int().min(1).max(3) }),
    otelCollector: z.strictObject({ replicas: z.number().int().min(1).max(10) }),
    grafana: z.strictObject({ persistenceGi: gi(1) }),
  })
  .superRefine((o, ctx) => {
    if (o.loki.storage === "filesystem" && o.loki.replicas > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["loki", "replicas"],
        message: "expected 1 with filesystem storage (replicas > 1 need s3)",
      });
    }
  });

export type ObservabilityConfig = z.output<typeof observabilitySchema>;

/** The settings of a Loki that runs in the cluster. */
export type InClusterLokiConfig = z.output<typeof lokiInCluster>;
