import * as pulumi from "@pulumi/pulumi";
import { chartEndpoints, httpUrl } from "../platform/chartContracts";
import { charts } from "../platform/versions";
import { release, s3Store, type UnitScope } from "./unitScope";
import { claimsDeletedWithRelease, irsa, sized } from "./chartValues";
import { mimirHaLabels, prometheusApiDatasource } from "./prometheus";
import type { Datasource, SignalExporter } from "./signals";

/** Where Mimir takes remote writes and OTLP metrics, and Grafana's metrics datasource when it runs. */
export interface MimirEndpoints {
  readonly pushUrl: string;
  /** OTLP/HTTP to the distributor (the exporter appends /v1/metrics). */
  readonly exporter: SignalExporter;
  readonly datasource: Datasource;
}

/** Mimir's endpoints, from the chart contract. */
export function mimirEndpoints(): MimirEndpoints {
  return {
    pushUrl: httpUrl(chartEndpoints.mimirDistributor, "/api/v1/push"),
    exporter: {
      key: "otlphttp/mimir",
      endpoint: httpUrl(chartEndpoints.mimirDistributor, "/otlp"),
    },
    datasource: prometheusApiDatasource(
      "Mimir",
      httpUrl(chartEndpoints.mimirQueryFrontend, "/prometheus"),
    ),
  };
}

/** Mimir (long-term metrics) on S3 through IRSA: its buckets, role and release. */
export function createMimir(scope: UnitScope): MimirEndpoints {
  const store = s3Store(scope, "mimir", ["mimir-blocks", "mimir-ruler"]);
  release(
    scope,
    "mimir",
    charts.mimir,
    pulumi.all([store.role.roleArn, ...store.names]).apply(([roleArn, blocks, ruler]) =>
      mimirValues({
        region: scope.ctx.region,
        roleArn: roleArn!,
        blocksBucket: blocks!,
        rulerBucket: ruler!,
        retentionDays: scope.config.mimir.retentionDays,
      }),
    ),
    [store.role],
  );
  return mimirEndpoints();
}

/** Requests (CPU, memory) and memory limit of each Mimir component, for a single-tenant platform. */
export const mimirComponentSizes: Record<string, [string, string, string]> = {
  distributor: ["100m", "512Mi", "1Gi"],
  ingester: ["200m", "1Gi", "2Gi"],
  store_gateway: ["100m", "512Mi", "1Gi"],
  compactor: ["100m", "512Mi", "1Gi"],
  querier: ["100m", "256Mi", "1Gi"],
  query_frontend: ["100m", "128Mi", "512Mi"],
  query_scheduler: ["50m", "64Mi", "256Mi"],
  ruler: ["100m", "128Mi", "512Mi"],
  overrides_exporter: ["50m", "64Mi", "128Mi"],
};

/** Mimir components that keep a volume per pod (chart default: persistentVolume enabled). */
export const mimirStatefulComponents = ["ingester", "store_gateway", "compactor"];

/**
 * Mimir in the classic architecture (distributors push to ingesters; no Kafka). Why not the chart's
 * default ingest-storage architecture: it needs a production-grade Kafka (the bundled one is for
 * demos), which this platform would have to run (MSK) just for metrics; classic is supported in
 * Mimir 3.x and is the chart's documented preset (classic-architecture.yaml). Single tenant; blocks,
 * ruler and alertmanager state in encrypted S3 through IRSA.
 *
 * HA deduplication: every Prometheus replica scrapes the same targets and remote-writes them with its
 * own `prometheus_replica` label. The HA tracker elects one replica per `cluster` and ingests only its
 * samples (dropping the replica label); the other replica's requests are answered 202: the
 * remote-write handler (grafana/mimir pkg/distributor/push.go, `toHTTPStatus`) answers the code
 * `errorCauseToHTTPStatusCode` (pkg/distributor/errors.go) gives the error's cause, and it maps
 * REPLICAS_DID_NOT_MATCH to 202 Accepted. So Prometheus counts them as sent, never failed, and
 * PrometheusRemoteStorageFailures cannot fire from duplicates. Without it the second copy of every
 * sample is rejected 400 (duplicate or out-of-order), which Prometheus counts as failed.
 * The tracker's key-value store is set explicitly to memberlist, which the chart already runs for its
 * rings: no Consul or etcd. Memberlist is supported for the HA tracker since Mimir 2.17 and the
 * recommended store since 3.0 (grafana/mimir#12998; chart 6.2.0 ships Mimir 3.2.0); the upstream
 * guide "Migrate HA tracker from Consul or etcd to memberlist"
 * (docs/sources/mimir/configure/migrate-ha-tracker-to-memberlist.md) ends with exactly this Helm
 * value, `mimir.structuredConfig.distributor.ha_tracker.kvstore.store: memberlist`. Older Mimir doc
 * pages, some still served as "latest" or "next" (the key-value store page), say memberlist is not
 * supported for the HA tracker: that predates 2.17. Consul and etcd remain supported
 * (grafana/mimir#13596). Failover to the other replica after 30 s without samples from the elected one.
 * What others push (the OTLP collector, Tempo's span metrics) carries no replica label, so Mimir
 * accepts it without deduplication (observability.ts sends it to Mimir directly where Mimir runs).
 */
export function mimirValues(p: {
  region: string;
  roleArn: string;
  blocksBucket: string;
  rulerBucket: string;
  retentionDays: number;
}) {
  return {
    fullnameOverride: "mimir",
    kafka: { enabled: false },
    minio: { enabled: false },
    alertmanager: { enabled: false },
    // Clients reach the distributor and query-frontend Services directly: no nginx gateway.
    gateway: { enabled: false },
    // Explicit sizes for every component (keys of the chart's 6.x values; ingesters and
    // store-gateways run one pod per zone, three zones), so none runs on the LimitRange defaults.
    ...Object.fromEntries(
      Object.entries(mimirComponentSizes).map(([component, r]) => [
        component,
        {
          // No nodeSelector: zone-aware components ignore it, and the GPU taint keeps all of them off GPUs.
          resources: sized(...r),
          // The claims go with the StatefulSet on uninstall. Chart key from the chart's source
          // (grafana/mimir operations/helm/charts/mimir-distributed/templates/{ingester,store-gateway}/
          // *-statefulset.yaml at 001a5fcb, 6.x): 6.2.0's package is not cached here, so not rendered.
          ...(mimirStatefulComponents.includes(component)
            ? { persistentVolume: { enableRetentionPolicy: true, ...claimsDeletedWithRelease } }
            : {}),
        },
      ]),
    ),
    rollout_operator: { resources: sized("20m", "64Mi", "128Mi") },
    serviceAccount: { create: true, name: "mimir", ...irsa(p.roleArn) },
    mimir: {
      structuredConfig: {
        multitenancy_enabled: false,
        ingest_storage: {
          enabled: false,
          kafka: { address: null, topic: null, auto_create_topic_default_partitions: null },
        },
        distributor: {
          remote_timeout: null,
          ha_tracker: { enable_ha_tracker: true, kvstore: { store: "memberlist" } },
        },
        ingester: { push_grpc_method_enabled: null },
        common: {
          storage: {
            backend: "s3",
            s3: { endpoint: `s3.${p.region}.amazonaws.com`, region: p.region },
          },
        },
        blocks_storage: { s3: { bucket_name: p.blocksBucket } },
        ruler_storage: { s3: { bucket_name: p.rulerBucket }, storage_prefix: "ruler" },
        alertmanager_storage: {
          s3: { bucket_name: p.rulerBucket },
          storage_prefix: "alertmanager",
        },
        limits: {
          compactor_blocks_retention_period: `${p.retentionDays}d`,
          accept_ha_samples: true,
          ha_cluster_label: mimirHaLabels.cluster,
          ha_replica_label: mimirHaLabels.replica,
        },
      },
    },
  };
}
