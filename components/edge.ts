import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket } from "./aws/bucket";
import type { PolicyStatement } from "./aws/iam";
import { partOf } from "./catalog";
import { edgeMode, type EdgeConfig } from "./schema/edge";
import { renamedFrom } from "./typeTokens";

/**
 * The TLS policy of the HTTPS listener: TLS 1.3, and TLS 1.2 restricted ("Res") to ECDHE key exchange
 * with AES-GCM, so every negotiated suite is forward-secret. `ELBSecurityPolicy-TLS13-1-2-2021-06`
 * (the usual choice) still offers TLS 1.2 suites with RSA key exchange and CBC modes, which are not.
 * The cost: TLS 1.2 clients without ECDHE + GCM (pre-2013 stacks) cannot connect.
 */
const sslPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

/** Plain-HTTP listener ports when there is no TLS: one ALB, one listener per backend, root paths. */
const httpPorts = { gateway: 80, grafana: 3000 } as const;

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
    [`${prefix}/inbound-cidrs`]: p.edge.inboundCidrs.join(","),
    [`${prefix}/load-balancer-attributes`]: attributes.join(","),
    [`${prefix}/healthcheck-path`]: p.health.path,
    [`${prefix}/healthcheck-interval-seconds`]: String(p.health.intervalSeconds),
    [`${prefix}/healthcheck-timeout-seconds`]: String(p.health.timeoutSeconds),
    [`${prefix}/healthy-threshold-count`]: String(p.health.healthyThreshold),
    [`${prefix}/unhealthy-threshold-count`]: String(p.health.unhealthyThreshold),
    [`${prefix}/success-codes`]: "200",
    ...(p.edge.wafAclArn ? { [`${prefix}/wafv2-acl-arn`]: p.edge.wafAclArn } : {}),
    [`${prefix}/tags`]: Object.entries(p.tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
  };
}

/** Lets the regional Elastic Load Balancing account write ALB access logs under `alb/`. */
function albLogDeliveryStatement(
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

/** A backend Service an Ingress routes to. */
export interface Backend {
  readonly namespace: pulumi.Input<string>;
  readonly service: string;
  readonly port: number;
  /** The Service is created later (by a release that needs this edge's URL): create the Ingress
   * without Pulumi's wait for its endpoints. Default false. */
  readonly serviceCreatedLater?: boolean;
}

/** The public URL of a host on the ALB. */
function publicUrl(host: string): string {
  return `https://${host}`;
}

/** The URL of a plain-HTTP listener on the ALB's own DNS name (port 80 needs no suffix). */
export function albUrl(albHostname: string, port: number): string {
  return port === 80 ? `http://${albHostname}` : `http://${albHostname}:${port}`;
}

export interface EdgeArgs {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly edge: EdgeConfig;
  readonly tags: Record<string, string>;
  readonly gateway: Backend;
  readonly grafana: Backend;
  /** The load balancer controller release: every Ingress depends on it. */
  readonly controller: pulumi.Resource;
  readonly provider: k8s.Provider;
}

/**
 * The public edge: one internet-facing ALB (an ingress group) for `platform-ingress` (the gateway) and
 * `grafana-ingress`, optional access logs and WAF. With TLS (a Route 53 zone or an ACM certificate):
 * two hosts on HTTPS 443, HTTP redirected, and with a zone the certificate's DNS validation and alias
 * records. Without TLS (only when config allows it): plain HTTP on the ALB's own DNS name, the gateway
 * on port 80 and Grafana on its own listener, so neither needs a host name or a sub-path.
 */
export class Edge extends pulumi.ComponentResource {
  readonly albHostname: pulumi.Output<string>;
  readonly gatewayUrl: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  /** DNS records to create by hand (empty when Route 53 manages the zone, or without TLS). */
  readonly dnsRecords: pulumi.Output<{ name: string; type: string; value: string }[]>;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:edge:Edge", name, {}, renamedFrom("llmplatform:Edge", opts));
    const e = args.edge;
    const mode = edgeMode(e);
    const a = { parent: this };
    if (!mode.tls) {
      // Fire-and-forget: the engine flushes pending log messages before the program exits.
      void pulumi.log.warn(
        "edge: no hostedZone or certificateArn, so the gateway and Grafana are served over plain " +
          "HTTP on the load balancer's DNS name (allowHttpWithoutTls). Fine for a throwaway dev " +
          "stack; set edge.hostedZone or edge.certificateArn for anything else.",
        this,
      );
    }
    const zone =
      mode.tls && mode.hostedZone
        ? aws.route53.getZoneOutput({ name: mode.hostedZone, privateZone: false }, a)
        : undefined;

    let certificateArn: pulumi.Output<string> | undefined;
    if (mode.tls && mode.certificateArn) {
      certificateArn = pulumi.output(mode.certificateArn);
    } else if (mode.tls && zone) {
      const cert = new aws.acm.Certificate(
        `${name}-cert`,
        {
          domainName: mode.gatewayHost,
          subjectAlternativeNames: [mode.grafanaHost],
          validationMethod: "DNS",
        },
        { parent: this },
      );
      const records = [mode.gatewayHost, mode.grafanaHost].map((host, i) => {
        const dvo = cert.domainValidationOptions.apply((opts) => {
          const o = opts.find((d) => d.domainName === host);
          if (!o) throw new Error(`ACM returned no DNS validation for ${host}`);
          return o;
        });
        return new aws.route53.Record(
          `${name}-cert-validation-${i + 1}`,
          {
            zoneId: zone.zoneId,
            name: dvo.resourceRecordName,
            type: dvo.resourceRecordType,
            records: [dvo.resourceRecordValue],
            ttl: 300,
            allowOverwrite: true,
          },
          a,
        );
      });
      certificateArn = new aws.acm.CertificateValidation(
        `${name}-cert`,
        { certificateArn: cert.arn, validationRecordFqdns: records.map((r) => r.fqdn) },
        a,
      ).certificateArn;
    }

    let accessLogBucket: pulumi.Output<string> | undefined;
    if (e.accessLogs) {
      const elbAccount = aws.elb.getServiceAccountOutput({}, a).arn;
      const bucket = new PrivateBucket(
        `${args.namePrefix}-alb-logs`,
        {
          encryption: "AES256", // ALB log delivery supports SSE-S3 only
          expirationDays: e.accessLogs.retentionDays,
          statements: (bucketArn) =>
            pulumi
              .all([bucketArn, elbAccount, args.accountId])
              .apply(([arn, elb, account]) => [albLogDeliveryStatement(arn, elb, account)]),
        },
        a,
      );
      accessLogBucket = bucket.bucketName;
    }

    const k = { parent: this, provider: args.provider };
    const ingress = (
      ingressName: string,
      backend: Backend,
      order: number,
      health: HealthCheck,
      route: { host: string; redirectHttp: boolean } | { httpPort: number },
    ) =>
      new k8s.networking.v1.Ingress(
        ingressName,
        {
          metadata: {
            name: ingressName,
            namespace: backend.namespace,
            labels: { "app.kubernetes.io/part-of": partOf },
            annotations: pulumi.all([certificateArn, accessLogBucket]).apply(([cert, logs]) => ({
              ...albAnnotations({
                group: args.namePrefix,
                order,
                listener:
                  "host" in route
                    ? { https: { certificateArn: cert!, redirectHttp: route.redirectHttp } }
                    : { httpPort: route.httpPort },
                health,
                edge: e,
                ...(logs ? { accessLogBucket: logs } : {}),
                tags: args.tags,
              }),
              ...(backend.serviceCreatedLater ? { "pulumi.com/skipAwait": "true" } : {}),
            })),
          },
          spec: {
            ingressClassName: "alb",
            ...("host" in route ? { tls: [{ hosts: [route.host] }] } : {}),
            rules: [
              {
                ...("host" in route ? { host: route.host } : {}),
                http: {
                  paths: [
                    {
                      path: "/",
                      pathType: "Prefix",
                      backend: {
                        service: { name: backend.service, port: { number: backend.port } },
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
        // Destroy removes Ingresses (so the ALB) before the controller.
        { ...k, dependsOn: [args.controller] },
      );
    const gateway = ingress(
      "platform-ingress",
      args.gateway,
      10,
      healthCheck("/health"),
      mode.tls ? { host: mode.gatewayHost, redirectHttp: true } : { httpPort: httpPorts.gateway },
    );
    ingress(
      "grafana-ingress",
      args.grafana,
      20,
      healthCheck("/api/health"),
      mode.tls ? { host: mode.grafanaHost, redirectHttp: false } : { httpPort: httpPorts.grafana },
    );

    // The group's one ALB, read from the gateway's Ingress (Pulumi waits for its address).
    this.albHostname = gateway.status.loadBalancer.ingress.apply((i) => {
      const hostname = i?.[0]?.hostname;
      if (!hostname)
        throw new Error("platform-ingress has no load balancer hostname in its status");
      return hostname;
    });
    if (!mode.tls) {
      this.gatewayUrl = this.albHostname.apply((h) => albUrl(h, httpPorts.gateway));
      this.grafanaUrl = this.albHostname.apply((h) => albUrl(h, httpPorts.grafana));
      this.dnsRecords = pulumi.output([]);
      this.registerOutputs({ albHostname: this.albHostname, dnsRecords: this.dnsRecords });
      return;
    }
    const hosts = [mode.gatewayHost, mode.grafanaHost];
    if (zone) {
      const albZoneId = aws.lb.getHostedZoneIdOutput({ loadBalancerType: "application" }, a).id;
      hosts.forEach(
        (host, i) =>
          new aws.route53.Record(
            `${name}-alias-${i + 1}`,
            {
              zoneId: zone.zoneId,
              name: host,
              type: "A",
              aliases: [{ name: this.albHostname, zoneId: albZoneId, evaluateTargetHealth: true }],
            },
            a,
          ),
      );
      this.dnsRecords = pulumi.output([]);
    } else {
      this.dnsRecords = this.albHostname.apply((alb) =>
        hosts.map((host) => ({ name: host, type: "CNAME", value: alb })),
      );
    }
    this.gatewayUrl = pulumi.output(publicUrl(mode.gatewayHost));
    this.grafanaUrl = pulumi.output(publicUrl(mode.grafanaHost));
    this.registerOutputs({ albHostname: this.albHostname, dnsRecords: this.dnsRecords });
  }
}
