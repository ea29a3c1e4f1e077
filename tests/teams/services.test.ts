import * as assert from "node:assert/strict";
import { configHash, hpaSpec } from "../../components/teams/microservice";
import { modelCallers, registry, routedServices } from "../../components/platform/registry";
import { type Registry } from "../../components/platform/designs";
import { modelRoutes, routeTable } from "../../components/teams/platformServices";
import { gatewayKeyFiles } from "../../components/teams/gatewaySecrets";
import { parseConfig, type PlatformConfig } from "../../components/config/platformConfig";
import type { ModelsConfig, ModelVariantConfig } from "../../components/config/models";
import type { GatewayRoutes } from "../../components/config/teams";
import {
  cloneStackConfig,
  mockSubnetLayout,
  runStack,
  stackConfig,
  stacks,
  testAccountId,
  mockOidcIssuer,
} from "../../verify/program";

const D = "kubernetes:apps/v1:Deployment";
/** The four platform services (model servers have their own tests). */
const platformOnly = <R extends { inputs: any }>(rs: R[]) =>
  rs.filter((r) => r.inputs.metadata.namespace !== "llm-baseline");
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** The design's team APIs (service, namespace, service account, ConfigMap), in ROUTE_TABLE order. */
const designApis = [
  ["quant-api", "quant", "quant-sa", "quant-config"],
  ["finetune-api", "finetune", "finetune-sa", "finetune-config"],
  ["eval-api", "eval", "eval-sa", "eval-config"],
] as const;
/** Every team API the gateway routes to, the same four facts from the registry, in ROUTE_TABLE order. */
const apis = routedServices(registry).map(
  ([api, d]) => [api, d.namespace, d.serviceAccount, d.configMap] as const,
);
/** In-cluster URL of a registered service: its ClusterIP Service on port 80. */
const urlOf = (svc: string) =>
  `http://${svc}.${registry.services[svc]!.namespace}.svc.cluster.local`;

/** The design's gateway routes (the defaults both stacks use). */
const designRoutes = {
  quant: { timeoutMs: 30000 },
  finetune: {
    timeoutMs: 60000,
    variants: [
      { name: "lora-v1", weight: 80 },
      { name: "lora-v2", weight: 20 },
    ],
  },
  eval: { timeoutMs: 45000 },
};
const designRouteKeys = Object.keys(designRoutes);
/** One route per registered team API: the design's as the design gives them, any other at its registry default. */
const routes: GatewayRoutes = {
  ...Object.fromEntries(
    routedServices(registry).map(([, d]) => [
      d.route.key,
      { timeoutMs: d.route.timeoutMs, variants: d.route.loraVariants?.map((v) => ({ ...v })) },
    ]),
  ),
  ...designRoutes,
};

/**
 * The design's ROUTE_TABLE (the gateway team builds against it), with the team APIs' in-cluster URLs
 * (the design elides them). Written out as JSON text on purpose: this is the wire contract.
 */
const designRouteTable =
  '{"quant": {"url": "http://quant-api.quant.svc.cluster.local", "timeout_ms": 30000}, ' +
  '"finetune": {"url": "http://finetune-api.finetune.svc.cluster.local", "timeout_ms": 60000, ' +
  '"ab_variants": {"lora-v1": {"weight": 80}, "lora-v2": {"weight": 20}}}, ' +
  '"eval": {"url": "http://eval-api.eval.svc.cluster.local", "timeout_ms": 45000}}';

/** JSON text without insignificant whitespace (outside strings), key order kept. */
const compact = (json: string) => JSON.stringify(JSON.parse(json));

/**
 * The ROUTE_TABLE text for these routes: the design's table byte for byte (its keys first, in its
 * order), then one entry for each further team API the registry routes to, in registry order.
 */
function expectedRouteTable(rs: GatewayRoutes): string {
  const further = routedServices(registry)
    .filter(([, d]) => !designRouteKeys.includes(d.route.key))
    .map(([api, d]) => {
      const route = rs[d.route.key]!;
      const entry = {
        url: urlOf(api),
        timeout_ms: route.timeoutMs,
        ...(d.route.loraVariants
          ? {
              ab_variants: Object.fromEntries(
                (route.variants ?? []).map((v) => [v.name, { weight: v.weight }]),
              ),
            }
          : {}),
      };
      return `,${JSON.stringify(d.route.key)}:${JSON.stringify(entry)}`;
    });
  return compact(designRouteTable).slice(0, -1) + further.join("") + "}";
}

/** The dev stack's models, parsed on first use (a broken stack file fails tests, not mocha's load). */
let parsedDevModels: PlatformConfig["models"] | undefined;
const devModels = () => (parsedDevModels ??= parseConfig(cloneStackConfig("dev"), "dev").models);

/** These models with every variant scaled the same way (a fixed count or autoscaling). */
function scaledAlike(
  m: ModelsConfig,
  scale: Pick<ModelVariantConfig, "replicas" | "autoscaling">,
): ModelsConfig {
  return {
    ...m,
    variants: Object.fromEntries(
      Object.entries(m.variants).map(([v, c]) => [
        v,
        { ...c, replicas: undefined, autoscaling: undefined, ...scale },
      ]),
    ),
  };
}

describe("services: pure parts", () => {
  it("routes to the design's team APIs first, under the design's names", () => {
    assert.deepEqual(apis.slice(0, designApis.length), designApis);
    assert.deepEqual(
      routedServices(registry)
        .slice(0, designRouteKeys.length)
        .map(([, d]) => d.route.key),
      designRouteKeys,
    );
  });

  it("builds the design's ROUTE_TABLE: team URLs, timeouts and the finetune A/B split", () => {
    // Exactly the design's text for its routes; a team API the registry adds comes after them.
    const text = JSON.stringify(routeTable(routes));
    assert.equal(text, expectedRouteTable(routes));
    assert.ok(text.startsWith(compact(designRouteTable).slice(0, -1)));
    // The design's own registry (its three team APIs) gives the design's table exactly.
    const design: Registry = {
      ...registry,
      services: Object.fromEntries(
        Object.entries(registry.services).filter(
          ([, d]) => !d.route || designRouteKeys.includes(d.route.key),
        ),
      ),
    };
    assert.equal(JSON.stringify(routeTable(designRoutes, design)), compact(designRouteTable));
  });

  it("adds each further registered team API to ROUTE_TABLE after the design's routes", () => {
    const reg: Registry = {
      ...registry,
      namespaces: { ...registry.namespaces, team: { tier: "team", podSecurity: "restricted" } },
      services: {
        ...registry.services,
        "team-api": {
          namespace: "team",
          team: "team",
          component: "api",
          serviceAccount: "team-sa",
          configMap: "team-config",
          route: { key: "team", timeoutMs: 12_000 },
        },
      },
    };
    const table = routeTable({ ...routes, team: { timeoutMs: 12_000 } }, reg);
    assert.deepEqual(Object.keys(table), [
      ...routedServices(registry).map(([, d]) => d.route.key),
      "team",
    ]);
    assert.deepEqual(table.team, {
      url: "http://team-api.team.svc.cluster.local",
      timeout_ms: 12_000,
    });
  });

  it("keeps the A/B split's order and weights from config", () => {
    const split = routeTable({
      ...routes,
      finetune: {
        timeoutMs: 1000,
        variants: [
          { name: "b", weight: 10 },
          { name: "a", weight: 90 },
        ],
      },
    }).finetune;
    assert.deepEqual(Object.entries(split.ab_variants!), [
      ["b", { weight: 10 }],
      ["a", { weight: 90 }],
    ]);
    assert.equal(split.timeout_ms, 1000);
  });

  it("lists the model endpoints the gateway may call under their own key, with scale-to-zero", () => {
    // Every variant the gateway may call (all but client-only ones such as LoRA), in registry order.
    const gatewayVariants = Object.keys(registry.models).filter((v) =>
      modelCallers(v).includes("gateway"),
    );
    assert.ok(gatewayVariants.includes("baseline"));
    assert.ok(!gatewayVariants.includes("lora"), "LoRA is reached through finetune-api only");
    const autoscaling = { requestsWaitingPerReplica: 4, kvCacheUsage: 0.8, idleMinutes: 30 };
    const cases = [
      { scale: { replicas: 0 }, serving: false, scaleToZero: false },
      { scale: { replicas: 2 }, serving: true, scaleToZero: false },
      {
        scale: { autoscaling: { ...autoscaling, minReplicas: 0, maxReplicas: 2 } },
        serving: true,
        scaleToZero: true,
      },
      {
        scale: { autoscaling: { ...autoscaling, minReplicas: 1, maxReplicas: 2 } },
        serving: true,
        scaleToZero: false,
      },
    ];
    for (const { scale, serving, scaleToZero } of cases) {
      const models = scaledAlike(devModels(), scale);
      assert.deepEqual(
        modelRoutes(models),
        gatewayVariants.map((variant) => ({
          variant,
          model: models.variants[variant]!.servedModelName,
          upstream: `http://vllm-${variant}.llm-baseline.svc.cluster.local`,
          serving,
          scaleToZero,
        })),
        JSON.stringify(scale),
      );
    }
  });

  it("hashes config independently of key order, and differently when a value changes", () => {
    assert.equal(configHash({ A: "1", B: "2" }), configHash({ B: "2", A: "1" }));
    assert.notEqual(configHash({ A: "1" }), configHash({ A: "2" }));
    assert.match(configHash({}), /^[0-9a-f]{64}$/);
  });

  it("renders the gateway HPA of the design", () => {
    const spec = hpaSpec("gateway", {
      minReplicas: 3,
      maxReplicas: 10,
      cpuUtilization: 70,
      memoryUtilization: 80,
      scaleDown: { stabilizationSeconds: 300, percent: 10, periodSeconds: 60 },
      scaleUp: { stabilizationSeconds: 60, percent: 100, periodSeconds: 15 },
    });
    assert.deepEqual(spec, {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gateway" },
      minReplicas: 3,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 60,
          policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
        },
      },
    });
  });
});

for (const stack of stacks) {
  describe(`services (${stack})`, () => {
    const prefix = `llmplatform-${stack}`;
    // Read in a hook, not when mocha loads the file: a broken stack file fails these tests by name.
    let config!: ReturnType<typeof stackConfig>;
    let services!: Record<string, any>;
    let tag!: string;
    before(() => {
      config = stackConfig(stack);
      services = config.services;
      tag = services.gateway.imageTag;
    });

    it("runs the gateway as the design specifies", async () => {
      const run = await runStack(stack);
      const dep = run.get(D, "gateway").inputs;
      assert.equal(dep.metadata.name, "gateway");
      assert.deepEqual(
        dep.metadata.annotations,
        { "pulumi.com/skipAwait": "true" },
        "deploys never wait on app images",
      );
      assert.equal(dep.metadata.namespace, "platform");
      assert.deepEqual(dep.metadata.labels, {
        app: "gateway",
        component: "gateway",
        team: "platform",
        "app.kubernetes.io/name": "gateway",
        "app.kubernetes.io/part-of": "llm-optimization-platform",
        "app.kubernetes.io/managed-by": "pulumi",
        environment: stack,
      });
      assert.equal(
        dep.spec.replicas,
        services.gateway.hpa ? undefined : services.gateway.replicas,
        "an HPA, when configured, owns the replica count",
      );
      assert.deepEqual(dep.spec.strategy, {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
      });
      assert.deepEqual(dep.spec.selector, { matchLabels: { app: "gateway" } });
      const pod = dep.spec.template.spec;
      const c = pod.containers[0];
      assert.equal(
        c.image,
        `${testAccountId}.dkr.ecr.${stackConfig(stack).region}.amazonaws.com/${prefix}/gateway:${tag}`,
      );
      assert.deepEqual(c.ports, [{ name: "http", containerPort: 8000, protocol: "TCP" }]);
      assert.deepEqual(c.startupProbe, {
        httpGet: { path: "/startup", port: "http" },
        initialDelaySeconds: 5,
        periodSeconds: 5,
        failureThreshold: 30,
        timeoutSeconds: 3,
      });
      assert.deepEqual(c.livenessProbe, {
        httpGet: { path: "/health", port: "http" },
        periodSeconds: 15,
        failureThreshold: 3,
        timeoutSeconds: 5,
      });
      assert.deepEqual(c.readinessProbe, {
        httpGet: { path: "/ready", port: "http" },
        periodSeconds: 5,
        failureThreshold: 3,
        timeoutSeconds: 3,
      });
      assert.deepEqual(c.resources, {
        requests: { cpu: "200m", memory: "256Mi" },
        limits: { cpu: "1", memory: "1Gi" },
      });
      assert.deepEqual(c.envFrom, [{ configMapRef: { name: "gateway-config" } }]);
      assert.equal(pod.serviceAccountName, "gateway-sa");
      assert.equal(pod.terminationGracePeriodSeconds, 30);
      assert.deepEqual(pod.nodeSelector, { workload: "cpu" });
    });

    it("gives quant-api its longer startup budget for model loading", async () => {
      const run = await runStack(stack);
      const c = run.get(D, "quant-api").inputs.spec.template.spec.containers[0];
      assert.deepEqual(c.startupProbe, {
        httpGet: { path: "/startup", port: "http" },
        initialDelaySeconds: 10,
        periodSeconds: 5,
        failureThreshold: 36,
        timeoutSeconds: 3,
      });
      assert.deepEqual(c.resources, {
        requests: { cpu: "500m", memory: "1Gi" },
        limits: { cpu: "2", memory: "4Gi" },
      });
    });

    it("runs every service non-root, read-only, without privileges, with a writable /tmp", async () => {
      const run = await runStack(stack);
      for (const dep of platformOnly(run.ofType(D))) {
        const pod = dep.inputs.spec.template.spec;
        assert.deepEqual(
          pod.securityContext,
          {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          dep.name,
        );
        assert.equal(pod.automountServiceAccountToken, false);
        const c = pod.containers[0];
        assert.deepEqual(c.securityContext, {
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        // The gateway also mounts its key material (gatewayKeyFiles), read-only, whole directories.
        const keys =
          dep.name === "gateway"
            ? [
                { name: "api-keys", secret: "api-key", path: gatewayKeyFiles.apiKeys.mountPath },
                { name: "jwt", secret: "jwt-secret", path: gatewayKeyFiles.jwt.mountPath },
              ]
            : [];
        assert.deepEqual(c.volumeMounts, [
          { name: "tmp", mountPath: "/tmp" },
          ...keys.map((k) => ({ name: k.name, mountPath: k.path, readOnly: true })),
        ]);
        assert.deepEqual(pod.volumes, [
          { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          ...keys.map((k) => ({
            name: k.name,
            secret: { secretName: k.secret, defaultMode: 0o440 },
          })),
        ]);
        assert.deepEqual(c.lifecycle, { preStop: { sleep: { seconds: 5 } } });
      }
    });

    it("spreads pods over nodes and zones, and annotates them for Prometheus and config rollouts", async () => {
      const run = await runStack(stack);
      for (const dep of platformOnly(run.ofType(D))) {
        const app = dep.inputs.metadata.name;
        const pod = dep.inputs.spec.template;
        assert.deepEqual(
          pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution,
          [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchLabels: { app } },
              },
            },
          ],
        );
        assert.deepEqual(pod.spec.topologySpreadConstraints, [
          {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: { app } },
          },
        ]);
        const cm = run
          .ofType("kubernetes:core/v1:ConfigMap")
          .find((x) => x.inputs.metadata.namespace === dep.inputs.metadata.namespace)!;
        assert.deepEqual(pod.metadata.annotations, {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": "8000",
          "prometheus.io/path": "/metrics",
          "llmplatform.io/config-hash": configHash(cm.inputs.data),
        });
        assert.equal(pod.metadata.labels.environment, stack);
      }
    });

    it("exposes each service as ClusterIP 80 -> http", async () => {
      const run = await runStack(stack);
      const svcs = platformOnly(run.ofType("kubernetes:core/v1:Service"));
      // One per registered service, in its own namespace.
      assert.deepEqual(
        svcs.map((s) => `${s.inputs.metadata.namespace}/${s.inputs.metadata.name}`).sort(),
        Object.entries(registry.services)
          .map(([name, d]) => `${d.namespace}/${name}`)
          .sort(),
      );
      for (const s of svcs) {
        assert.deepEqual(s.inputs.spec, {
          type: "ClusterIP",
          selector: { app: s.inputs.metadata.name },
          ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
        });
      }
    });

    it("annotates each service account with its own IRSA role", async () => {
      const run = await runStack(stack);
      const accounts = Object.entries(registry.services).map(
        ([svc, d]) => [svc, d.namespace, d.serviceAccount] as const,
      );
      assert.deepEqual(accounts[0], ["gateway", "platform", "gateway-sa"]);
      for (const [svc, ns, sa] of accounts) {
        const acct = run
          .ofType("kubernetes:core/v1:ServiceAccount")
          .find((x) => x.inputs.metadata.name === sa)!;
        assert.equal(acct.inputs.metadata.namespace, ns);
        assert.deepEqual(acct.inputs.metadata.annotations, {
          "eks.amazonaws.com/role-arn": `arn:aws:iam::${testAccountId}:role/${prefix}-${svc}-irsa`,
        });
        const role = run
          .ofType("aws:iam/role:Role")
          .find((r) => r.inputs.name === `${prefix}-${svc}-irsa`)!;
        const cond = JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals;
        assert.equal(
          cond[`${mockOidcIssuer(stackConfig(stack).region)}:sub`],
          `system:serviceaccount:${ns}:${sa}`,
        );
        assert.ok(
          run.get(D, svc).dependsOn.includes(`llmplatform:aws:IrsaRole::${prefix}-${svc}`),
          `${svc} waits for its role`,
        );
      }
    });

    it("grants each service only its own AWS access", async () => {
      const run = await runStack(stack);
      const policiesOf = (svc: string) =>
        run
          .ofType("aws:iam/rolePolicy:RolePolicy")
          .filter((p) => p.inputs.role === `${prefix}-${svc}-irsa`)
          .map((p) => [p.inputs.name, JSON.parse(p.inputs.policy).Statement]);
      assert.deepEqual(policiesOf("gateway"), []);
      assert.deepEqual(policiesOf("quant-api"), [
        [
          "sagemaker-invoke",
          [
            {
              Sid: "InvokeConfiguredEndpoint",
              Effect: "Allow",
              Action: ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
              Resource: `arn:aws:sagemaker:${stackConfig(stack).region}:${testAccountId}:endpoint/${prefix}-quant-awq`,
            },
          ],
        ],
      ]);
      const adapters = `arn:aws:s3:::${prefix}-adapters-20261123`;
      assert.deepEqual(policiesOf("finetune-api"), [
        [
          "adapters-readwrite",
          [
            { Sid: "ListBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: adapters },
            {
              Sid: "ReadWriteObjects",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: `${adapters}/*`,
            },
          ],
        ],
      ]);
      const results = `arn:aws:s3:::${prefix}-results-20261123`;
      assert.deepEqual(policiesOf("eval-api"), [
        [
          "results-readwrite",
          [
            { Sid: "ListBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: results },
            {
              Sid: "ReadWriteObjects",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: `${results}/*`,
            },
          ],
        ],
      ]);
      // Any other service: no bucket and no extension of its own, no AWS access at all.
      for (const [svc, d] of Object.entries(registry.services)) {
        if (!d.bucket && !d.extension) assert.deepEqual(policiesOf(svc), [], svc);
      }
    });

    it("configures the gateway with the team URLs, OTEL export and the route table", async () => {
      const run = await runStack(stack);
      const cm = run.get("kubernetes:core/v1:ConfigMap", "gateway-config").inputs;
      assert.equal(cm.metadata.name, "gateway-config");
      const { ROUTE_TABLE, MODEL_ROUTES, ...rest } = cm.data;
      assert.deepEqual(rest, {
        LOG_LEVEL: config.services.logLevel,
        AWS_REGION: config.region,
        PORT: "8000",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.observability.svc.cluster.local:4317",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_SERVICE_NAME: "gateway",
        OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${stack},service.namespace=platform`,
        // Where its API keys and JWT signing key are mounted (files, never values).
        API_KEYS_DIR: "/var/run/secrets/llm-platform/api-keys",
        JWT_SIGNING_KEY_FILE: "/var/run/secrets/llm-platform/jwt/signing-key",
        // <KEY>_SERVICE_URL for every team API it routes to.
        ...Object.fromEntries(
          routedServices(registry).map(([api, d]) => [
            `${d.route.key.toUpperCase().replace(/-/g, "_")}_SERVICE_URL`,
            urlOf(api),
          ]),
        ),
      });
      assert.equal(cm.data.QUANT_SERVICE_URL, "http://quant-api.quant.svc.cluster.local");
      assert.equal(cm.data.FINETUNE_SERVICE_URL, "http://finetune-api.finetune.svc.cluster.local");
      assert.equal(cm.data.EVAL_SERVICE_URL, "http://eval-api.eval.svc.cluster.local");
      // The design's wire format, byte for byte (JSON.stringify writes no optional whitespace),
      // followed by any team API the registry adds.
      assert.equal(ROUTE_TABLE, expectedRouteTable(config.services.gateway.routes));
      const models = parseConfig(cloneStackConfig(stack), stack).models;
      assert.deepEqual(JSON.parse(MODEL_ROUTES), modelRoutes(models));
    });

    it("configures the team APIs (SageMaker endpoint, adapter and results buckets)", async () => {
      const run = await runStack(stack);
      const data = (name: string) => run.get("kubernetes:core/v1:ConfigMap", name).inputs.data;
      assert.equal(
        data("quant-api-config").SAGEMAKER_ENDPOINT_NAME,
        services["quant-api"].sagemaker.endpointName,
      );
      assert.equal(data("quant-api-config").SAGEMAKER_TIMEOUT_MS, "30000");
      assert.equal(data("quant-api-config").ENABLE_FALLBACK, "true");
      assert.equal(data("finetune-api-config").ADAPTER_BUCKET, `${prefix}-adapters-20261123`);
      assert.equal(data("finetune-api-config").LORA_VARIANTS, "lora-v1,lora-v2");
      assert.equal(data("eval-api-config").RESULTS_BUCKET, `${prefix}-results-20261123`);
      for (const [svc, , , cmName] of apis) {
        assert.equal(
          run.get("kubernetes:core/v1:ConfigMap", `${svc}-config`).inputs.metadata.name,
          cmName,
        );
        assert.equal(data(`${svc}-config`).OTEL_SERVICE_NAME, svc);
      }
    });

    it("creates one ECR repository per service: scanned, KMS-encrypted, tags immutable as configured", async () => {
      const run = await runStack(stack);
      const repos = run.ofType("aws:ecr/repository:Repository");
      assert.deepEqual(
        repos.map((r) => r.inputs.name).sort(),
        Object.keys(registry.services)
          .map((s) => `${prefix}/${s}`)
          .sort(),
      );
      for (const r of repos) {
        assert.equal(
          r.inputs.imageTagMutability,
          config.services.immutableImageTags ? "IMMUTABLE" : "MUTABLE",
        );
        assert.deepEqual(r.inputs.imageScanningConfiguration, { scanOnPush: true });
        assert.deepEqual(r.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
      }
      const lifecycle = JSON.parse(
        run.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy")[0]!.inputs.policy,
      );
      assert.deepEqual(lifecycle.rules[0].selection, {
        tagStatus: "untagged",
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 14,
      });
    });

    it("keeps the adapter and results buckets private, encrypted, versioned and TLS-only", async () => {
      const run = await runStack(stack);
      for (const b of ["adapters", "results"]) {
        const name = `${prefix}-${b}`;
        assert.equal(run.get("aws:s3/bucket:Bucket", name).inputs.bucketPrefix, `${name}-`);
        const pab = run.get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name).inputs;
        assert.deepEqual(
          [
            pab.blockPublicAcls,
            pab.blockPublicPolicy,
            pab.ignorePublicAcls,
            pab.restrictPublicBuckets,
          ],
          [true, true, true, true],
        );
        assert.deepEqual(
          run.get(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            name,
          ).inputs.rules,
          [
            {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" },
              bucketKeyEnabled: true,
            },
          ],
        );
        assert.deepEqual(
          run.get("aws:s3/bucketVersioning:BucketVersioning", name).inputs.versioningConfiguration,
          { status: "Enabled" },
        );
        assert.deepEqual(
          run.get("aws:s3/bucketOwnershipControls:BucketOwnershipControls", name).inputs.rule,
          { objectOwnership: "BucketOwnerEnforced" },
        );
        const policy = JSON.parse(run.get("aws:s3/bucketPolicy:BucketPolicy", name).inputs.policy);
        assert.deepEqual(policy.Statement[0].Condition, {
          Bool: { "aws:SecureTransport": "false" },
        });
        assert.equal(policy.Statement[0].Effect, "Deny");
        assert.deepEqual(run.get("aws:s3/bucketPolicy:BucketPolicy", name).dependsOn, [
          `aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::${name}`,
          `aws:s3/bucketOwnershipControls:BucketOwnershipControls::${name}`,
        ]);
      }
    });

    it("allows only the design's flows: ALB -> gateway, gateway -> team APIs, team APIs -> AWS over HTTPS", async () => {
      const run = await runStack(stack);
      const vpc = config.network.cidr;
      const alb = run.get(NP, "gateway-allow-alb-to-gateway-8000").inputs;
      assert.equal(alb.metadata.namespace, "platform");
      assert.deepEqual(alb.spec, {
        podSelector: { matchLabels: { app: "gateway" } },
        policyTypes: ["Ingress"],
        // The load balancer's ENIs sit in the public subnets; pods (private subnets) are not admitted.
        ingress: [
          {
            from: mockSubnetLayout(run.ofType("awsx:ec2:Vpc")[0]!.inputs as any).public.map(
              (cidr) => ({ ipBlock: { cidr } }),
            ),
            ports: [{ protocol: "TCP", port: 8000 }],
          },
        ],
      });
      const egress = run.get(NP, "gateway-allow-gateway-to-team-apis-8000").inputs.spec;
      assert.deepEqual(
        egress.egress[0].to.map((p: any) => [
          p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
          p.podSelector.matchLabels.app,
        ]),
        apis.map(([api, ns]) => [ns, api]),
      );
      for (const [svc, ns] of apis) {
        const ingress = run.get(NP, `${svc}-allow-gateway-to-${svc}-8000`).inputs;
        assert.equal(ingress.metadata.namespace, ns);
        assert.deepEqual(ingress.spec.ingress, [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "platform" } },
                podSelector: { matchLabels: { app: "gateway" } },
              },
            ],
            ports: [{ protocol: "TCP", port: 8000 }],
          },
        ]);
        assert.deepEqual(run.get(NP, `${svc}-allow-https-to-aws-apis`).inputs.spec.egress, [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpc] } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
        ]);
      }
      assert.equal(
        run.resources.filter((r) => r.name === "gateway-allow-https-to-aws-apis").length,
        0,
        "the gateway calls no AWS API",
      );
    });

    it("gives each service an HPA exactly when configured and a PDB exactly when configured, else its fixed replicas", async () => {
      const run = await runStack(stack);
      const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
      const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
      const deployments = platformOnly(run.ofType(D));
      assert.deepEqual(
        deployments.map((d) => d.name).sort(),
        Object.keys(services)
          .filter((k) => typeof services[k] === "object")
          .sort(),
      );
      const byName = (type: string, name: string) =>
        platformOnly(run.ofType(type)).find((r) => r.inputs.metadata.name === name);
      for (const dep of deployments) {
        const svc = services[dep.name];
        const hpa = byName(HPA, dep.name);
        if (svc.hpa) {
          assert.deepEqual(hpa!.inputs.spec, hpaSpec(dep.name as any, svc.hpa), dep.name);
          assert.equal(dep.inputs.spec.replicas, undefined, `${dep.name}: the HPA owns replicas`);
        } else {
          assert.equal(hpa, undefined, dep.name);
          assert.equal(dep.inputs.spec.replicas, svc.replicas, dep.name);
        }
        const pdb = byName(PDB, dep.name);
        if (svc.pdb) {
          assert.equal(pdb!.inputs.spec.minAvailable, svc.pdb.minAvailable, dep.name);
          assert.deepEqual(pdb!.inputs.spec.selector.matchLabels, { app: dep.name });
        } else {
          assert.equal(pdb, undefined, dep.name);
        }
      }
    });
  });
}
