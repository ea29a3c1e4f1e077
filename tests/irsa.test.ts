import * as assert from "node:assert/strict";
import { irsaTrustPolicy } from "../components/aws/iam";
import {
  type StackName,
  runStack,
  stackConfig,
  stacks,
  testOidcIssuer,
  testOidcProviderArn,
} from "./harness";

/** The observability stores the stack keeps in S3 (each needs its own IRSA role). */
function objectStores(stack: StackName): string[] {
  const o = stackConfig(stack).observability;
  return [
    ...(o.mimir.enabled ? ["mimir"] : []),
    ...(o.loki.storage === "s3" ? ["loki"] : []),
    ...(o.tempo.storage === "s3" ? ["tempo"] : []),
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
    it(`${stack}: every web-identity role is scoped with StringEquals on :sub and :aud`, async () => {
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
            r.doc.Statement[0].Condition.StringEquals[`${testOidcIssuer}:sub`],
          ])
          .sort(),
        [
          [`llmplatform-${stack}-vpc-cni-irsa`, "system:serviceaccount:kube-system:aws-node"],
          [
            `llmplatform-${stack}-adapter-sync-irsa`,
            "system:serviceaccount:llm-baseline:adapter-sync",
          ],
          [
            `llmplatform-${stack}-aws-ebs-csi-driver-irsa`,
            "system:serviceaccount:kube-system:ebs-csi-controller-sa",
          ],
          [
            `llmplatform-${stack}-aws-efs-csi-driver-irsa`,
            "system:serviceaccount:kube-system:efs-csi-controller-sa",
          ],
          [`llmplatform-${stack}-gateway-irsa`, "system:serviceaccount:platform:gateway-sa"],
          [`llmplatform-${stack}-quant-api-irsa`, "system:serviceaccount:quant:quant-sa"],
          [`llmplatform-${stack}-finetune-api-irsa`, "system:serviceaccount:finetune:finetune-sa"],
          [`llmplatform-${stack}-eval-api-irsa`, "system:serviceaccount:eval:eval-sa"],
          [
            `llmplatform-${stack}-cluster-autoscaler-irsa`,
            "system:serviceaccount:kube-system:cluster-autoscaler",
          ],
          [
            `llmplatform-${stack}-aws-load-balancer-controller-irsa`,
            "system:serviceaccount:kube-system:aws-load-balancer-controller",
          ],
          // each store kept in S3 reaches it through its own role
          ...objectStores(stack).map((c) => [
            `llmplatform-${stack}-${c}-irsa`,
            `system:serviceaccount:observability:${c}`,
          ]),
        ].sort(),
      );
      for (const r of irsa) {
        assert.equal(r.doc.Statement.length, 1);
        const s = r.doc.Statement[0];
        assert.deepEqual(s.Principal, { Federated: testOidcProviderArn });
        assert.deepEqual(Object.keys(s.Condition), ["StringEquals"]);
        assert.deepEqual(Object.keys(s.Condition.StringEquals).sort(), [
          `${testOidcIssuer}:aud`,
          `${testOidcIssuer}:sub`,
        ]);
        assert.equal(s.Condition.StringEquals[`${testOidcIssuer}:aud`], "sts.amazonaws.com");
        assert.match(
          s.Condition.StringEquals[`${testOidcIssuer}:sub`],
          /^system:serviceaccount:[^:*]+:[^:*]+$/,
        );
      }
      // One role per service account: no two roles trust the same one.
      const subs = irsa.map(
        (r) => r.doc.Statement[0].Condition.StringEquals[`${testOidcIssuer}:sub`],
      );
      assert.equal(new Set(subs).size, subs.length);
    });
  }
});
