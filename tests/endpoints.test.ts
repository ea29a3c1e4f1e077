import * as assert from "node:assert/strict";
import { chartEndpoints, hostPort } from "../components/platform/chartContracts";
import { collectorEndpoints } from "../components/observability/collectors";
import { lokiEndpoints } from "../components/observability/loki";
import { mimirEndpoints } from "../components/observability/mimir";
import { prometheusEndpoints } from "../components/observability/prometheus";
import { tempoEndpoints } from "../components/observability/tempo";
import { runStack, stacks } from "../verify/program";

const R = "kubernetes:helm.sh/v3:Release";
const SO = "kubernetes:keda.sh/v1alpha1:ScaledObject";

/** Every in-cluster URL the observability units publish, flattened. */
const published = [
  ...Object.values(prometheusEndpoints()).filter((v) => typeof v === "string"),
  ...Object.values(mimirEndpoints()),
  ...Object.values(lokiEndpoints()),
  ...Object.values(tempoEndpoints()),
  ...Object.values(collectorEndpoints()),
];

describe("observability endpoints: published by the unit that serves them", () => {
  it("addresses only Services of the chart contract", () => {
    const services = Object.values(chartEndpoints).map(hostPort);
    for (const url of published)
      assert.ok(
        services.some((s) => url.includes(s)),
        `${url} is not a chart-contract Service`,
      );
  });
});

for (const stack of stacks) {
  describe(`observability endpoints: consumers receive what producers publish (${stack})`, () => {
    const values = async (release: string) => (await runStack(stack)).get(R, release).inputs.values;
    const mimirRuns = async () => (await runStack(stack)).ofType(R).some((r) => r.name === "mimir");

    it("exports each signal from the collector to the store that published its endpoint", async () => {
      const exporters = (await values("otel-collector")).config.exporters;
      assert.equal(exporters["otlp/tempo"].endpoint, tempoEndpoints().otlpGrpc);
      assert.equal(exporters["otlphttp/prometheus"].endpoint, prometheusEndpoints().otlpUrl);
      assert.equal(exporters["otlphttp/loki"].endpoint, lokiEndpoints().otlpUrl);
      const agent = (await values("otel-agent")).config.exporters;
      assert.equal(agent["otlphttp/loki"].endpoint, lokiEndpoints().otlpUrl);
    });

    it("points Grafana at the query endpoints, metrics at Mimir exactly when it runs", async () => {
      const ds = (await values("grafana")).datasources["datasources.yaml"].datasources as {
        uid: string;
        url: string;
      }[];
      const url = (uid: string) => ds.find((d) => d.uid === uid)!.url;
      const metrics = (await mimirRuns()) ? mimirEndpoints().queryUrl : prometheusEndpoints().url;
      assert.equal(url("metrics"), metrics);
      assert.equal(url("logs"), lokiEndpoints().queryUrl);
      assert.equal(url("traces"), tempoEndpoints().queryUrl);
    });

    it("remote-writes Prometheus to Mimir when it runs, and Tempo's span metrics to Prometheus", async () => {
      const remoteWrite = (await values("kube-prometheus-stack")).prometheus.prometheusSpec
        .remoteWrite as { url: string }[];
      assert.deepEqual(
        remoteWrite.map((w) => w.url),
        (await mimirRuns()) ? [mimirEndpoints().pushUrl] : [],
      );
      assert.equal(
        (await values("tempo")).tempo.metricsGenerator.remoteWriteUrl,
        prometheusEndpoints().remoteWriteUrl,
      );
    });

    it("has every KEDA trigger query the Prometheus that Observability publishes", async () => {
      for (const so of (await runStack(stack)).ofType(SO))
        for (const t of so.inputs.spec.triggers as { type: string; metadata: any }[])
          if (t.type === "prometheus")
            assert.equal(t.metadata.serverAddress, prometheusEndpoints().url, so.name);
    });
  });
}
