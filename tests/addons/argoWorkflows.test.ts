/**
 * Argo Workflows, the benchmark pipeline's engine: the pinned chart in its own namespace, no server,
 * no cluster-wide RBAC, a controller that runs workflows in the model namespace only; and, where the
 * chart package is cached, what the real chart renders from these values.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  argoControllerConfigRules,
  argoControllerRules,
  argoWorkflowsValues,
} from "../../components/addons/argoWorkflows";
import { charts, images } from "../../components/platform/versions";
import { chartPackagePath, renderReleases } from "../../verify/charts";
import { releasesOf } from "../../verify/cluster";
import { ensureHelm } from "../../verify/helm";
import type { KObject } from "../../verify/model";
import { runStack, stacks } from "../../verify/program";

const R = "kubernetes:helm.sh/v3:Release";

for (const stack of stacks) {
  describe(`Argo Workflows (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;

    it("installs the pinned chart in namespace argo, after the CPU nodes and the controller's roles", async () => {
      const run = await runStack(stack);
      const r = run.get(R, "argo-workflows");
      assert.deepEqual(
        [r.inputs.chart, r.inputs.version, r.inputs.repositoryOpts.repo, r.inputs.namespace],
        [
          charts.argoWorkflows.chart,
          charts.argoWorkflows.version,
          charts.argoWorkflows.repo,
          "argo",
        ],
      );
      assert.deepEqual(r.inputs.values, argoWorkflowsValues("llm-baseline"));
      for (const dep of [
        `aws:eks/nodeGroup:NodeGroup::${prefix}-cpu`,
        `kubernetes:rbac.authorization.k8s.io/v1:Role::${prefix}-argo-workflows-argo-workflows-controller`,
        `kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::${prefix}-argo-workflows-argo-workflows-controller`,
      ]) {
        assert.ok(r.dependsOn.includes(dep), `depends on ${dep}: ${r.dependsOn.join(", ")}`);
      }
    });

    it("grants the controller workflow rights in the model namespace only, and read of its config", async () => {
      const run = await runStack(stack);
      const role = (n: string) =>
        run.get("kubernetes:rbac.authorization.k8s.io/v1:Role", `${prefix}-argo-workflows-${n}`)
          .inputs;
      const binding = (n: string) =>
        run.get(
          "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
          `${prefix}-argo-workflows-${n}`,
        ).inputs;
      assert.equal(role("argo-workflows-controller").metadata.namespace, "llm-baseline");
      assert.deepEqual(role("argo-workflows-controller").rules, argoControllerRules());
      assert.equal(role("argo-workflows-controller-config").metadata.namespace, "argo");
      assert.deepEqual(role("argo-workflows-controller-config").rules, [
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "watch", "list"] },
      ]);
      for (const n of ["argo-workflows-controller", "argo-workflows-controller-config"]) {
        assert.deepEqual(binding(n).subjects, [
          { kind: "ServiceAccount", name: "argo-workflows-workflow-controller", namespace: "argo" },
        ]);
      }
      // Never a Secret (no agent, no static S3 keys), never a volume claim or disruption budget.
      const resources = argoControllerRules().flatMap((r) => r.resources);
      for (const r of ["secrets", "persistentvolumeclaims", "poddisruptionbudgets", "namespaces"]) {
        assert.ok(!resources.includes(r), r);
      }
      assert.deepEqual(argoControllerConfigRules(), role("argo-workflows-controller-config").rules);
      assert.deepEqual(
        run.resources.filter((x) => /ClusterRole/.test(x.type)),
        [],
        "no cluster-wide RBAC",
      );
    });

    it("lets Prometheus scrape the controller and the controller reach the Kubernetes API, nothing more", async () => {
      const run = await runStack(stack);
      const policies = run
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .filter((p) => p.inputs.metadata.namespace === "argo")
        .map((p) => p.inputs.metadata.name)
        .sort();
      assert.deepEqual(policies, [
        "allow-argo-controller-to-kube-apiserver",
        "allow-dns-to-kube-dns",
        "allow-prometheus-scrape-argo-controller-9090",
        "default-deny-all",
      ]);
    });
  });
}

describe("Argo Workflows: its values", () => {
  it("runs no server, installs the minimal CRDs without a hook, and manages one namespace", () => {
    const v = argoWorkflowsValues("ns1");
    assert.equal(v.server.enabled, false);
    assert.deepEqual(v.crds, { install: true, keep: true, full: false });
    assert.equal(v.singleNamespace, true);
    assert.deepEqual(v.controller.extraArgs, ["--managed-namespace", "ns1"]);
    assert.equal(v.controller.rbac.create, false);
    assert.equal(v.workflow.rbac.create, false);
    assert.equal(v.useStaticCredentials, false);
    assert.deepEqual(v.controller.metricsConfig, {
      enabled: true,
      secure: false,
      metricsTTL: "168h",
    });
    assert.equal(v.executor.image.tag, images.argoExec.tag);
    assert.match(v.executor.image.tag, /-nonroot$/, "the executor image that runs as non-root");
  });
});

describe("Argo Workflows: the real chart renders what the values promise", function () {
  this.timeout(120_000);
  let objects: KObject[];
  before(async function () {
    if (
      !fs.existsSync(chartPackagePath(charts.argoWorkflows.chart, charts.argoWorkflows.version))
    ) {
      this.skip();
    }
    const run = await runStack("dev");
    const release = releasesOf(run).find((r) => r.name === "argo-workflows")!;
    const [r] = await renderReleases(ensureHelm(), [release], "1.35.0", false);
    assert.ok(r && "objects" in r, JSON.stringify(r));
    objects = r.objects;
  });

  it("creates no cluster-wide role, webhook, hook Job or server", () => {
    const kinds = objects.map((o) => o.kind);
    for (const k of [
      "ClusterRole",
      "ClusterRoleBinding",
      "ValidatingWebhookConfiguration",
      "MutatingWebhookConfiguration",
      "Job",
      "Role",
      "RoleBinding",
      "Ingress",
    ]) {
      assert.ok(!kinds.includes(k), `renders no ${k}`);
    }
    assert.deepEqual(
      objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name),
      ["argo-workflows-workflow-controller"],
    );
  });

  it("installs the CRDs the templates use as plain objects (no download at install time)", () => {
    const crds = objects
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => o.metadata.name);
    for (const c of ["workflows", "workflowtemplates", "cronworkflows", "workflowtaskresults"]) {
      assert.ok(crds.includes(`${c}.argoproj.io`), c);
    }
    assert.ok(
      !crds.includes("clusterworkflowtemplates.argoproj.io"),
      "no cluster-scoped templates",
    );
  });

  it("runs the controller namespaced over llm-baseline with the executor of the same release", () => {
    const d = objects.find((o) => o.kind === "Deployment")!;
    const c = d.spec.template.spec.containers[0];
    const args: string[] = c.args;
    assert.ok(args.includes("--namespaced"));
    assert.equal(args[args.indexOf("--managed-namespace") + 1], "llm-baseline");
    assert.equal(
      args[args.indexOf("--executor-image") + 1],
      `${images.argoExec.registry}/${images.argoExec.repository}:${images.argoExec.tag}`,
    );
    // One controller without leader election: its Role grants no leases (argoControllerRules).
    assert.equal(d.spec.replicas, 1);
    assert.deepEqual(
      c.env.find((e: any) => e.name === "LEADER_ELECTION_DISABLE"),
      { name: "LEADER_ELECTION_DISABLE", value: "true" },
    );
    assert.ok(
      !argoControllerRules().some((r) => r.apiGroups?.includes("coordination.k8s.io")),
      "no lease rule: the controller must not need one",
    );
    const controllerTag = String(c.image).split(":").pop()!;
    assert.equal(
      images.argoExec.tag,
      `${controllerTag}-nonroot`,
      "executor and controller versions match",
    );
    const config = objects.find((o) => o.kind === "ConfigMap")!.data.config as string;
    assert.match(config, /metricsConfig:\n\s+enabled: true/);
    assert.match(config, /securityContext:[\s\S]*seccompProfile:\n\s+type: RuntimeDefault/);
    assert.doesNotMatch(config, /artifactRepository/, "each namespace names its own");
  });
});
