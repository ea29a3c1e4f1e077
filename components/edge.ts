import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket } from "./aws/bucket";
import type { PolicyStatement } from "./aws/iam";
import { partOf } from "./catalog";
import type { EdgeConfig } from "./schema/edge";

/** The TLS policy of the HTTPS listener: TLS 1.3 with 1.2 fallback, forward-secret ciphers only. */
export const sslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";

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

export interface AlbAnnotationParams {
  /** Ingress group: every member shares one ALB. */
  readonly group: string;
  readonly order: number;
  readonly certificateArn: string;
  /** Listen on HTTP 80 (redirected to HTTPS) as well as 443. */
  readonly httpRedirect: boolean;
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
  return {
    [`${prefix}/group.name`]: p.group,
    [`${prefix}/group.order`]: String(p.order),
    [`${prefix}/scheme`]: "internet-facing",
    [`${prefix}/target-type`]: "ip",
    [`${prefix}/listen-ports`]: JSON.stringify(
      p.httpRedirect ? [{ HTTP: 80 }, { HTTPS: 443 }] : [{ HTTPS: 443 }],
    ),
    ...(p.httpRedirect ? { [`${prefix}/ssl-redirect`]: "443" } : {}),
    [`${prefix}/certificate-arn`]: p.certificateArn,
    [`${prefix}/ssl-policy`]: sslPolicy,
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

/** A backend Service an Ingress routes to. */
export interface Backend {
  readonly namespace: pulumi.Input<string>;
  readonly service: string;
  readonly port: number;
  /** What creates the Service (a Helm release), when the program does not create it directly. */
  readonly createdBy?: pulumi.Resource;
}

/** The public URL of a host on the ALB. */
export function publicUrl(host: string): string {
  return `https://${host}`;
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
 * The public edge: one internet-facing ALB (an ingress group) for `platform-ingress` (the gateway,
 * HTTP redirected to HTTPS) and `grafana-ingress` (HTTPS only), TLS from ACM, optional access logs and
 * WAF, and, with a Route 53 zone, the certificate's DNS validation and alias records for both hosts.
 */
export class Edge extends pulumi.ComponentResource {
  readonly albHostname: pulumi.Output<string>;
  readonly gatewayUrl: string;
  readonly grafanaUrl: string;
  /** DNS records to create by hand (empty when Route 53 manages the zone). */
  readonly dnsRecords: pulumi.Output<{ name: string; type: string; value: string }[]>;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:Edge", name, {}, opts);
    const e = args.edge;
    const a = { parent: this };
    const zone = e.hostedZone
      ? aws.route53.getZoneOutput({ name: e.hostedZone, privateZone: false }, a)
      : undefined;

    let certificateArn: pulumi.Output<string>;
    if (e.certificateArn) {
      certificateArn = pulumi.output(e.certificateArn);
    } else {
      // Config validation guarantees a zone here.
      const zoneId = zone!.zoneId;
      const cert = new aws.acm.Certificate(
        `${name}-cert`,
        {
          domainName: e.gatewayHost,
          subjectAlternativeNames: [e.grafanaHost],
          validationMethod: "DNS",
        },
        { parent: this },
      );
      const records = [e.gatewayHost, e.grafanaHost].map((host, i) => {
        const dvo = cert.domainValidationOptions.apply((opts) => {
          const o = opts.find((d) => d.domainName === host);
          if (!o) throw new Error(`ACM returned no DNS validation for ${host}`);
          return o;
        });
        return new aws.route53.Record(
          `${name}-cert-validation-${i + 1}`,
          {
            zoneId,
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
      host: string,
      backend: Backend,
      order: number,
      health: HealthCheck,
      httpRedirect: boolean,
    ) =>
      new k8s.networking.v1.Ingress(
        ingressName,
        {
          metadata: {
            name: ingressName,
            namespace: backend.namespace,
            labels: { "app.kubernetes.io/part-of": partOf },
            annotations: pulumi.all([certificateArn, accessLogBucket]).apply(([cert, logs]) =>
              albAnnotations({
                group: args.namePrefix,
                order,
                certificateArn: cert,
                httpRedirect,
                health,
                edge: e,
                ...(logs ? { accessLogBucket: logs } : {}),
                tags: args.tags,
              }),
            ),
          },
          spec: {
            ingressClassName: "alb",
            tls: [{ hosts: [host] }],
            rules: [
              {
                host,
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
        // Destroy removes Ingresses (so the ALB) before the controller; create waits for the backend's
        // Service, as Pulumi treats an Ingress as ready only once its backends' Endpoints exist.
        { ...k, dependsOn: [args.controller, ...(backend.createdBy ? [backend.createdBy] : [])] },
      );
    const gateway = ingress(
      "platform-ingress",
      e.gatewayHost,
      args.gateway,
      10,
      healthCheck("/health"),
      true,
    );
    ingress("grafana-ingress", e.grafanaHost, args.grafana, 20, healthCheck("/api/health"), false);

    this.albHostname = gateway.status.loadBalancer.ingress.apply((i) => {
      const hostname = i?.[0]?.hostname;
      if (!hostname)
        throw new Error("platform-ingress has no load balancer hostname in its status");
      return hostname;
    });
    if (zone) {
      const albZoneId = aws.lb.getHostedZoneIdOutput({ loadBalancerType: "application" }, a).id;
      [e.gatewayHost, e.grafanaHost].forEach(
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
        [e.gatewayHost, e.grafanaHost].map((name) => ({ name, type: "CNAME", value: alb })),
      );
    }
    this.gatewayUrl = publicUrl(e.gatewayHost);
    this.grafanaUrl = publicUrl(e.grafanaHost);
    this.registerOutputs({ albHostname: this.albHostname, dnsRecords: this.dnsRecords });
  }
}
