import * as assert from "node:assert/strict";
import { namespaceDesign, namespaceNames } from "../../components/platform/registry";
import { namespaceLabels } from "../../components/teams/namespaces";
import { type RecordedResource, runStack, stackConfig, stacks } from "../../verify/program";

const K = "kubernetes:core/v1:";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

describe("namespaces", () => {
  it("labels ownership, environment and Pod Security (enforce from the registry, audit/warn restricted)", () => {
    assert.deepEqual(namespaceLabels("quant", "dev", "1.35"), {
      tier: "team",
      team: "quant",
      "app.kubernetes.io/part-of": "llm-optimization-platform",
      "app.kubernetes.io/managed-by": "pulumi",
      environment: "dev",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "v1.35",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "v1.35",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "v1.35",
    });
  });

  it("opts the namespaces behind the ALB into the controller's pod readiness gate", () => {
    for (const ns of namespaceNames) {
      const gated = namespaceLabels(ns, "dev", "1.35")["elbv2.k8s.aws/pod-readiness-gate-inject"];
      assert.equal(gated, ns === "platform" || ns === "observability" ? "enabled" : undefined, ns);
    }
  });

  it("enforces restricted everywhere except observability, whose exception is written down", () => {
    for (const ns of namespaceNames) {
      const d = namespaceDesign[ns];
      if (ns === "observability") {
        assert.equal(d.podSecurity, "privileged");
        assert.match(d.exception ?? "", /hostPath/);
      } else {
        assert.equal(d.podSecurity, "restricted", ns);
      }
    }
  });

  for (const stack of stacks) {
    describe(stack, () => {
      it("creates the registry's namespaces with their labels", async () => {
        const run = await runStack(stack);
        const nss = run.ofType(`${K}Namespace`);
        assert.deepEqual(nss.map((n) => n.inputs.metadata.name).sort(), [...namespaceNames].sort());
        for (const n of nss)
          assert.deepEqual(
            n.inputs.metadata.labels,
            namespaceLabels(n.inputs.metadata.name, stack, "1.35"),
          );
        assert.equal(
          run.get(`${K}Namespace`, "observability-namespace").inputs.metadata.labels[
            "pod-security.kubernetes.io/enforce"
          ],
          "privileged",
        );
        assert.equal(
          run.get(`${K}Namespace`, "platform-namespace").inputs.metadata.labels.tier,
          "platform",
        );
        assert.equal(
          run.get(`${K}Namespace`, "llm-baseline-namespace").inputs.metadata.labels.tier,
          "models",
        );
      });

      it("gives every configured namespace exactly one ResourceQuota and one LimitRange, as configured", async () => {
        const run = await runStack(stack);
        const config = stackConfig(stack);
        const configured = Object.keys(config.namespaces).sort();
        const namespaceOf = (r: RecordedResource) => r.inputs.metadata.namespace as string;
        assert.deepEqual(run.ofType(`${K}ResourceQuota`).map(namespaceOf).sort(), configured);
        assert.deepEqual(run.ofType(`${K}LimitRange`).map(namespaceOf).sort(), configured);
        for (const [ns, cfg] of Object.entries(config.namespaces)) {
          const quota = run.ofType(`${K}ResourceQuota`).find((r) => namespaceOf(r) === ns)!;
          // Kubernetes quantities are strings; every configured key and nothing else.
          const hard = Object.fromEntries(
            Object.entries(cfg.quota)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => [k, String(v)]),
          );
          assert.deepEqual(quota.inputs.spec.hard, hard, ns);
          const limits = run.ofType(`${K}LimitRange`).find((r) => namespaceOf(r) === ns)!;
          assert.deepEqual(limits.inputs.spec.limits, [{ type: "Container", ...cfg.limits }], ns);
        }
      });

      it("caps GPUs only where models run: llm-baseline's quota bounds GPU requests", async () => {
        const run = await runStack(stack);
        for (const q of run.ofType(`${K}ResourceQuota`)) {
          const gpus = q.inputs.spec.hard["requests.nvidia.com/gpu"];
          if (q.inputs.metadata.namespace === "llm-baseline") assert.match(gpus, /^[1-9]\d*$/);
          else assert.ok(gpus === undefined || gpus === "0", q.name);
        }
      });

      it("denies all traffic by default, then allows DNS in every namespace, and OTLP export where workloads run", async () => {
        const run = await runStack(stack);
        for (const ns of namespaceNames) {
          const deny = run.get(NP, `${ns}-default-deny-all`).inputs;
          assert.equal(deny.metadata.namespace, ns);
          assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
          assert.deepEqual(run.get(NP, `${ns}-allow-dns-to-kube-dns`).inputs.spec.egress, [
            {
              to: [
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                  },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ]);
          // Add-on controllers export no OTLP: no way out to the collector either.
          if (namespaceDesign[ns].tier === "addons") {
            assert.ok(!run.ofType(NP).some((p) => p.name === `${ns}-allow-otlp-to-otel-collector`));
            continue;
          }
          assert.deepEqual(run.get(NP, `${ns}-allow-otlp-to-otel-collector`).inputs.spec.egress, [
            {
              to: [
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": "observability" },
                  },
                  podSelector: {
                    matchLabels: {
                      "app.kubernetes.io/name": "opentelemetry-collector",
                      "app.kubernetes.io/instance": "otel-collector",
                    },
                  },
                },
              ],
              ports: [
                { protocol: "TCP", port: 4317 },
                { protocol: "TCP", port: 4318 },
              ],
            },
          ]);
        }
      });

      it("lets Prometheus scrape port 8000 in the serving namespaces, and everyone reach the collector", async () => {
        const run = await runStack(stack);
        for (const ns of ["platform", "quant", "finetune", "eval", "llm-baseline"]) {
          assert.deepEqual(run.get(NP, `${ns}-allow-prometheus-scrape-8000`).inputs.spec.ingress, [
            {
              from: [
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": "observability" },
                  },
                  podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
                },
              ],
              ports: [{ protocol: "TCP", port: 8000 }],
            },
          ]);
        }
        const otel = run.get(NP, "observability-allow-otlp-from-all-namespaces").inputs.spec;
        assert.deepEqual(otel.podSelector, {
          matchLabels: {
            "app.kubernetes.io/name": "opentelemetry-collector",
            "app.kubernetes.io/instance": "otel-collector",
          },
        });
        assert.deepEqual(otel.ingress[0].from, [{ namespaceSelector: {} }]);
      });
    });
  }
});
