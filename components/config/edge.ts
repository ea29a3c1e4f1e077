/**
 * Schema of the edge config: hosts, TLS, DNS, ALB access logs, the web ACL (WAF and rate limit) and
 * who may call the gateway and Grafana (authentication at the load balancer, allow-lists).
 */
import { z } from "zod";
import { cidr, parseCidr, retention } from "./primitives";

/** A fully qualified DNS name: labels of letters, digits and '-', at least one dot, max 253 chars. */
const dnsName = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "expected a lower-case DNS name such as api.llmplatform.dev",
  );

/** An https:// URL (the load balancer calls identity providers over TLS only). */
const httpsUrl = z
  .string()
  .max(256)
  .regex(/^https:\/\/[^\s/$.?#][^\s]*$/, "expected an https:// URL (at most 256 characters)");

/**
 * ALB JWT verification of the gateway's callers (`alb.ingress.kubernetes.io/jwt-validation`, AWS Load
 * Balancer Controller 2.15+): the ALB checks each request's bearer token (RS256) against the issuer's
 * JWKS, its `exp` and `iss`, and these claims, and answers 401 itself otherwise.
 */
const jwtValidationSchema = z.strictObject({
  /** The `iss` claim tokens must carry, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>. */
  issuer: z.string().min(1).max(256),
  /** Where the issuer publishes its signing keys (JWKS), e.g. <issuer>/.well-known/jwks.json. */
  jwksEndpoint: httpsUrl,
  /** Further claims every token must carry (at most 10, each with 1-10 accepted values). */
  claims: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        /** How the claim is written: one string, an array of strings, or space-separated values. */
        format: z.enum(["single-string", "string-array", "space-separated-values"]),
        values: z.array(z.string().min(1)).min(1).max(10),
      }),
    )
    .max(10)
    .default([]),
});

/** Seconds the ALB's authentication session lasts (its cookie). Default 8 hours. */
const sessionTimeoutSeconds = z.number().int().min(60).max(604_800).default(28_800);

/**
 * OpenID Connect login in front of Grafana, run by the ALB (authorization code flow). The client
 * secret is `llm-platform:grafanaOidcClientSecret` (secret config), kept in Secrets Manager.
 */
const oidcSchema = z.strictObject({
  issuer: httpsUrl,
  authorizationEndpoint: httpsUrl,
  tokenEndpoint: httpsUrl,
  userInfoEndpoint: httpsUrl,
  /** The app client registered at the provider (callback https://<grafanaHost>/oauth2/idpresponse). */
  clientId: z.string().min(1),
  /** Scopes asked for, space-separated. Default `openid`. */
  scope: z.string().min(1).default("openid"),
  sessionTimeoutSeconds,
});

/** Amazon Cognito login in front of Grafana, run by the ALB (an existing user pool and app client). */
const cognitoSchema = z.strictObject({
  userPoolArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9A-Za-z]+$/,
      "expected a Cognito user pool ARN",
    ),
  /** The app client (with a secret; callback https://<grafanaHost>/oauth2/idpresponse). */
  userPoolClientId: z.string().min(1),
  /** The user pool's domain: the prefix of a Cognito domain, or a custom domain. */
  userPoolDomain: z.string().min(1),
  /** Scopes asked for, space-separated. Default `openid`. */
  scope: z.string().min(1).default("openid"),
  sessionTimeoutSeconds,
});

/** The CRS rule that blocks bodies over 8 KB: chat prompts are routinely larger (see edge/waf.ts). */
export const oversizeBodyRule = "SizeRestrictions_BODY";

/** The program's own web ACL (AWS WAF) on the load balancer. */
const wafSchema = z
  .strictObject({
    /** Create the stack's web ACL and attach it. Default true; false with `wafAclArn` to bring your own. */
    enabled: z.boolean().default(true),
    /** Requests one client IP may send per window before the ALB answers 403 for the rest of it. */
    rateLimit: z
      .strictObject({
        /** Requests per window and IP (AWS minimum 10). Default 2000. */
        requests: z.number().int().min(10).max(2_000_000_000).default(2000),
        /** The window AWS evaluates the rate over. Default 300 s. */
        windowSeconds: z
          .union([z.literal(60), z.literal(120), z.literal(300), z.literal(600)])
          .default(300),
      })
      .prefault({}),
    /**
     * Rules of AWS's common rule set that only count (are logged) instead of blocking: the escape hatch
     * for false positives on prompts. Default `SizeRestrictions_BODY` (bodies over 8 KB: prompts).
     */
    countOnlyRules: z
      .array(z.string().regex(/^\w+$/, "expected a managed rule name such as GenericLFI_BODY"))
      .default([oversizeBodyRule]),
    /** Days the web ACL's log (blocked and counted requests) is kept in CloudWatch Logs. Default 30. */
    logRetentionDays: retention.default(30),
  })
  .prefault({});

/** The two public hosts, by the key their settings sit under. */
export const edgeHosts = ["gateway", "grafana"] as const;
export type EdgeHost = (typeof edgeHosts)[number];

export const edgeSchema = z
  .strictObject({
    /** Public host of the gateway (design: api.llmplatform.dev); required with TLS. */
    gatewayHost: dnsName.optional(),
    /** Public host of Grafana (design: grafana.llmplatform.dev); required with TLS. */
    grafanaHost: dnsName.optional(),
    /** Route 53 public hosted zone (by name). When set, the program issues and DNS-validates the ACM
     * certificate and creates alias records for both hosts. */
    hostedZone: dnsName.optional(),
    /** An existing ACM certificate covering both hosts (when the zone is not in Route 53 here). */
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
        "expected an ACM certificate ARN",
      )
      .optional(),
    /** With neither hostedZone nor certificateArn: serve plain HTTP on the load balancer's own DNS
     * name (no domain needed, e.g. dev in a fresh account). Never implied: it must be set. */
    allowHttpWithoutTls: z.boolean().default(false),
    /** CIDRs allowed to reach the load balancer. */
    inboundCidrs: z.array(cidr).min(1).default(["0.0.0.0/0"]),
    /** ALB access logs to an encrypted S3 bucket, kept this many days. Off when omitted. */
    accessLogs: z.strictObject({ retentionDays: retention }).optional(),
    /** The stack's own web ACL: AWS managed rules, a rate limit per client IP, logging. */
    waf: wafSchema,
    /** Your own regional WAFv2 web ACL to attach instead (with `waf.enabled: false`). */
    wafAclArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[\w-]+\/[0-9a-f-]{36}$/,
        "expected a regional WAFv2 web ACL ARN",
      )
      .optional(),
    /** Refuse to delete the load balancer while on. */
    deletionProtection: z.boolean().default(false),
    /** Who may call the gateway: the ALB verifies JWTs (HTTPS only). The gateway checks its API keys. */
    gateway: z.strictObject({ jwtValidation: jwtValidationSchema.optional() }).prefault({}),
    /** Who may reach Grafana: a login at the ALB (HTTPS only), and/or only these client networks. */
    grafana: z
      .strictObject({
        auth: z
          .union([z.strictObject({ oidc: oidcSchema }), z.strictObject({ cognito: cognitoSchema })])
          .optional(),
        allowedCidrs: z.array(cidr).min(1).optional(),
      })
      .prefault({}),
    /**
     * The explicit override: hosts that stay anonymous at the load balancer while it admits the whole
     * internet (a /0 in inboundCidrs). Without it such a config is refused.
     */
    allowAnonymousFromAnywhere: z.array(z.enum(edgeHosts)).default([]),
  })
  .superRefine((e, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: "custom", path: path.split("."), message });
    const tls = e.hostedZone !== undefined || e.certificateArn !== undefined;
    edgeAccessProblems(e, tls).forEach((p) => issue(p.path, p.message));
    if (!tls) {
      if (!e.allowHttpWithoutTls) {
        issue(
          "certificateArn",
          "required unless hostedZone is set (the program then issues and validates the certificate " +
            "itself); or set allowHttpWithoutTls: true to serve plain HTTP on the load balancer's " +
            "DNS name, without a domain",
        );
      }
      for (const key of ["gatewayHost", "grafanaHost"] as const) {
        if (e.allowHttpWithoutTls && e[key] !== undefined) {
          issue(
            key,
            "expected no host without TLS: plain HTTP is served on the load balancer's DNS name",
          );
        }
      }
      return;
    }
    if (e.allowHttpWithoutTls) {
      issue(
        "allowHttpWithoutTls",
        "expected false: TLS is configured (hostedZone or certificateArn)",
      );
    }
    for (const key of ["gatewayHost", "grafanaHost"] as const) {
      const host = e[key];
      if (host === undefined) {
        issue(key, "required with TLS (hostedZone or certificateArn): the public host name");
      } else if (e.hostedZone && !host.endsWith(`.${e.hostedZone}`)) {
        issue(key, `expected a name inside the hosted zone ${e.hostedZone}`);
      }
    }
    if (e.gatewayHost !== undefined && e.gatewayHost === e.grafanaHost) {
      issue("grafanaHost", "expected a host different from gatewayHost");
    }
  });

export type EdgeConfig = z.output<typeof edgeSchema>;

/**
 * The narrowest prefix an allow-list may hold and still be an allow-list: a network broader than a /8
 * (16.7 million addresses) is no organisation's, so it counts as the internet at large, and splitting
 * 0.0.0.0/0 into halves or quarters does not get past the check.
 */
const broadestAllowListPrefix = 8;

/** Whether a CIDR list admits the internet at large (any network broader than a /8). */
export function admitsTheInternet(cidrs: readonly string[]): boolean {
  return cidrs.some((c) => (parseCidr(c)?.prefix ?? 32) < broadestAllowListPrefix);
}

/** Whether nothing at the load balancer checks who calls a host (no authentication, no allow-list). */
export function anonymousAtEdge(
  e: Pick<EdgeConfig, "gateway" | "grafana">,
  host: EdgeHost,
): boolean {
  if (host === "gateway") return e.gateway.jwtValidation === undefined;
  const allowList = e.grafana.allowedCidrs;
  return e.grafana.auth === undefined && (!allowList || admitsTheInternet(allowList));
}

type EdgeShape = Omit<EdgeConfig, "waf"> & { waf: { enabled: boolean } };

/**
 * Problems with who may reach the public hosts, as `path: message`: the program's WAF and your own
 * web ACL together; authentication or a WAF allow-list that needs HTTPS or the WAF; and, the rule this
 * exists for, a host left anonymous to the whole internet without naming it in
 * `allowAnonymousFromAnywhere`.
 */
export function edgeAccessProblems(
  e: EdgeShape,
  tls: boolean,
): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (e.waf.enabled && e.wafAclArn !== undefined) {
    out.push({
      path: "wafAclArn",
      message:
        "expected either the program's web ACL (waf.enabled) or your own: set waf.enabled: false " +
        "to attach this one",
    });
  }
  if (!tls) {
    if (e.gateway.jwtValidation !== undefined)
      out.push({
        path: "gateway.jwtValidation",
        message:
          "needs HTTPS (hostedZone or certificateArn): the load balancer verifies JWTs on HTTPS " +
          "listeners only",
      });
    if (e.grafana.auth !== undefined)
      out.push({
        path: "grafana.auth",
        message:
          "needs HTTPS (hostedZone or certificateArn): the load balancer authenticates on HTTPS " +
          "listeners only",
      });
  } else if (e.grafana.allowedCidrs !== undefined && !e.waf.enabled) {
    out.push({
      path: "grafana.allowedCidrs",
      message:
        "needs the program's web ACL (waf.enabled: true): with HTTPS, Grafana shares the listener " +
        "with the gateway, so its allow-list is a WAF rule",
    });
  }
  const open = admitsTheInternet(e.inboundCidrs);
  const allowed = new Set(e.allowAnonymousFromAnywhere);
  for (const host of edgeHosts) {
    const exposed = open && anonymousAtEdge(e, host);
    if (exposed && !allowed.has(host)) {
      const [key, how] =
        host === "gateway"
          ? ["gateway.jwtValidation", "the load balancer verify callers' JWTs"]
          : ["grafana.auth", "an OIDC or Cognito login (or grafana.allowedCidrs) guard it"];
      out.push({
        path: key,
        message:
          `required: inboundCidrs admits the whole internet and nothing at the load balancer ` +
          `checks who calls ${host}. Let ${how}, narrow inboundCidrs, or accept it explicitly ` +
          `with allowAnonymousFromAnywhere: [${host}]`,
      });
    }
    if (allowed.has(host) && !exposed) {
      out.push({
        path: "allowAnonymousFromAnywhere",
        message: `expected only hosts anonymous to the whole internet; ${host} is not (drop it)`,
      });
    }
  }
  return out;
}

/** How the edge serves: HTTPS on two public hosts, or plain HTTP on the load balancer's DNS name. */
export type EdgeMode =
  | {
      readonly tls: true;
      readonly gatewayHost: string;
      readonly grafanaHost: string;
      readonly hostedZone?: string;
      readonly certificateArn?: string;
    }
  | { readonly tls: false };

/** The mode of a validated edge config (validation guarantees the hosts with TLS). */
export function edgeMode(e: EdgeConfig): EdgeMode {
  if (!e.hostedZone && !e.certificateArn) return { tls: false };
  return {
    tls: true,
    gatewayHost: e.gatewayHost!,
    grafanaHost: e.grafanaHost!,
    ...(e.hostedZone ? { hostedZone: e.hostedZone } : {}),
    ...(e.certificateArn ? { certificateArn: e.certificateArn } : {}),
  };
}
