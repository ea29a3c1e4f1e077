/**
 * The policy pack, offline: both stacks' recorded resources pass every policy, and deliberately broken
 * copies of them fail with the expected policy's name.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
} from "@pulumi/policy";
import { policies } from "../policy/policies";
import { repoRoot, runStack, stacks, type RecordedResource } from "../verify/program";

const urnOf = (r: { type: string; name: string }) =>
  `urn:pulumi:test::llm-platform::${r.type}::${r.name}`;

function resourceArgs(r: RecordedResource, config: object): ResourceValidationArgs {
  return {
    type: r.type,
    props: r.inputs,
    urn: urnOf(r),
    name: r.name,
    opts: {
      protect: false,
      ignoreChanges: r.ignoreChanges,
      aliases: [],
      additionalSecretOutputs: [],
      replaceOnChanges: [],
      retainOnDelete: false,
    } as any,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
}

function policyResource(r: RecordedResource): PolicyResource {
  return {
    type: r.type,
    props: r.inputs,
    urn: urnOf(r),
    name: r.name,
    opts: {} as any,
    dependencies: [],
    propertyDependencies: {},
    ...(r.parent ? { parent: { urn: `parent::${r.parent}` } as PolicyResource } : {}),
    isType: () => false,
    asType: () => undefined,
  };
}

/** Every violation of every policy over the resources, as `policy-name: message`. */
async function violations(
  resources: RecordedResource[],
  config: Record<string, object> = {},
): Promise<string[]> {
  const found: string[] = [];
  for (const p of policies) {
    const cfg = config[p.name] ?? {};
    if ("validateResource" in p && p.validateResource) {
      const validations = ([] as NonNullable<ResourceValidationPolicy["validateResource"]>[])
        .concat(p.validateResource)
        .flat();
      for (const r of resources) {
        for (const v of validations as any[])
          await v(resourceArgs(r, cfg), (m: string) => found.push(`${p.name}: ${m}`));
      }
    }
    if ("validateStack" in p) {
      const args: StackValidationArgs = {
        resources: resources.map(policyResource),
        getConfig: <T extends object>() => cfg as T,
        stackTags: new Map(),
      } as any;
      await p.validateStack(args, (m: string) => found.push(`${p.name}: ${m}`));
    }
  }
  return found;
}

/** A deep copy of one recorded resource with `edit` applied to its inputs. */
function broken(r: RecordedResource, edit: (inputs: any) => void): RecordedResource {
  const inputs = structuredClone(r.inputs);
  edit(inputs);
  return { ...r, inputs };
}

describe("policy pack", () => {
  it("has the platform's ten policies, all mandatory", () => {
    assert.deepEqual(
      policies.map((p) => [p.name, p.enforcementLevel]),
      [
        "workload-probes",
        "workload-resources",
        "workload-security",
        "image-tags",
        "clusterip-services",
        "gpu-node-groups-spot-tainted",
        "irsa-trust-scoped",
        "eks-cluster-secure",
        "s3-buckets-private-encrypted",
        "secrets-from-secrets-manager",
      ].map((n) => [n, "mandatory"]),
    );
  });

  for (const stack of stacks) {
    it(`passes every resource of the ${stack} stack, under the policy config CI deploys it with`, async () => {
      const run = await runStack(stack);
      const config = JSON.parse(
        fs.readFileSync(path.join(repoRoot, "policy", `${stack}.json`), "utf8"),
      ) as Record<string, object>;
      assert.deepEqual(await violations(run.resources, config), []);
    });
  }

  describe("rejects broken resources with the expected policy", () => {
    const cases: {
      what: string;
      pick: (rs: RecordedResource[]) => RecordedResource;
      edit: (i: any) => void;
      policy: string;
      config?: Record<string, object>;
    }[] = [
      {
        what: "a Deployment without a readiness probe",
        pick: (rs) =>
          rs.find((r) => r.name === "gateway" && r.type === "kubernetes:apps/v1:Deployment")!,
        edit: (i) => delete i.spec.template.spec.containers[0].readinessProbe,
        policy: "workload-probes",
      },
      {
        what: "a container without a memory limit",
        pick: (rs) =>
          rs.find((r) => r.name === "vllm-baseline" && r.type === "kubernetes:apps/v1:Deployment")!,
        edit: (i) => delete i.spec.template.spec.containers[0].resources.limits.memory,
        policy: "workload-resources",
      },
      {
        what: "a container that may run as root with a writable root filesystem",
        pick: (rs) =>
          rs.find((r) => r.name === "quant-api" && r.type === "kubernetes:apps/v1:Deployment")!,
        edit: (i) => {
          delete i.spec.template.spec.securityContext.runAsNonRoot;
          delete i.spec.template.spec.containers[0].securityContext.runAsNonRoot;
          i.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
        },
        policy: "workload-security",
      },
      {
        what: "an image on :latest",
        pick: (rs) =>
          rs.find((r) => r.name === "vllm-awq" && r.type === "kubernetes:apps/v1:Deployment")!,
        edit: (i) => (i.spec.template.spec.containers[0].image = "vllm/vllm-openai:latest"),
        policy: "image-tags",
      },
      {
        what: "an untagged image",
        pick: (rs) =>
          rs.find((r) => r.name === "vllm-awq" && r.type === "kubernetes:apps/v1:Deployment")!,
        edit: (i) => (i.spec.template.spec.containers[0].image = "vllm/vllm-openai"),
        policy: "image-tags",
      },
      {
        what: "a moving tag under the prod config",
        pick: (rs) =>
          rs.find((r) => r.name === "gateway" && r.type === "kubernetes:apps/v1:Deployment")!,
        edit: (i) =>
          (i.spec.template.spec.containers[0].image =
            "111122223333.dkr.ecr.us-west-2.amazonaws.com/x/gateway:dev-latest"),
        policy: "image-tags",
        config: { "image-tags": { forbidMovingTags: true } },
      },
      {
        what: "a LoadBalancer Service",
        pick: (rs) => rs.find((r) => r.type === "kubernetes:core/v1:Service")!,
        edit: (i) => (i.spec.type = "LoadBalancer"),
        policy: "clusterip-services",
      },
      {
        what: "an on-demand GPU group",
        pick: (rs) =>
          rs.find(
            (r) => r.type === "aws:eks/nodeGroup:NodeGroup" && /NVIDIA/.test(r.inputs.amiType),
          )!,
        edit: (i) => (i.capacityType = "ON_DEMAND"),
        policy: "gpu-node-groups-spot-tainted",
      },
      {
        what: "an untainted GPU group",
        pick: (rs) =>
          rs.find(
            (r) => r.type === "aws:eks/nodeGroup:NodeGroup" && /NVIDIA/.test(r.inputs.amiType),
          )!,
        edit: (i) => (i.taints = []),
        policy: "gpu-node-groups-spot-tainted",
      },
      {
        what: "an IRSA trust without :aud",
        pick: (rs) =>
          rs.find((r) => r.type === "aws:iam/role:Role" && /irsa$/.test(r.inputs.name ?? ""))!,
        edit: (i) => {
          const doc = JSON.parse(i.assumeRolePolicy);
          const eq = doc.Statement[0].Condition.StringEquals;
          for (const k of Object.keys(eq)) if (k.endsWith(":aud")) delete eq[k];
          i.assumeRolePolicy = JSON.stringify(doc);
        },
        policy: "irsa-trust-scoped",
      },
      {
        what: "a Kubernetes Secret written with a value",
        pick: (rs) => ({
          ...rs.find((r) => r.type === "kubernetes:external-secrets.io/v1:ExternalSecret")!,
          type: "kubernetes:core/v1:Secret",
          inputs: { apiVersion: "v1", kind: "Secret", metadata: { name: "hf-token" } },
        }),
        edit: (i) => (i.stringData = { token: "hf_x" }),
        policy: "secrets-from-secrets-manager",
      },
      {
        what: "a Secrets Manager secret on the default key",
        pick: (rs) => rs.find((r) => r.type === "aws:secretsmanager/secret:Secret")!,
        edit: (i) => delete i.kmsKeyId,
        policy: "secrets-from-secrets-manager",
      },
      {
        what: "an EKS cluster without audit logs",
        pick: (rs) => rs.find((r) => r.type === "eks:index:Cluster")!,
        edit: (i) => (i.enabledClusterLogTypes = ["api"]),
        policy: "eks-cluster-secure",
      },
      {
        what: "an EKS cluster without secrets encryption",
        pick: (rs) => rs.find((r) => r.type === "eks:index:Cluster")!,
        edit: (i) => delete i.encryptionConfigKeyArn,
        policy: "eks-cluster-secure",
      },
    ];

    for (const c of cases) {
      it(c.what, async () => {
        const run = await runStack("dev");
        const target = c.pick(run.resources);
        assert.ok(target, "fixture resource exists");
        const found = await violations([broken(target, c.edit)], c.config ?? {});
        assert.ok(
          found.length > 0 && found.every((v) => v.startsWith(`${c.policy}: `)),
          found.join("\n") || "no violation",
        );
      });
    }

    it("a bucket whose public access block is missing", async () => {
      const run = await runStack("dev");
      const withoutBlock = run.resources.filter(
        (r) => r.type !== "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      );
      const found = await violations(withoutBlock);
      // Every bucket of the stack is reported, by name.
      const buckets = run.ofType("aws:s3/bucket:Bucket").map((b) => b.name);
      assert.ok(buckets.length > 0);
      assert.deepEqual(
        [...found].sort(),
        buckets
          .map(
            (b) =>
              `s3-buckets-private-encrypted: bucket ${b} has no public access block with all four settings on`,
          )
          .sort(),
      );
    });
  });
});
