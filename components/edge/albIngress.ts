/**
 * Pure parts of the public edge (./edge.ts): the AWS Load Balancer Controller annotations of
 * its Ingresses, health checks, URLs, and the ALB access-log bucket statement.
 */
import type { PolicyStatement } from "../platform/policyDocument";
import type { EdgeConfig } from "../config/edge";

/**
 * The TLS policy of the HTTPS listener: TLS 1.3, and TLS 1.2 restricted ("Res") to ECDHE key exchange
 * with AES-GCM, so every negotiated suite is forward-secret. `ELBSecurityPolicy-TLS13-1-2-2021-06`
 * (the usual choice) still offers TLS 1.2 suites with RSA key exchange and CBC modes, which are not.
 * The cost: TLS 1.2 clients without ECDHE + GCM (pre-2013 stacks) cannot connect.
 */
const sslPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

/** Plain-HTTP listener ports when there is no TLS: one ALB, one listener per backend, root paths. */
export const httpPorts = { gateway: 80, grafana: 3000 } as const;

/** Health check of one target group, as the controller's annotations express it. */
export interface HealthCheck {
  readonly path: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** The design's health check (gateway and Grafana alike, on their own paths). */
export const healthCheck = (path: string): HealthCheck => ({
  path,
  intervalSeconds: 15,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
});

/** The listener(s) an Ingress uses: HTTPS on 443 (optionally HTTP 80 redirected), or plain HTTP. */
export type Listener =
  | { readonly https: { readonly certificateArn: string; readonly redirectHttp: boolean } }
  | { readonly httpPort: number };

export interface AlbAnnotationParams {
  /** Ingress group: every member shares one ALB. */
  readonly group: string;
  readonly order: number;
  readonly listener: Listener;
  readonly health: HealthCheck;
  readonly edge: EdgeConfig;
  /** Access-log bucket when access logs are on. */
  readonly accessLogBucket?: string;
  /** The web ACL attached to the ALB (the program's or the config's own), if any. */
  readonly wafAclArn?: string;
  /** The clients this Ingress's listener admits. Default `edge.inboundCidrs`. */
  readonly inboundCidrs?: readonly string[];
  readonly tags: Record<string, string>;
}

/**
 * AWS Load Balancer Controller annotations of an Ingress. Group-wide settings (scheme, TLS policy,
 * attributes, CIDRs, WAF, tags) are identical on every member, as the controller requires.
 */
export function albAnnotations(p: AlbAnnotationParams): Record<string, string> {
  const prefix = "alb.ingress.kubernetes.io";
  const attributes = [
    "routing.http.drop_invalid_header_fields.enabled=true",
    `deletion_protection.enabled=${p.edge.deletionProtection}`,
    ...(p.accessLogBucket
      ? [
          "access_logs.s3.enabled=true",
          `access_logs.s3.bucket=${p.accessLogBucket}`,
          "access_logs.s3.prefix=alb",
        ]
      : []),
  ];
  const l = p.listener;
  const listener =
    "https" in l
      ? {
          [`${prefix}/listen-ports`]: JSON.stringify(
            l.https.redirectHttp ? [{ HTTP: 80 }, { HTTPS: 443 }] : [{ HTTPS: 443 }],
          ),
          ...(l.https.redirectHttp ? { [`${prefix}/ssl-redirect`]: "443" } : {}),
          [`${prefix}/certificate-arn`]: l.https.certificateArn,
          [`${prefix}/ssl-policy`]: sslPolicy,
        }
      : { [`${prefix}/listen-ports`]: JSON.stringify([{ HTTP: l.httpPort }]) };
  return {
    [`${prefix}/group.name`]: p.group,
    [`${prefix}/group.order`]: String(p.order),
    [`${prefix}/scheme`]: "internet-facing",
    [`${prefix}/target-type`]: "ip",
    ...listener,
    [`${prefix}/inbound-cidrs`]: (p.inboundCidrs ?? p.edge.inboundCidrs).join(","),
    [`${prefix}/load-balancer-attributes`]: attributes.join(","),
    [`${prefix}/healthcheck-path`]: p.health.path,
    [`${prefix}/healthcheck-interval-seconds`]: String(p.health.intervalSeconds),
    [`${prefix}/healthcheck-timeout-seconds`]: String(p.health.timeoutSeconds),
    [`${prefix}/healthy-threshold-count`]: String(p.health.healthyThreshold),
    [`${prefix}/unhealthy-threshold-count`]: String(p.health.unhealthyThreshold),
    [`${prefix}/success-codes`]: "200",
    ...(p.wafAclArn ? { [`${prefix}/wafv2-acl-arn`]: p.wafAclArn } : {}),
    [`${prefix}/tags`]: Object.entries(p.tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
  };
}

/**
 * The gateway's JWT verification at the ALB (`edge.gateway.jwtValidation`): a jwt-validation action
 * before the forward on its HTTPS rules. None when not configured.
 */
export function gatewayAuthAnnotations(
  jwt: EdgeConfig["gateway"]["jwtValidation"],
): Record<string, string> {
  if (!jwt) return {};
  return {
    "alb.ingress.kubernetes.io/jwt-validation": JSON.stringify({
      jwksEndpoint: jwt.jwksEndpoint,
      issuer: jwt.issuer,
      ...(jwt.claims.length > 0
        ? {
            additionalClaims: jwt.claims.map((c) => ({
              name: c.name,
              format: c.format,
              values: [...c.values],
            })),
          }
        : {}),
    }),
  };
}

/** The Secret (in Grafana's namespace) the controller reads the OIDC client from. */
export const grafanaOidcSecret = "grafana-oidc";

/**
 * Grafana's login at the ALB (`edge.grafana.auth`): an authenticate action (OIDC or Cognito) before
 * the forward on its HTTPS rules; a request without a session is sent to the provider's login.
 */
export function grafanaAuthAnnotations(
  auth: EdgeConfig["grafana"]["auth"],
): Record<string, string> {
  if (!auth) return {};
  const prefix = "alb.ingress.kubernetes.io";
  const a = "oidc" in auth ? auth.oidc : auth.cognito;
  const idp: Record<string, string> =
    "oidc" in auth
      ? {
          [`${prefix}/auth-type`]: "oidc",
          [`${prefix}/auth-idp-oidc`]: JSON.stringify({
            issuer: auth.oidc.issuer,
            authorizationEndpoint: auth.oidc.authorizationEndpoint,
            tokenEndpoint: auth.oidc.tokenEndpoint,
            userInfoEndpoint: auth.oidc.userInfoEndpoint,
            secretName: grafanaOidcSecret,
          }),
        }
      : {
          [`${prefix}/auth-type`]: "cognito",
          [`${prefix}/auth-idp-cognito`]: JSON.stringify({
            userPoolARN: auth.cognito.userPoolArn,
            userPoolClientID: auth.cognito.userPoolClientId,
            userPoolDomain: auth.cognito.userPoolDomain,
          }),
        };
  return {
    ...idp,
    [`${prefix}/auth-scope`]: a.scope,
    [`${prefix}/auth-session-timeout`]: String(a.sessionTimeoutSeconds),
    [`${prefix}/auth-on-unauthenticated-request`]: "authenticate",
  };
}

/** Lets the regional Elastic Load Balancing account write ALB access logs under `alb/`. */
export function albLogDeliveryStatement(
  bucketArn: string,
  elbAccountArn: string,
  accountId: string,
): PolicyStatement {
  return {
    Sid: "AlbAccessLogDelivery",
    Effect: "Allow",
    Principal: { AWS: elbAccountArn },
    Action: "s3:PutObject",
    Resource: `${bucketArn}/alb/AWSLogs/${accountId}/*`,
  };
}

/** The public URL of a host on the ALB. */
export function publicUrl(host: string): string {
  return `https://${host}`;
}

/** The URL of a plain-HTTP listener on the ALB's own DNS name (port 80 needs no suffix). */
export function albUrl(albHostname: string, port: number): string {
  return port === 80 ? `http://${albHostname}` : `http://${albHostname}:${port}`;
}
