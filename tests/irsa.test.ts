import * as assert from "node:assert/strict";
import { irsaTrustPolicy } from "../components/lib/aws/iam";
import { adapterServing, modelNamespace, registry } from "../components/platform/registry";
import {
  type StackName,
  runStack,
  stackConfig,
  stacks,
  mockOidcIssuer,
  mockOidcProviderArn,
} from "../verify/program";

/** The observability stores the stack keeps in S3 (each needs its own IRSA role). */
function objectStores(stack: StackName): string[] {
  const o = stackConfig(stack).observability;
  return [
    ...(o.mimir.enabled ? ["mimir"] : []),
    ...(o.loki.storage === "s3" ? ["loki"] : []),
    ...(o.tempo.storage === "s3" ? ["tempo"] : []),
  ];
}

/**
 * The web-identity roles a stack must have, as [role name, trusted service account]: the cluster's own
 * (add-ons and controllers, fixed by the platform), one per registered service, the adapter sync when
 * a variant serves adapters, the benchmark workflows', and one per observability store kept in S3.
 */
function expectedIrsaRoles(stack: StackName): [string, string][] {
  const prefix = `llmplatform-${stack}`;
  const sa = (namespace: string, account: string) =>
    `system:serviceaccount:${namespace}:${account}`;
  return [
    [`${prefix}-vpc-cni-irsa`, sa("kube-system", "aws-node")],
    [`${prefix}-aws-ebs-csi-driver-irsa`, sa("kube-system", "ebs-csi-controller-sa")],
    [`${prefix}-aws-efs-csi-driver-irsa`, sa("kube-system", "efs-csi-controller-sa")],
    [`${prefix}-cluster-autoscaler-irsa`, sa("kube-system", "cluster-autoscaler")],
    [
      `${prefix}-aws-load-balancer-controller-irsa`,
      sa("kube-system", "aws-load-balancer-controller"),
    ],
    [`${prefix}-external-secrets-irsa`, sa("external-secrets", "external-secrets")],
    // each service of the registry, the gateway included, through its own service account
    ...Object.entries(registry.services).map(([service, d]): [string, string] => [
      `${prefix}-${service}-irsa`,
      sa(d.namespace, d.serviceAccount),
    ]),
    ...(adapterServing(registry)
      ? [[`${prefix}-adapter-sync-irsa`, sa(modelNamespace, "adapter-sync")] as [string, string]]
      : []),
    // the benchmark workflows' artifacts (results bucket, benchmarks/ only)
    [`${prefix}-benchmark-irsa`, sa(modelNamespace, "benchmark")],
    // the model store: its staging Job writes it, the streaming servers read it
    ...(Object.values(stackConfig(stack).models.variants).some((v) => v.weightsFrom === "store")
      ? ([
          [`${prefix}-model-stage-irsa`, sa(modelNamespace, "model-stage")],
          [`${prefix}-model-streamer-irsa`, sa(modelNamespace, "model-streamer")],
        ] as [string, string][])
      : []),
    // each store kept in S3 reaches it through its own role
    ...objectStores(stack).map((c): [string, string] => [
      `${prefix}-${c}-irsa`,
      sa("observability", c),
    ]),
  ];
}

describe("IRSA", () => {
  it("trusts one service account of one cluster, with :sub and :aud", () => {
    assert.deepEqual(
      irsaTrustPolicy(
        "arn:aws:iam::111122223333:oidc-provider/oidc.example/id/X",
        "https://oidc.example/id/X",
        "kube-system",
        "aws-node",
      ),
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/oidc.example/id/X" },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                "oidc.example/id/X:sub": "system:serviceaccount:kube-system:aws-node",
                "oidc.example/id/X:aud": "sts.amazonaws.com",
              },
            },
          },
        ],
      },
    );
  });

  for (const stack of stacks) {
    it(`${stack}: one web-identity role per service account that calls AWS (the add-ons, every registered service, the adapter sync, the benchmarks, the model store, the stores in S3), each pinning :sub and :aud exactly`, async () => {
      const run = await runStack(stack);
      const irsa = run
        .ofType("aws:iam/role:Role")
        .map((r) => ({
          name: r.name,
          inputs: r.inputs,
          doc: JSON.parse(r.inputs.assumeRolePolicy),
        }))
        .filter((r) =>
          r.doc.Statement.some((s: any) => s.Action === "sts:AssumeRoleWithWebIdentity"),
        );
      assert.deepEqual(
        irsa
          .map((r) => [
            r.inputs.name,
            r.doc.Statement[0].Condition.StringEquals[
              `${mockOidcIssuer(stackConfig(stack).region)}:sub`
            ],
          ])
          .sort(),
        expectedIrsaRoles(stack).sort(),
      );
      for (const r of irsa) {
        const sub =
          r.doc.Statement[0].Condition.StringEquals[
            `${mockOidcIssuer(stackConfig(stack).region)}:sub`
          ];
        // Exactly this document: one statement, this cluster's provider, sub and aud pinned, no wildcards.
        assert.match(sub, /^system:serviceaccount:[^:*]+:[^:*]+$/, r.inputs.name);
        assert.deepEqual(
          r.doc,
          {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Federated: mockOidcProviderArn(stackConfig(stack).region) },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                  StringEquals: {
                    [`${mockOidcIssuer(stackConfig(stack).region)}:sub`]: sub,
                    [`${mockOidcIssuer(stackConfig(stack).region)}:aud`]: "sts.amazonaws.com",
                  },
                },
              },
            ],
          },
          r.inputs.name,
        );
      }
      // One role per service account: no two roles trust the same one.
      const subs = irsa.map(
        (r) =>
          r.doc.Statement[0].Condition.StringEquals[
            `${mockOidcIssuer(stackConfig(stack).region)}:sub`
          ],
      );
      assert.equal(new Set(subs).size, subs.length);
    });
  }
});
