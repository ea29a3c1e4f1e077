/**
 * The README's recipes, done: "add a team API" and "add a variant" are one registry entry (registry.ts)
 * plus stack config. Each test extends the real registry in memory, gives the entry its stack config,
 * and checks everything that must follow, with no other file touched: the config schema accepts the
 * entry's config and applies the same checks as to every other entry; the namespace gets its quota,
 * LimitRange and baseline NetworkPolicies; the API its Deployment, Service, probes, IRSA role and AWS
 * access; the gateway routes to it and may reach it; the alerts cover it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import {
  adapterServing,
  modelServerName,
  modelUrl,
  registry,
  routedServices,
  registryProblems,
  serviceUrl,
} from "../../components/platform/registry";
import {
  type ModelDesign,
  type Registry,
  type ServiceDesign,
} from "../../components/platform/designs";
import { Namespaces } from "../../components/teams/namespaces";
import { ModelServing } from "../../components/models/modelServing";
import { alertRulesFor } from "../../components/observability/alerts";
import { dashboardsFor } from "../../components/observability/grafana";
import { podMonitorSpecs } from "../../components/observability/prometheus";
import { PlatformServices, routeTable } from "../../components/teams/platformServices";
import { modelsSchemaFor } from "../../components/config/models";
import {
  namespacesSchemaFor,
  servicesSchemaFor,
  type NamespacesConfig,
} from "../../components/config/teams";
import { objectsModel, podInstances, type KObject } from "../../verify/model";
import { denied } from "../../verify/checks/networkPolicies";
import {
  mockOidcIssuer,
  mockOidcProviderArn,
  readStackConfig,
  runStack,
  stacks,
  type StackName,
} from "../../verify/program";

/**
 * The region of the context these tests build for the components themselves (no stack file is run
 * for them): their own choice, so what they expect does not follow a stack file's `aws:region`.
 */
const region = "us-west-2";
const oidcIssuer = mockOidcIssuer(region);

/** The recipe's team API: a namespace, the API in it, and its gateway route. */
const example: ServiceDesign = {
  namespace: "example",
  team: "example",
  component: "api",
  serviceAccount: "example-sa",
  configMap: "example-config",
  route: { key: "example", timeoutMs: 20_000 },
  bucket: { name: "example-index", envVar: "INDEX_BUCKET" },
};
const withExample: Registry = {
  ...registry,
  namespaces: {
    ...registry.namespaces,
    example: { tier: "team", team: "example", podSecurity: "restricted" },
  },
  services: { ...registry.services, "example-api": example },
};

/**
 * The recipe's variant: a GPTQ build of the baseline model, called by quant-api (and the gateway).
 * What it serves is in its registry entry; each stack gives only its scale and resources.
 */
const baselineModel = registry.models.baseline!.serves!.model!;
const gptq4: ModelDesign = {
  team: "quant",
  client: "quant-api",
  family: "subject",
  serves: {
    model: "TheBloke/Mistral-7B-Instruct-v0.2-GPTQ",
    revision: "0123456789abcdef0123456789abcdef01234567",
    baseModel: baselineModel,
    servedModelName: "mistral-7b-gptq",
    gated: false,
    quantization: "gptq",
    footprint: { weightsGiB: 3.9, kvCacheKiBPerToken: 128 },
  },
};
const withGptq: Registry = { ...registry, models: { ...registry.models, gptq4 } };

function stackConfig(stack: StackName, key: string): Record<string, any> {
  return structuredClone(readStackConfig(stack).raw[`llm-platform:${key}`]) as Record<string, any>;
}

/** The stack's services config plus the new API's block (what the recipe adds to the stack file). */
function servicesWithExample(
  stack: StackName,
  example: Record<string, unknown>,
): Record<string, unknown> {
  return { ...stackConfig(stack, "services"), "example-api": example };
}

function issuesOf(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  return result.success ? [] : result.error!.issues.map((i) => i.path.join("."));
}

/** The recipe's stack block for the variant. */
const gptqVariant = { replicas: 0, resources: { cpu: "3", memory: "12Gi" } };

describe("registry: consistency", () => {
  it("holds for the platform's registry and both recipes", () => {
    for (const reg of [registry, withExample, withGptq])
      assert.deepEqual(registryProblems(reg), []);
  });

  it("names each dangling reference, and the schemas refuse such a registry", () => {
    const broken: Registry = {
      ...registry,
      services: {
        ...registry.services,
        "example-api": { ...example, route: { key: "quant", timeoutMs: 1 } },
      },
      models: { ...registry.models, gptq4: { ...gptq4, client: "example-apj" } },
    };
    assert.deepEqual(registryProblems(broken), [
      "services.example-api.namespace: example is not a registered namespace",
      "services.example-api.route.key: quant is another service's route",
      "models.gptq4.client: example-apj is not a registered service",
    ]);
    assert.throws(() => servicesSchemaFor(broken), /inconsistent registry/);
    assert.throws(() => modelsSchemaFor(broken), /example-apj/);
  });

  it("allows one adapter-serving variant, whose client has a bucket to publish adapters to", () => {
    const lora = registry.models.lora!;
    assert.deepEqual(
      registryProblems({
        ...registry,
        models: { ...registry.models, gptq4: { ...gptq4, servesAdapters: true } },
      }),
      [
        "models.gptq4.servesAdapters: its client quant-api declares no bucket to publish adapters to",
        `models: expected at most one variant that serves adapters, got ${adapterServing()!.variant}, gptq4`,
      ],
    );
    assert.deepEqual(adapterServing(), {
      variant: "lora",
      client: lora.client,
      bucket: "adapters",
    });
  });
});

describe("registry: add a team API (README recipe)", () => {
  for (const stack of stacks) {
    it(`${stack}: the schema takes the API's block and applies every per-service check to it`, () => {
      const schema = servicesSchemaFor(withExample);
      const ok = { imageTag: "v1.0.0", replicas: 2, pdb: { minAvailable: 1 } };
      assert.deepEqual(issuesOf(schema.safeParse(servicesWithExample(stack, ok))), []);
      // Forgetting the stack config is an error at the API's key, not a silent omission.
      assert.deepEqual(issuesOf(schema.safeParse(stackConfig(stack, "services"))), ["example-api"]);
      // The checks eval-api gets: a PDB that could block every drain, fixed replicas beside an HPA.
      assert.deepEqual(
        issuesOf(schema.safeParse(servicesWithExample(stack, { ...ok, pdb: { minAvailable: 5 } }))),
        ["example-api.pdb.minAvailable"],
      );
      assert.deepEqual(
        issuesOf(
          schema.safeParse(
            servicesWithExample(stack, { ...ok, hpa: { minReplicas: 2, maxReplicas: 4 } }),
          ),
        ),
        ["example-api.replicas"],
      );
      assert.deepEqual(issuesOf(schema.safeParse(servicesWithExample(stack, { imageTag: "v1" }))), [
        "example-api.replicas",
      ]);
      // A moving tag is refused exactly where the stack makes tags immutable.
      const latest = schema.safeParse(
        servicesWithExample(stack, { ...ok, imageTag: "example-latest" }),
      );
      const immutable = stackConfig(stack, "services").immutableImageTags === true;
      assert.deepEqual(issuesOf(latest), immutable ? ["example-api.imageTag"] : []);
    });
  }

  it("defaults the gateway's route to the registry's timeout, and checks a written one", () => {
    const schema = servicesSchemaFor(withExample);
    const ok = { imageTag: "v1.0.0", replicas: 2 };
    const parsed = schema.parse(servicesWithExample("dev", ok));
    assert.equal(parsed.gateway.routes.example?.timeoutMs, 20_000);
    // Every route of the platform's registry written out (a LoRA split sends all to one adapter).
    const routes = Object.fromEntries(
      routedServices(registry).map(([, d]) => [
        d.route.key,
        d.route.loraVariants
          ? { timeoutMs: 1000, variants: [{ name: d.route.loraVariants[0]!.name, weight: 100 }] }
          : { timeoutMs: 1000 },
      ]),
    );
    const services = servicesWithExample("dev", ok);
    const gateway = { ...(services.gateway as object), routes };
    // A stack that writes its routes must write the new one too.
    assert.deepEqual(issuesOf(schema.safeParse({ ...services, gateway })), [
      "gateway.routes.example",
    ]);
  });

  it("gives the API's namespace the team defaults: quota, LimitRange", () => {
    const parsed = namespacesSchemaFor(withExample).parse(stackConfig("prod", "namespaces"));
    const ns = (parsed as Record<string, NamespacesConfig["quant"]>).example!;
    assert.deepEqual(ns, (parsed as Record<string, NamespacesConfig["quant"]>).quant);
  });

  it("puts the API's route into ROUTE_TABLE after the design's, in the same wire format", () => {
    const services = servicesSchemaFor(withExample).parse(
      servicesWithExample("prod", { imageTag: "v1.0.0", replicas: 2 }),
    );
    const table = routeTable(services.gateway.routes, withExample);
    const platformKeys = routedServices(registry).map(([, d]) => d.route.key);
    assert.deepEqual(Object.keys(table), [...platformKeys, "example"]);
    assert.deepEqual(table.example, {
      url: "http://example-api.example.svc.cluster.local",
      timeout_ms: 20_000,
    });
    assert.equal(serviceUrl("example-api", withExample), table.example.url);
  });

  it("scrapes its metrics: the services' PodMonitor selects the API in its namespace", () => {
    const monitor = podMonitorSpecs(withExample)["platform-services"];
    assert.ok(monitor.namespaceSelector.matchNames.includes("example"));
    assert.ok(monitor.selector.matchExpressions[0]!.values.includes("example-api"));
  });

  it("lists it in the RED dashboard: the service variable queries its namespace", () => {
    const red = JSON.parse(dashboardsFor(withExample)["platform-red"]!) as {
      templating: { list: { name: string; query: { query: string } }[] };
    };
    const query = red.templating.list.find((v) => v.name === "service")!.query.query;
    assert.match(query, /namespace=~"[^"]*\bexample\b/);
  });

  it("covers the API and its namespace in the error-rate, latency and namespace alerts", () => {
    const rules = alertRulesFor(withExample);
    for (const name of ["ServiceHighErrorRate", "ServiceHighLatency"]) {
      const expr = rules.find((r) => r.alert === name)!.expr;
      assert.match(expr, /app=~"[^"]*\bexample-api\b/, name);
    }
    const byNamespace = rules.filter((r) => /namespace=~"/.test(r.expr));
    assert.ok(byNamespace.length > 0);
    for (const r of byNamespace) assert.match(r.expr, /namespace=~"[^"]*\bexample\b/, r.alert);
  });

  describe("the rendered API (Namespaces + PlatformServices over the extended registry)", () => {
    let objects: KObject[] = [];
    let aws: { type: string; name: string; inputs: Record<string, any> }[] = [];

    before(async () => {
      const recorded = await renderPlatform(withExample, (stack) =>
        servicesWithExample(stack, { imageTag: "v1.0.0", replicas: 2, pdb: { minAvailable: 1 } }),
      );
      objects = recorded.objects;
      aws = recorded.aws;
    });

    const find = (kind: string, namespace: string, name: string) => {
      const o = objects.find(
        (x) => x.kind === kind && x.metadata.namespace === namespace && x.metadata.name === name,
      );
      assert.ok(o, `${kind} ${namespace}/${name}`);
      return o;
    };

    it("creates the namespace with Pod Security, quota, LimitRange and default-deny", () => {
      const ns = objects.find((o) => o.kind === "Namespace" && o.metadata.name === "example")!;
      assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
      assert.equal(ns.metadata.labels?.team, "example");
      find("ResourceQuota", "example", "example-quota");
      find("LimitRange", "example", "example-limits");
      const deny = find("NetworkPolicy", "example", "default-deny-all");
      assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    });

    it("runs the API: Deployment with probes, Service, ServiceAccount with its IRSA role", () => {
      const deployment = find("Deployment", "example", "example-api");
      const container = deployment.spec.template.spec.containers[0];
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        assert.ok(container[probe]?.httpGet, probe);
      }
      assert.equal(deployment.spec.replicas, 2);
      find("Service", "example", "example-api");
      find("PodDisruptionBudget", "example", "example-api");
      const sa = find("ServiceAccount", "example", "example-sa");
      assert.match(
        sa.metadata.annotations?.["eks.amazonaws.com/role-arn"] ?? "",
        /example-api-irsa$/,
      );
      const config = find("ConfigMap", "example", "example-config");
      assert.equal(config.data.OTEL_SERVICE_NAME, "example-api");
      assert.match(config.data.INDEX_BUCKET, /example-index/);
    });

    it("trusts only example/example-sa and grants read-write on its own bucket, nothing else", () => {
      const role = aws.find(
        (r) => r.type === "aws:iam/role:Role" && r.inputs.name === "llm-dev-example-api-irsa",
      );
      assert.ok(role);
      const trust = JSON.parse(role.inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
        [`${oidcIssuer}:sub`]: "system:serviceaccount:example:example-sa",
        [`${oidcIssuer}:aud`]: "sts.amazonaws.com",
      });
      const policies = aws.filter(
        (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.includes("example-api"),
      );
      assert.deepEqual(
        policies.map((p) => p.inputs.name),
        ["example-index-readwrite"],
      );
      const doc = JSON.parse(policies[0]!.inputs.policy);
      assert.deepEqual(doc.Statement[1].Action, ["s3:GetObject", "s3:PutObject"]);
      assert.match(doc.Statement[1].Resource, /example-index.*\/\*$/);
    });

    it("routes the gateway to it: ROUTE_TABLE entry and EXAMPLE_SERVICE_URL", () => {
      const data = find("ConfigMap", "platform", "gateway-config").data;
      assert.deepEqual(JSON.parse(data.ROUTE_TABLE).example, {
        url: "http://example-api.example.svc.cluster.local",
        timeout_ms: 20_000,
      });
      assert.equal(data.EXAMPLE_SERVICE_URL, "http://example-api.example.svc.cluster.local");
    });

    it("opens no egress for it to model servers, since it calls none", () => {
      // An egress rule with an empty `to` would allow every destination on 8000.
      const egress = objects.filter(
        (o) => o.kind === "NetworkPolicy" && o.metadata.namespace === "example",
      );
      assert.ok(egress.length > 0);
      for (const p of egress) {
        for (const rule of p.spec.egress ?? []) {
          assert.notDeepEqual(rule.to, [], p.metadata.name);
        }
      }
      assert.ok(!egress.some((p) => p.metadata.name === "allow-example-api-to-model-servers-8000"));
    });

    it("lets the gateway reach it on 8000 and nothing else in", () => {
      const model = objectsModel(objects, "10.0.0.10");
      const pods = podInstances(model);
      const pod = (ns: string, app: string) =>
        pods.find((p) => p.namespace === ns && p.labels.app === app)!;
      const gateway = pod("platform", "gateway");
      const api = pod("example", "example-api");
      assert.ok(gateway && api);
      assert.equal(denied(model, { pod: gateway }, { pod: api }, 8000), undefined);
      assert.ok(denied(model, { pod: pod("quant", "quant-api") }, { pod: api }, 8000));
      assert.ok(denied(model, { pod: gateway }, { pod: api }, 9090));
    });
  });
});

describe("registry: add a model variant (README recipe)", () => {
  for (const stack of stacks) {
    it(`${stack}: the schema takes the variant's block and applies the variant checks to it`, () => {
      const schema = modelsSchemaFor(withGptq);
      const models = stackConfig(stack, "models");
      const withBlock = (v: object) => ({ ...models, variants: { ...models.variants, gptq4: v } });
      assert.deepEqual(issuesOf(schema.safeParse(withBlock(gptqVariant))), []);
      // The registry's defaults are checked like stack values: a quantized variant names its base
      // model, and a subject variant derives from the baseline's.
      const { baseModel: _, ...noBase } = gptq4.serves!;
      const withoutBase = {
        ...withGptq,
        models: { ...withGptq.models, gptq4: { ...gptq4, serves: noBase } },
      };
      assert.deepEqual(issuesOf(modelsSchemaFor(withoutBase).safeParse(withBlock(gptqVariant))), [
        "variants.gptq4.baseModel",
        "variants.gptq4.model",
      ]);
      // Forgetting the stack config is an error at the variant's key.
      assert.deepEqual(issuesOf(schema.safeParse(models)), ["variants.gptq4"]);
      // Like for like: a subject variant must derive from the baseline's model.
      assert.deepEqual(
        issuesOf(schema.safeParse(withBlock({ ...gptqVariant, baseModel: "other/model" }))),
        ["variants.gptq4.baseModel"],
      );
      const clash = registry.models.awq!.serves!.servedModelName!;
      assert.deepEqual(
        issuesOf(schema.safeParse(withBlock({ ...gptqVariant, servedModelName: clash }))),
        ["variants.gptq4.servedModelName"],
      );
    });
  }

  it("lets a stack override what the registry says it serves, and checks the registry's values", () => {
    const models = stackConfig("dev", "models");
    const block = { ...gptqVariant, servedModelName: "gptq-canary" };
    const parsed = modelsSchemaFor(withGptq).parse({
      ...models,
      variants: { ...models.variants, gptq4: block },
    });
    assert.equal(parsed.variants.gptq4?.servedModelName, "gptq-canary");
    assert.equal(parsed.variants.gptq4?.model, gptq4.serves!.model);
    const badName = {
      ...withGptq,
      models: {
        ...withGptq.models,
        gptq4: { ...gptq4, serves: { ...gptq4.serves, servedModelName: "GPTQ" } },
      },
    };
    const withBlock = { ...models, variants: { ...models.variants, gptq4: gptqVariant } };
    assert.deepEqual(issuesOf(modelsSchemaFor(badName).safeParse(withBlock)), [
      "variants.gptq4.servedModelName",
    ]);
  });

  describe("the gateway and the client service see it", () => {
    let objects: KObject[] = [];
    before(async () => {
      objects = (
        await renderPlatform(
          withGptq,
          (stack) => stackConfig(stack, "services"),
          (stack) => {
            const models = stackConfig(stack, "models");
            return { ...models, variants: { ...models.variants, gptq4: gptqVariant } };
          },
        )
      ).objects;
    });

    it("lists it in MODEL_ROUTES with its served name and upstream", () => {
      const gatewayConfig = objects.find(
        (o) => o.kind === "ConfigMap" && o.metadata.name === "gateway-config",
      )!;
      const routes = JSON.parse(gatewayConfig.data.MODEL_ROUTES) as {
        variant: string;
        model: string;
        upstream: string;
      }[];
      assert.deepEqual(
        routes.find((r) => r.variant === "gptq4"),
        {
          variant: "gptq4",
          model: "mistral-7b-gptq",
          upstream: `http://${modelServerName("gptq4")}.llm-baseline.svc.cluster.local`,
          serving: false,
          scaleToZero: false,
        },
      );
    });

    it("tells its client about it: the design's MODEL_ENDPOINT stays, MODEL_VARIANTS lists both", () => {
      const data = objects.find(
        (o) =>
          o.kind === "ConfigMap" && o.metadata.name === registry.services["quant-api"]!.configMap,
      )!.data;
      const own = Object.keys(registry.models).filter(
        (v) => registry.models[v]!.client === "quant-api",
      );
      assert.equal(data.MODEL_ENDPOINT, `${modelUrl(own[0]!)}/v1`);
      const listed = JSON.parse(data.MODEL_VARIANTS) as { variant: string; endpoint: string }[];
      assert.deepEqual(
        listed.map((v) => v.variant),
        [...own, "gptq4"],
      );
      assert.equal(listed.at(-1)!.endpoint, `${modelUrl("gptq4")}/v1`);
    });

    it("lets its callers (gateway, quant-api) send to it", () => {
      for (const [ns, app] of [
        ["platform", "gateway"],
        ["quant", "quant-api"],
      ] as const) {
        const egress = objects.find(
          (o) =>
            o.kind === "NetworkPolicy" &&
            o.metadata.namespace === ns &&
            o.metadata.name === `allow-${app}-to-model-servers-8000`,
        )!;
        const apps = egress.spec.egress.flatMap((r: any) =>
          r.to.map((t: any) => t.podSelector.matchLabels.app),
        );
        assert.ok(apps.includes(modelServerName("gptq4")), app);
      }
    });

    it("runs it: a GPU Deployment and a Service in llm-baseline, reachable only by its callers", () => {
      const name = modelServerName("gptq4");
      const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === name);
      assert.ok(deployment);
      assert.equal(deployment.metadata.namespace, "llm-baseline");
      assert.equal(deployment.metadata.labels?.team, "quant");
      const container = deployment.spec.template.spec.containers[0];
      assert.equal(container.resources.limits["nvidia.com/gpu"], "1");
      // A pre-quantized GPTQ checkpoint: no flag, so vLLM picks its Marlin kernel (modelServer.ts).
      assert.ok(!container.args.includes("--quantization"), container.args.join(" "));
      assert.ok(objects.some((o) => o.kind === "Service" && o.metadata.name === name));
      const model = objectsModel(objects, "10.0.0.10");
      const pods = podInstances(model);
      const pod = (ns: string, app: string) =>
        pods.find((p) => p.namespace === ns && p.labels.app === app)!;
      // replicas 0 leaves no pod instance; evaluate the policies against its template's labels.
      const server = {
        pod: { namespace: "llm-baseline", labels: deployment.spec.template.metadata.labels },
      } as Parameters<typeof denied>[2];
      for (const [ns, app] of [
        ["platform", "gateway"],
        ["quant", "quant-api"],
      ] as const) {
        assert.equal(denied(model, { pod: pod(ns, app) }, server, 8000), undefined, app);
      }
      assert.ok(denied(model, { pod: pod("eval", "eval-api") }, server, 8000));
    });
  });
});

describe("registry: the adapter sync follows the registry's servesAdapters, not a variant's name", () => {
  const { lora, ...others } = registry.models;
  const renamed: Registry = { ...registry, models: { ...others, tuned: lora! } };
  const withoutAdapters: Registry = {
    ...registry,
    models: { ...others, lora: { ...lora!, servesAdapters: false } },
  };
  const modelsRenamed = (stack: StackName) => {
    const models = stackConfig(stack, "models");
    const { lora: loraConfig, ...rest } = models.variants;
    return { ...models, variants: { ...rest, tuned: loraConfig } };
  };
  const cronJobs = (objects: KObject[]) => objects.filter((o) => o.kind === "CronJob");

  it("syncs adapters for the variant that serves them, whatever its name", async () => {
    const { objects } = await renderPlatform(
      renamed,
      (stack) => stackConfig(stack, "services"),
      modelsRenamed,
    );
    assert.equal(cronJobs(objects).length, 1);
    const tuned = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "vllm-tuned");
    assert.ok(tuned?.spec.template.spec.containers[0].args.includes("--enable-lora"));
  });

  it("creates no adapter sync when no variant serves adapters", async () => {
    const { objects } = await renderPlatform(withoutAdapters, (stack) =>
      stackConfig(stack, "services"),
    );
    assert.deepEqual(cronJobs(objects), []);
  });
});

describe("registry: every entry of the real registry is in both rendered stacks", () => {
  for (const stack of stacks) {
    it(`${stack}: each namespace, service and variant has its objects`, async () => {
      const run = await runStack(stack);
      const has = (type: string, name: string) =>
        assert.ok(
          run.resources.some((r) => r.type === type && r.name === name),
          `${type} ${name}`,
        );
      for (const ns of Object.keys(registry.namespaces)) {
        has("kubernetes:core/v1:Namespace", `${ns}-namespace`);
        has("kubernetes:core/v1:ResourceQuota", `${ns}-quota`);
        has("kubernetes:core/v1:LimitRange", `${ns}-limits`);
      }
      for (const service of Object.keys(registry.services)) {
        has("kubernetes:apps/v1:Deployment", service);
      }
      for (const variant of Object.keys(registry.models)) {
        const deployment = run.resources.find(
          (r) =>
            r.type === "kubernetes:apps/v1:Deployment" &&
            r.inputs.metadata?.name === modelServerName(variant),
        );
        assert.ok(deployment, variant);
        assert.ok(
          run.resources.some(
            (r) =>
              r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
              r.inputs.metadata?.name === `allow-clients-to-${modelServerName(variant)}-8000`,
          ),
          variant,
        );
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------

/**
 * Registers Namespaces, PlatformServices and ModelServing for the dev stack's config over `reg` under
 * Pulumi mocks,
 * and returns the Kubernetes objects (manifest form) and AWS resources they register.
 */
async function renderPlatform(
  reg: Registry,
  services: (stack: StackName) => Record<string, unknown>,
  models: (stack: StackName) => Record<string, unknown> = (stack) => stackConfig(stack, "models"),
): Promise<{
  objects: KObject[];
  aws: { type: string; name: string; inputs: Record<string, any> }[];
}> {
  const stack: StackName = "dev";
  const registered: pulumi.runtime.MockResourceArgs[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(args);
        const name = (args.inputs.name as string | undefined) ?? args.name;
        return {
          id: `${args.name}-id`,
          state: {
            ...args.inputs,
            name,
            arn: `arn:aws:test:::${name}`,
            bucket: name,
            repositoryUrl: `111122223333.dkr.ecr.${region}.amazonaws.com/${name}`,
          },
        };
      },
      call: (args) =>
        args.token === "aws:index/getPartition:getPartition" ? { partition: "aws" } : {},
    },
    "llm-platform",
    stack,
    false,
  );
  const namespaces = namespacesSchemaFor(reg).parse(stackConfig(stack, "namespaces"));
  const servicesConfig = servicesSchemaFor(reg).parse(services(stack));
  const modelsConfig = modelsSchemaFor(reg).parse(models(stack));
  await pulumi.runtime.runInPulumiStack(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
    const ns = new Namespaces(
      "test",
      {
        stack,
        kubernetesVersion: "1.33",
        namespaces: namespaces as NamespacesConfig,
        registry: reg,
      },
      { provider },
    );
    const lbc = new pulumi.ComponentResource("test:index:Controller", "lbc");
    const secrets = {
      namePrefix: "llm-dev",
      kmsKeyArn: `arn:aws:kms:${region}:111122223333:key/test`,
      refreshInterval: "1h",
      recoveryWindowDays: 0,
      ready: [lbc],
    };
    const ctx = {
      stack,
      clusterName: "llm-dev",
      namePrefix: "llm-dev",
      region,
      vpcCidr: "10.0.0.0/16",
      serviceCidr: "172.20.0.0/16",
      loadBalancerCidrs: ["10.0.32.0/22"],
      partition: "aws",
      accountId: "111122223333",
      destroyDeletesData: false,
      oidc: { providerArn: mockOidcProviderArn(region), issuer: oidcIssuer },
    };
    const services = new PlatformServices(
      "test",
      {
        ctx,
        services: servicesConfig,
        models: modelsConfig,
        namespaces: ns.names,
        loadBalancerController: lbc,
        registry: reg,
        secrets,
      },
      { providers: { kubernetes: provider } },
    );
    const adapters = adapterServing(reg);
    new ModelServing(
      "test-models",
      {
        ctx,
        ...(adapters ? { adapterBucket: services.buckets[adapters.bucket]! } : {}),
        autoscaler: { release: lbc, prometheusUrl: "http://prometheus:9090" },
        vpcId: "vpc-1",
        nodeSecurityGroupId: "sg-1",
        privateSubnetIds: ["subnet-1", "subnet-2"],
        availabilityZones: 2,
        s3Cidrs: ["52.218.128.0/17"],
        stsEndpointAddresses: ["10.0.0.20", "10.0.64.20"],
        models: modelsConfig,
        hfToken: pulumi.output("hf_test"),
        namespace: ns.names["llm-baseline"],
        efsDriver: lbc,
        registry: reg,
        secrets,
      },
      { providers: { kubernetes: provider } },
    );
    return Promise.resolve({});
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
  const objects = registered
    .filter((r) => r.type.startsWith("kubernetes:") && r.inputs.metadata)
    .map((r) => {
      const [, group, kind] = r.type.split(":");
      const apiVersion = group!.startsWith("core/") ? group!.slice(5) : group!;
      return { apiVersion, kind: kind!, ...r.inputs } as KObject;
    });
  const aws = registered
    .filter((r) => r.type.startsWith("aws:"))
    .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs as Record<string, any> }));
  return { objects, aws };
}
