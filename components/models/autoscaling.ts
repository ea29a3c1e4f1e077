/**
 * Model autoscaling on the signals LLM serving has: KEDA scales each autoscaled vLLM variant between
 * its min and max replicas on vLLM's own metrics (requests waiting, KV-cache usage) read from
 * Prometheus, to zero when idle where min is 0, and up for a working-hours window where configured.
 * Every replica takes one GPU node (required anti-affinity), which the cluster autoscaler adds for a
 * pending pod and removes once empty.
 *
 * KEDA itself (chart, NetworkPolicies) is a cluster-wide add-on (addons/keda.ts); this module holds
 * what a variant asks of it: its ScaledObject.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ModelAutoscalingConfig } from "../config/models";
import { modelNamespace, modelServerName } from "../platform/registry";

/** What a variant's ScaledObject needs: KEDA's release (CRD, webhook) and where its scalers query. */
export interface Autoscaler {
  readonly release: pulumi.Resource;
  readonly prometheusUrl: string;
}

/** How often KEDA polls the triggers: the model servers are scraped every 30 s. */
const pollingIntervalSeconds = 30;

/**
 * HPA behaviour for GPU replicas: add one replica per minute at most (each is a new GPU node and a
 * cold start), remove one per 5 minutes after 10 stable minutes, so a short lull does not give back a
 * node that took minutes to warm.
 */
const modelScalingBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
  },
  scaleDown: {
    stabilizationWindowSeconds: 600,
    policies: [{ type: "Pods", value: 1, periodSeconds: 300 }],
  },
};

/** PromQL of one variant's scaling signals (labels from the model-servers PodMonitor). */
export function vllmSignals(variant: string) {
  const sel = `namespace="${modelNamespace}",app="${modelServerName(variant)}"`;
  return {
    requestsWaiting: `sum(vllm:num_requests_waiting{${sel}})`,
    kvCacheUsage: `sum(vllm:kv_cache_usage_perc{${sel}})`,
  };
}

/**
 * The ScaledObject spec of one variant. Both Prometheus triggers use AverageValue: the HPA divides
 * the summed signal by the target per replica (waiting requests per replica, KV-cache share per
 * replica). A trigger is active while its value is above 0, so a variant with min 0 goes to zero only
 * after `idleMinutes` with no request waiting and an empty KV cache (no request running). At zero no
 * vLLM series exist (the query returns nothing, which KEDA reads as 0): it comes back on its
 * working-hours window, or on demand with `autoscaling.keda.sh/paused-replicas` (README).
 */
export function scaledObjectSpec(
  variant: string,
  a: ModelAutoscalingConfig,
  prometheusUrl: string,
) {
  const q = vllmSignals(variant);
  const prometheus = (name: string, query: string, threshold: number) => ({
    type: "prometheus",
    name,
    metricType: "AverageValue",
    metadata: {
      serverAddress: prometheusUrl,
      query,
      threshold: String(threshold),
      activationThreshold: "0",
    },
  });
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: modelServerName(variant) },
    pollingInterval: pollingIntervalSeconds,
    cooldownPeriod: a.idleMinutes * 60,
    minReplicaCount: a.minReplicas,
    maxReplicaCount: a.maxReplicas,
    advanced: {
      horizontalPodAutoscalerConfig: {
        name: modelServerName(variant),
        behavior: modelScalingBehavior,
      },
    },
    triggers: [
      prometheus("requests-waiting", q.requestsWaiting, a.requestsWaitingPerReplica),
      prometheus("kv-cache-usage", q.kvCacheUsage, a.kvCacheUsage),
      ...(a.workingHours
        ? [
            {
              type: "cron",
              name: "working-hours",
              metadata: {
                timezone: a.workingHours.timezone,
                start: a.workingHours.start,
                end: a.workingHours.end,
                desiredReplicas: "1",
              },
            },
          ]
        : []),
    ],
  };
}
