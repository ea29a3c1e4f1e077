/**
 * Swapping the log store is stack config: `observability.loki.storage: external` with the store's URL
 * runs no Loki in the cluster, and every log consumer (collector, node log agent, Grafana) gets the
 * external store's endpoints; the whole-cluster checks still pass, and the shippers may reach it.
 */
import * as assert from "node:assert/strict";
import { parseConfig } from "../../components/config/platformConfig";
import { inventory } from "../../components/cost/inventory";
import { podInstances } from "../../verify/model";
import { denied } from "../../verify/checks/networkPolicies";
import { verifyStack } from "../../verify/stack";
import { cloneStackConfig, runProgram, type StackRun } from "../../verify/program";

const R = "kubernetes:helm.sh/v3:Release";
const url = "https://logs.example.com/loki";

/** The prod stack's config with its log store swapped for `loki`. */
function withLogStore(loki: unknown): Record<string, any> {
  const raw = cloneStackConfig("prod") as Record<string, any>;
  raw["llm-platform:observability"] = { ...raw["llm-platform:observability"], loki };
  return raw;
}

function problems(loki: unknown): string[] {
  try {
    parseConfig(withLogStore(loki), "prod");
    return [];
  } catch (e) {
    return (e as { problems: string[] }).problems;
  }
}

describe("log store: an external Loki-compatible store instead of Loki in the cluster", () => {
  it("takes an https URL on 443 and nothing else an in-cluster Loki needs", () => {
    assert.deepEqual(problems({ storage: "external", url: `${url}/` }), []);
    const at = "llm-platform:observability.loki";
    assert.match(problems({ storage: "external" })[0]!, new RegExp(`^${at}.url: `));
    assert.match(problems({ storage: "external", url: "http://logs.example.com" })[0]!, /https/);
    assert.match(
      problems({ storage: "external", url: "https://logs.example.com:3100" })[0]!,
      /443/,
    );
    assert.match(problems({ storage: "external", url, replicas: 3 })[0]!, /replicas/);
    assert.match(problems({ storage: "s3", url, replicas: 3, retentionDays: 30 })[0]!, /url/);
  });

  describe("the prod stack with it", () => {
    let run: StackRun;
    before(async () => {
      run = await runProgram("prod", withLogStore({ storage: "external", url: `${url}/` }));
      if (run.error) throw run.error;
    });
    const values = (release: string) => run.get(R, release).inputs.values;

    it("runs no Loki: no release, no IRSA role, no bucket", () => {
      assert.ok(!run.ofType(R).some((r) => r.name === "loki"));
      assert.ok(!run.resources.some((r) => /-loki(-|$)/.test(r.name) && r.type.startsWith("aws:")));
    });

    it("sends logs there from the collector and the node log agent, and queries it from Grafana", () => {
      for (const release of ["otel-collector", "otel-agent"]) {
        assert.equal(values(release).config.exporters["otlphttp/loki"].endpoint, `${url}/otlp`);
      }
      const datasources = values("grafana").datasources["datasources.yaml"].datasources as {
        uid: string;
        url: string;
      }[];
      assert.equal(datasources.find((d) => d.uid === "logs")!.url, url);
    });

    it("prices no Loki volume", () => {
      const config = parseConfig(withLogStore({ storage: "external", url }), "prod");
      const volumes = inventory(config, run.resources).persistentVolumes.map((v) => v.name);
      assert.ok(volumes.length > 0);
      assert.ok(!volumes.some((v) => v.startsWith("loki")), volumes.join(", "));
    });

    it("passes the whole-cluster checks, and lets every log shipper reach the store on 443", async () => {
      const v = await verifyStack(run, { render: false, pull: false });
      assert.deepEqual(v.findings, []);
      const store = { ip: "203.0.113.10", name: "external log store" };
      const shippers = podInstances(v.model).filter(
        (p) =>
          p.namespace === "observability" &&
          ["opentelemetry-collector", "grafana"].includes(p.labels["app.kubernetes.io/name"] ?? ""),
      );
      assert.ok(shippers.length >= 2);
      for (const pod of shippers) assert.equal(denied(v.model, { pod }, store, 443), undefined);
    });
  });
});
