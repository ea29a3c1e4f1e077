import * as assert from "node:assert/strict";
import { namespaceDesign, namespaceNames } from "../components/catalog";
import { namespaceLabels } from "../components/k8s/namespaces";
import { runStack, stacks } from "./harness";

const K = "kubernetes:core/v1:";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const teamQuota = {
  "requests.cpu": "8",
  "requests.memory": "16Gi",
  "limits.cpu": "16",
  "limits.memory": "32Gi",
  pods: "15",
  services: "10",
  configmaps: "20",
  secrets: "20",
};
const teamLimits = {
  type: "Container",
  default: { cpu: "1", memory: "2Gi" },
  defaultRequest: { cpu: "250m", memory: "512Mi" },
  max: { cpu: "4", memory: "8Gi" },
  min: { cpu: "100m", memory: "128Mi" },
};

describe("namespaces", () => {
  it("labels ownership, environment and Pod Security (enforce from the catalog, audit/warn restricted)", () => {
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
      it("creates the six namespaces with their labels", async () => {
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

      it("sets the platform quota and limits from the design", async () => {
        const run = await runStack(stack);
        const quota = run.get(`${K}ResourceQuota`, "platform-quota").inputs;
        assert.deepEqual(quota.metadata.name, "platform-quota");
        assert.equal(quota.metadata.namespace, "platform");
        assert.deepEqual(quota.spec.hard, {
          "requests.cpu": "4",
          "requests.memory": "8Gi",
          "limits.cpu": stack === "dev" ? "8" : "16",
          "limits.memory": "16Gi",
          pods: stack === "dev" ? "20" : "30",
          services: "10",
          configmaps: "20",
          secrets: "20",
        });
        assert.deepEqual(run.get(`${K}LimitRange`, "platform-limits").inputs.spec.limits, [
          {
            type: "Container",
            default: { cpu: "500m", memory: "512Mi" },
            defaultRequest: { cpu: "100m", memory: "128Mi" },
            max: { cpu: "2", memory: "4Gi" },
            min: { cpu: "50m", memory: "64Mi" },
          },
        ]);
      });

      it("sizes the team namespaces like quant", async () => {
        const run = await runStack(stack);
        for (const ns of ["quant", "finetune", "eval"]) {
          assert.deepEqual(
            run.get(`${K}ResourceQuota`, `${ns}-quota`).inputs.spec.hard,
            teamQuota,
            ns,
          );
          assert.deepEqual(
            run.get(`${K}LimitRange`, `${ns}-limits`).inputs.spec.limits,
            [teamLimits],
            ns,
          );
        }
      });

      it("caps GPUs and sizes the model and observability namespaces", async () => {
        const run = await runStack(stack);
        const models = run.get(`${K}ResourceQuota`, "llm-baseline-quota").inputs.spec.hard;
        assert.equal(models["requests.nvidia.com/gpu"], stack === "dev" ? "4" : "8");
        assert.equal(models["requests.cpu"], stack === "dev" ? "16" : "32");
        assert.equal(models["requests.memory"], stack === "dev" ? "64Gi" : "128Gi");
        assert.equal(models.persistentvolumeclaims, "4");
        const obs = run.get(`${K}ResourceQuota`, "observability-quota").inputs.spec.hard;
        assert.equal(obs["limits.memory"], stack === "dev" ? "48Gi" : "96Gi");
        assert.equal(obs.persistentvolumeclaims, stack === "dev" ? "10" : "20");
        assert.deepEqual(
          run.get(`${K}LimitRange`, "llm-baseline-limits").inputs.spec.limits[0].max,
          {
            cpu: stack === "dev" ? "4" : "8",
            memory: stack === "dev" ? "16Gi" : "32Gi",
          },
        );
      });

      it("denies all traffic by default, then allows DNS and OTLP export in every namespace", async () => {
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
