import * as assert from "node:assert/strict";
import { chartEndpoints, hostPort } from "../../components/platform/chartContracts";
import {
  collectorEndpoints,
  otelAgentValues,
  otelCollectorValues,
} from "../../components/observability/collectors";
import { grafanaDatasources } from "../../components/observability/grafana";
import { lokiEndpoints } from "../../components/observability/loki";
import { mimirEndpoints } from "../../components/observability/mimir";
import { prometheusEndpoints } from "../../components/observability/prometheus";
import { tempoEndpoints } from "../../components/observability/tempo";
import { runStack, stackConfig, stacks } from "../../verify/program";

const R = "kubernetes:helm.sh/v3:Release";
const SO = "kubernetes:keda.sh/v1alpha1:ScaledObject";

/** Every in-cluster URL the observability units publish, flattened. */
const published = [
  prometheusEndpoints().url,
  prometheusEndpoints().remoteWriteUrl,
  mimirEndpoints().pushUrl,
  ...[prometheusEndpoints(), lokiEndpoints(), tempoEndpoints()].map((e) => e.exporter.endpoint),
  ...[prometheusEndpoints(), mimirEndpoints(), lokiEndpoints(), tempoEndpoints()].map(
    (e) => e.datasource.url,
  ),
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
      const collector = (await values("otel-collector")).config;
      const stores = {
        traces: tempoEndpoints().exporter,
        // Pushed metrics go to Mimir where it dedupes the Prometheus replicas (mimir.ts).
        metrics: ((await mimirRuns()) ? mimirEndpoints() : prometheusEndpoints()).exporter,
        logs: lokiEndpoints().exporter,
      };
      for (const [signal, e] of Object.entries(stores)) {
        assert.equal(collector.exporters[e.key].endpoint, e.endpoint, signal);
        assert.deepEqual(collector.service.pipelines[signal].exporters, [e.key], signal);
      }
      assert.deepEqual(
        Object.keys(collector.exporters).sort(),
        Object.values(stores)
          .map((e) => e.key)
          .sort(),
      );
      const agent = (await values("otel-agent")).config;
      assert.equal(agent.exporters[stores.logs.key].endpoint, stores.logs.endpoint);
      assert.deepEqual(agent.service.pipelines.logs.exporters, [stores.logs.key]);
    });

    it("points Grafana at the query endpoints, metrics at Mimir exactly when it runs", async () => {
      const ds = (await values("grafana")).datasources["datasources.yaml"].datasources as {
        uid: string;
        url: string;
      }[];
      const url = (uid: string) => ds.find((d) => d.uid === uid)!.url;
      const metrics = (await mimirRuns()) ? mimirEndpoints() : prometheusEndpoints();
      assert.equal(url("metrics"), metrics.datasource.url);
      assert.equal(url("logs"), lokiEndpoints().datasource.url);
      assert.equal(url("traces"), tempoEndpoints().datasource.url);
    });

    it("remote-writes Prometheus to Mimir when it runs, and Tempo's span metrics to Mimir there, else to Prometheus", async () => {
      const remoteWrite = (await values("kube-prometheus-stack")).prometheus.prometheusSpec
        .remoteWrite as { url: string }[];
      const mimir = await mimirRuns();
      assert.deepEqual(
        remoteWrite.map((w) => w.url),
        mimir ? [mimirEndpoints().pushUrl] : [],
      );
      assert.equal(
        (await values("tempo")).tempo.metricsGenerator.remoteWriteUrl,
        mimir ? mimirEndpoints().pushUrl : prometheusEndpoints().remoteWriteUrl,
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

describe("observability: a store is one unit", () => {
  // A log store of another product: only its unit knows its exporter and datasource.
  const other = {
    exporter: { key: "otlphttp/otherlogs", endpoint: "https://logs.other.test/otlp" },
    datasource: {
      name: "Other logs",
      type: "other-logs-datasource",
      url: "https://logs.other.test",
      jsonData: {},
    },
  };

  it("has the collector and the node log agent export to whatever exporter the store names", () => {
    const config = stackConfig("dev").observability;
    const gateway = otelCollectorValues(config, {
      traces: tempoEndpoints().exporter,
      metrics: prometheusEndpoints().exporter,
      logs: other.exporter,
    }).config;
    assert.deepEqual(gateway.service.pipelines.logs.exporters, [other.exporter.key]);
    assert.deepEqual(gateway.exporters[other.exporter.key], {
      endpoint: other.exporter.endpoint,
      tls: { insecure: true },
    });
    assert.ok(!Object.keys(gateway.exporters).some((k) => k.endsWith("/loki")));
    const agent = otelAgentValues(other.exporter).config;
    assert.deepEqual(Object.keys(agent.exporters), [other.exporter.key]);
    assert.deepEqual(agent.service.pipelines.logs.exporters, [other.exporter.key]);
  });

  it("gives Grafana the store's own datasource type under the logs uid", () => {
    const ds = grafanaDatasources({
      metrics: prometheusEndpoints().datasource,
      logs: other.datasource,
      traces: tempoEndpoints().datasource,
    }).datasources;
    assert.deepEqual(
      ds.map((d) => [d.uid, d.type]),
      [
        ["metrics", "prometheus"],
        ["logs", "other-logs-datasource"],
        ["traces", "tempo"],
      ],
    );
  });
});
