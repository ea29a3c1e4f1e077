/**
 * The shapes of registry entries: what a namespace, a team API or a model variant declares, and the
 * registry itself. The entries are in ./registry.ts; a test may build a registry of its own from these.
 */
import { z } from "zod";
import type { PolicyDocument } from "./policyDocument";

/** Pod Security Standards level (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface NamespaceDesign {
  /** `tier` label: platform, team, observability, models, or addons (cluster-wide charts). */
  readonly tier: "platform" | "team" | "observability" | "models" | "addons";
  /** `team` label, where the design names an owning team. */
  readonly team?: string;
  /** Enforced Pod Security level; audit and warn are always `restricted`, so every exception is visible. */
  readonly podSecurity: PodSecurityLevel;
  /** Why the namespace cannot enforce `restricted` (required when it does not). */
  readonly exception?: string;
  /** Pods here sit behind the ALB: the controller injects its readiness gate into them. */
  readonly behindLoadBalancer?: boolean;
}

/** Where the AWS APIs a service may call are: partition, region and account of the stack. */
export interface AwsScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** A service's own config keys (beyond the common ones), the env and AWS access that follow from them. */
export interface ServiceExtension {
  /** Zod shape of the extra keys under `llm-platform:services.<service>`. */
  readonly shape: z.ZodRawShape;
  /** Env (ConfigMap) entries from the service's validated config. */
  env(config: Readonly<Record<string, unknown>>): Record<string, string>;
  /** Inline IAM policies of its IRSA role, by policy name. */
  readonly awsPolicies: Readonly<
    Record<string, (config: Readonly<Record<string, unknown>>, aws: AwsScope) => PolicyDocument>
  >;
}

/**
 * A service extension with typed config: `env` and `awsPolicies` receive the extra keys parsed by
 * `shape` (with their defaults), so they never see an unvalidated value.
 */
export function serviceExtension<S extends z.ZodRawShape>(
  shape: S,
  parts: {
    env: (config: z.output<z.ZodObject<S>>) => Record<string, string>;
    awsPolicies?: Record<
      string,
      (config: z.output<z.ZodObject<S>>, aws: AwsScope) => PolicyDocument
    >;
  },
): ServiceExtension {
  const parse = (config: Readonly<Record<string, unknown>>) => z.object(shape).parse(config);
  return {
    shape,
    env: (config) => parts.env(parse(config)),
    awsPolicies: Object.fromEntries(
      Object.entries(parts.awsPolicies ?? {}).map(([name, policy]) => [
        name,
        (config: Readonly<Record<string, unknown>>, aws: AwsScope) => policy(parse(config), aws),
      ]),
    ),
  };
}

export interface ServiceDesign {
  readonly namespace: string;
  readonly team: string;
  /** `component` label. */
  readonly component: string;
  readonly serviceAccount: string;
  readonly configMap: string;
  /**
   * A team API the gateway routes to: its ROUTE_TABLE key (also `<KEY>_SERVICE_URL` in the gateway's
   * env) and the default timeout of `services.gateway.routes.<key>`. `loraVariants` makes the route
   * split traffic between LoRA variants (`ab_variants`; default split given here) and gives the API
   * their names as `LORA_VARIANTS`.
   */
  readonly route?: {
    readonly key: string;
    readonly timeoutMs: number;
    readonly loraVariants?: readonly { readonly name: string; readonly weight: number }[];
  };
  /** A private bucket `<prefix>-<name>` the service reads and writes, passed to it as env `envVar`. */
  readonly bucket?: { readonly name: string; readonly envVar: string };
  /** Config keys of its own, with the env and AWS access that follow from them. */
  readonly extension?: ServiceExtension;
}

/** One model endpoint of the design. */
export interface ModelDesign {
  readonly team: string;
  /** The service that calls it. */
  readonly client: string;
  /**
   * Model family: variants of one family are optimisations of one base model (compared like for
   * like), so they must share it. The judge is a different model on purpose.
   */
  readonly family: "subject" | "judge";
  /**
   * Only `client` may reach it (not the gateway): the LoRA server exposes vLLM's runtime adapter
   * admin endpoints (`/v1/load_lora_adapter`, `/v1/unload_lora_adapter`), which a NetworkPolicy
   * cannot filter by path.
   */
  readonly clientOnly?: boolean;
  /** It serves LoRA adapters: its config must have a `lora` block. */
  readonly servesAdapters?: boolean;
  /**
   * What it serves, the same in every environment: defaults of `llm-platform:models.variants.<v>`, so
   * stack files hold only what differs (replicas or autoscaling, resources, the LoRA adapters each
   * environment serves). A stack may override any key. Validated with the stack's config.
   */
  readonly serves?: VariantDefaults;
}

/** Registry defaults of a variant's config (config/models.ts checks them like any stack value). */
export interface VariantDefaults {
  readonly model?: string;
  /** Pinned Hub revision of `model`: a commit hash or a release tag. */
  readonly revision?: string;
  /** Where the weights come from: the platform's model store (default) or, as a fallback, the Hub. */
  readonly weightsFrom?: "store" | "hub";
  readonly baseModel?: string;
  readonly servedModelName?: string;
  readonly gated?: boolean;
  readonly quantization?: "awq" | "gptq" | "fp8";
  readonly maxModelLen?: number;
  /** GPU memory the model needs (see config/models.ts `footprint`). */
  readonly footprint?: { readonly weightsGiB: number; readonly kvCacheKiBPerToken: number };
}

/** The registry's shape: what a test may extend. */
export interface Registry {
  readonly namespaces: Readonly<Record<string, NamespaceDesign>>;
  readonly services: Readonly<Record<string, ServiceDesign>>;
  readonly models: Readonly<Record<string, ModelDesign>>;
}
