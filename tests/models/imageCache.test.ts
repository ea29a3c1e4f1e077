/**
 * The vLLM image through an ECR pull-through cache of Docker Hub: off unless configured; when on, every
 * vLLM container pulls the same tag from ECR in the stack's region, and only the nodes may pull it.
 */
import * as assert from "node:assert/strict";
import {
  cachedImagePullPolicy,
  dockerHubImage,
  dockerHubRegistry,
} from "../../components/models/imageCache";
import { ConfigError, parseConfig } from "../../components/config/platformConfig";
import { knownRegions } from "../../components/platform/regions";
import { images } from "../../components/platform/versions";
import {
  cloneStackConfig,
  runProgram,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
  type StackRun,
} from "../../verify/program";

/** The operator's Docker Hub credential, in `region` (by default dev's, where ECR reads it). */
const secret = (region = stackConfig("dev").region) =>
  `arn:aws:secretsmanager:${region}:${testAccountId}:secret:ecr-pullthroughcache/docker-hub-AbCdEf`;

function withCache(arn: string) {
  const raw = cloneStackConfig("dev") as Record<string, any>;
  raw["llm-platform:models"].imageCache = { dockerHubCredentialArn: arn };
  return raw;
}

describe("vLLM image cache", () => {
  it("splits Docker Hub references, official images under library/", () => {
    assert.deepEqual(dockerHubImage(images.vllm), {
      repository: images.vllm.split(":")[0],
      tag: images.vllm.split(":")[1],
    });
    assert.deepEqual(dockerHubImage("nginx:1.27"), { repository: "library/nginx", tag: "1.27" });
    assert.throws(() => dockerHubImage("vllm/vllm-openai"), /with a tag/);
  });

  it("lets the nodes' role pull and import through the cache, and nothing else", () => {
    const role = `arn:aws:iam::${testAccountId}:role/llmplatform-dev-node`;
    assert.deepEqual(cachedImagePullPolicy(role).Statement, [
      {
        Sid: "NodesPullThroughTheCache",
        Effect: "Allow",
        Principal: { AWS: role },
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"],
      },
    ]);
  });

  it("refuses a credential ECR cannot use, naming the key", () => {
    const problems = (arn: string) => {
      try {
        parseConfig(withCache(arn), "dev");
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    assert.deepEqual(problems(secret()), []);
    assert.deepEqual(problems(secret().replace("ecr-pullthroughcache/", "dockerhub/")), [
      "llm-platform:models.imageCache.dockerHubCredentialArn: expected a Secrets Manager secret ARN whose name starts with ecr-pullthroughcache/ (ECR requires the prefix)",
    ]);
    const region = stackConfig("dev").region;
    const elsewhere = [...knownRegions().values()].find(
      (r) => r.partition === "aws" && r.name !== region,
    )!.name;
    assert.deepEqual(problems(secret(elsewhere)), [
      `llm-platform:models.imageCache.dockerHubCredentialArn: expected a secret in the stack's region ${region} (ECR reads it there), got ${elsewhere}`,
    ]);
  });

  for (const stack of stacks) {
    it(`${stack}: pulls from Docker Hub as written while the stack configures no cache`, async () => {
      const run = await runStack(stack);
      assert.deepEqual(run.ofType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule"), []);
      for (const d of run.ofType("kubernetes:apps/v1:Deployment")) {
        if (!d.name.startsWith("vllm-")) continue;
        assert.equal(d.inputs.spec.template.spec.containers[0].image, images.vllm);
      }
    });
  }

  describe("configured", () => {
    let run: StackRun;
    before(async () => {
      run = await runProgram("dev", withCache(secret()));
      if (run.error) throw run.error;
    });

    it("caches Docker Hub under the stack's prefix, with the operator's credential", () => {
      const [rule] = run.ofType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule");
      assert.deepEqual(
        [
          rule!.inputs.ecrRepositoryPrefix,
          rule!.inputs.upstreamRegistryUrl,
          rule!.inputs.credentialArn,
        ],
        ["llmplatform-dev-hub", dockerHubRegistry, secret()],
      );
      const repo = run
        .ofType("aws:ecr/repository:Repository")
        .find(
          (r) => r.inputs.name === `llmplatform-dev-hub/${dockerHubImage(images.vllm).repository}`,
        );
      assert.ok(repo, "the cached repository exists before the first pull");
      assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
      // Emptied on destroy exactly when the stack says so (on in dev), like every repository.
      assert.equal(repo.inputs.forceDelete, stackConfig("dev").destroyDeletesData);
      const nodeRole = run.get("aws:iam/role:Role", "llmplatform-dev-node").inputs.name;
      const policy = run
        .ofType("aws:ecr/repositoryPolicy:RepositoryPolicy")
        .map((p) => JSON.parse(p.inputs.policy));
      assert.deepEqual(policy, [
        cachedImagePullPolicy(`arn:aws:iam::${testAccountId}:role/${nodeRole}`),
      ]);
    });

    it("follows destroyDeletesData the other way too (off keeps the cached images, as in prod)", async () => {
      const raw = withCache(secret());
      const flipped = !stackConfig("dev").destroyDeletesData;
      raw["llm-platform:destroyDeletesData"] = flipped;
      const other = await runProgram("dev", raw);
      if (other.error) throw other.error;
      const repo = other
        .ofType("aws:ecr/repository:Repository")
        .find((r) => r.inputs.name.startsWith("llmplatform-dev-hub/"));
      assert.equal(repo?.inputs.forceDelete, flipped);
    });

    it("runs every vLLM container from the cached image, the same tag", () => {
      const region = stackConfig("dev").region;
      const url = `${testAccountId}.dkr.ecr.${region}.amazonaws.com/llmplatform-dev-hub/${images.vllm}`;
      const vllm = run
        .ofType("kubernetes:apps/v1:Deployment")
        .filter((d) => d.name.startsWith("vllm-"));
      assert.ok(vllm.length > 0);
      for (const d of vllm) {
        const spec = d.inputs.spec.template.spec;
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          assert.equal(c.image, url, `${d.name} ${c.name}`);
        }
      }
    });
  });
});
