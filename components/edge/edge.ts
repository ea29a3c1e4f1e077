import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  albAnnotations,
  albLogDeliveryStatement,
  albUrl,
  healthCheck,
  httpPorts,
  publicUrl,
  type HealthCheck,
} from "./albIngress";
import { PrivateBucket } from "../lib/aws/privateBucket";
import { partOf } from "../platform/registry";
import type { PlatformContext } from "../platform/context";
import { edgeMode, type EdgeConfig, type EdgeMode } from "../config/edge";
import { renamedFrom } from "../platform/typeTokens";
import type { SecretStore } from "../lib/k8s/syncedSecret";
import { edgeWebAcl, gatewayAccess, grafanaAccess, type IngressAccess } from "./edgeAccess";

/** A backend Service an Ingress routes to. */
export interface Backend {
  readonly namespace: pulumi.Input<string>;
  readonly service: string;
  readonly port: number;
  /** The Service is created later (by a release that needs this edge's URL): create the Ingress
   * without Pulumi's wait for its endpoints. Default false. */
  readonly serviceCreatedLater?: boolean;
}

type TlsMode = Extract<EdgeMode, { tls: true }>;
type Zone = pulumi.Output<aws.route53.GetZoneResult>;

/**
 * The listener certificate: the configured ARN, or (with a hosted zone) a new ACM certificate for both
 * hosts, validated through DNS records in the zone.
 */
function certificate(name: string, parent: pulumi.Resource, mode: TlsMode, zone?: Zone) {
  if (mode.certificateArn) return pulumi.output(mode.certificateArn);
  if (!zone) throw new Error(`${name}: TLS needs a certificateArn or a hostedZone`);
  const a = { parent };
  const cert = new aws.acm.Certificate(
    `${name}-cert`,
    {
      domainName: mode.gatewayHost,
      subjectAlternativeNames: [mode.grafanaHost],
      validationMethod: "DNS",
    },
    a,
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
  return new aws.acm.CertificateValidation(
    `${name}-cert`,
    { certificateArn: cert.arn, validationRecordFqdns: records.map((r) => r.fqdn) },
    a,
  ).certificateArn;
}

/** The ALB access-log bucket (SSE-S3, written by the region's ELB account under `alb/`). */
function accessLogBucket(
  ctx: PlatformContext,
  parent: pulumi.Resource,
  logs: NonNullable<EdgeConfig["accessLogs"]>,
) {
  const a = { parent };
  const elbAccount = aws.elb.getServiceAccountOutput({}, a).arn;
  return new PrivateBucket(
    `${ctx.namePrefix}-alb-logs`,
    {
      forceDestroy: ctx.destroyDeletesData,
      encryption: "AES256", // ALB log delivery supports SSE-S3 only
      expirationDays: logs.retentionDays,
      statements: (bucketArn) =>
        pulumi
          .all([bucketArn, elbAccount, ctx.accountId])
          .apply(([arn, elb, account]) => [albLogDeliveryStatement(arn, elb, account)]),
    },
    a,
  ).bucketName;
}

/** What every Ingress of the ALB's group shares. */
interface IngressGroup {
  readonly name: string;
  readonly edge: EdgeConfig;
  readonly tags: Record<string, string>;
  readonly certificateArn?: pulumi.Output<string>;
  readonly accessLogBucket?: pulumi.Output<string>;
  /** The web ACL attached to the ALB: the program's, or the config's own. */
  readonly wafAclArn?: pulumi.Output<string>;
  /** The load balancer controller release: destroy removes Ingresses (so the ALB) before it. */
  readonly controller: pulumi.Resource;
}

/** One Ingress of the group: HTTPS on a host, or a plain-HTTP listener on its own port. */
function albIngress(
  parent: pulumi.Resource,
  g: IngressGroup,
  ingressName: string,
  backend: Backend,
  order: number,
  health: HealthCheck,
  route: { host: string; redirectHttp: boolean } | { httpPort: number },
  access: IngressAccess,
) {
  const annotations = pulumi
    .all([g.certificateArn, g.accessLogBucket, g.wafAclArn])
    .apply(([cert, logs, waf]) => ({
      ...albAnnotations({
        group: g.name,
        order,
        listener:
          "host" in route
            ? { https: { certificateArn: cert!, redirectHttp: route.redirectHttp } }
            : { httpPort: route.httpPort },
        health,
        edge: g.edge,
        ...(logs ? { accessLogBucket: logs } : {}),
        ...(waf ? { wafAclArn: waf } : {}),
        ...(access.inboundCidrs ? { inboundCidrs: access.inboundCidrs } : {}),
        tags: g.tags,
      }),
      ...access.annotations,
      ...(backend.serviceCreatedLater ? { "pulumi.com/skipAwait": "true" } : {}),
    }));
  const path = {
    path: "/",
    pathType: "Prefix",
    backend: { service: { name: backend.service, port: { number: backend.port } } },
  };
  return new k8s.networking.v1.Ingress(
    ingressName,
    {
      metadata: {
        name: ingressName,
        namespace: backend.namespace,
        labels: { "app.kubernetes.io/part-of": partOf },
        annotations,
      },
      spec: {
        ingressClassName: "alb",
        ...("host" in route ? { tls: [{ hosts: [route.host] }] } : {}),
        rules: [{ ...("host" in route ? { host: route.host } : {}), http: { paths: [path] } }],
      },
    },
    { parent, dependsOn: [g.controller, ...access.dependsOn] },
  );
}

/** Route 53 alias records of the hosts to the ALB. */
function aliasRecords(
  name: string,
  parent: pulumi.Resource,
  zone: Zone,
  hosts: string[],
  albHostname: pulumi.Output<string>,
) {
  const albZoneId = aws.lb.getHostedZoneIdOutput(
    { loadBalancerType: "application" },
    { parent },
  ).id;
  hosts.forEach(
    (host, i) =>
      new aws.route53.Record(
        `${name}-alias-${i + 1}`,
        {
          zoneId: zone.zoneId,
          name: host,
          type: "A",
          aliases: [{ name: albHostname, zoneId: albZoneId, evaluateTargetHealth: true }],
        },
        { parent },
      ),
  );
}

/** Logged when the edge serves plain HTTP. */
const plainHttpWarning =
  "edge: no hostedZone or certificateArn, so the gateway and Grafana are served over plain " +
  "HTTP on the load balancer's DNS name (allowHttpWithoutTls). Fine for a throwaway dev " +
  "stack; set edge.hostedZone or edge.certificateArn for anything else.";

/**
 * The public URLs, and the DNS records to create by hand: CNAMEs to the ALB when TLS comes from a
 * certificate without a Route 53 zone (with a zone the alias records exist; without TLS there are no
 * hosts).
 */
function edgeUrls(mode: EdgeMode, albHostname: pulumi.Output<string>, managedZone: boolean) {
  if (!mode.tls)
    return {
      gatewayUrl: albHostname.apply((h) => albUrl(h, httpPorts.gateway)),
      grafanaUrl: albHostname.apply((h) => albUrl(h, httpPorts.grafana)),
      dnsRecords: pulumi.output([] as { name: string; type: string; value: string }[]),
    };
  const hosts = [mode.gatewayHost, mode.grafanaHost];
  return {
    gatewayUrl: pulumi.output(publicUrl(mode.gatewayHost)),
    grafanaUrl: pulumi.output(publicUrl(mode.grafanaHost)),
    dnsRecords: managedZone
      ? pulumi.output([] as { name: string; type: string; value: string }[])
      : albHostname.apply((alb) => hosts.map((h) => ({ name: h, type: "CNAME", value: alb }))),
  };
}

export interface EdgeArgs {
  /** Name prefix (ingress group, log bucket) and account (log delivery policy). */
  readonly ctx: PlatformContext;
  readonly edge: EdgeConfig;
  readonly tags: Record<string, string>;
  readonly gateway: Backend;
  readonly grafana: Backend;
  /** The load balancer controller release: every Ingress depends on it. */
  readonly controller: pulumi.Resource;
  /** Where Grafana's OIDC client is kept (Secrets Manager, synced by ESO). */
  readonly secrets: SecretStore;
  /** Grafana's OIDC client secret (secret config), with `edge.grafana.auth.oidc`. */
  readonly grafanaOidcClientSecret?: pulumi.Output<string>;
}

/**
 * The public edge: one internet-facing ALB (an ingress group) for `platform-ingress` (the gateway) and
 * `grafana-ingress`, optional access logs and WAF. With TLS (a Route 53 zone or an ACM certificate):
 * two hosts on HTTPS 443, HTTP redirected, and with a zone the certificate's DNS validation and alias
 * records. Without TLS (only when config allows it): plain HTTP on the ALB's own DNS name, the gateway
 * on port 80 and Grafana on its own listener, so neither needs a host name or a sub-path. Providers
 * (aws, kubernetes) come through `opts.providers`.
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
    // Fire-and-forget: the engine flushes pending log messages before the program exits.
    if (!mode.tls) void pulumi.log.warn(plainHttpWarning, this);
    const zone =
      mode.tls && mode.hostedZone
        ? aws.route53.getZoneOutput({ name: mode.hostedZone, privateZone: false }, { parent: this })
        : undefined;
    const certificateArn = mode.tls ? certificate(name, this, mode, zone) : undefined;
    const logs = e.accessLogs ? accessLogBucket(args.ctx, this, e.accessLogs) : undefined;
    const access = {
      namePrefix: args.ctx.namePrefix,
      edge: e,
      mode,
      secrets: args.secrets,
      grafanaNamespace: args.grafana.namespace,
      ...(args.grafanaOidcClientSecret
        ? { grafanaOidcClientSecret: args.grafanaOidcClientSecret }
        : {}),
    };
    const wafAclArn = edgeWebAcl(name, this, access);
    const group: IngressGroup = {
      name: args.ctx.namePrefix,
      edge: e,
      tags: args.tags,
      controller: args.controller,
      ...(certificateArn ? { certificateArn } : {}),
      ...(logs ? { accessLogBucket: logs } : {}),
      ...(wafAclArn ? { wafAclArn } : {}),
    };
    const gateway = albIngress(
      this,
      group,
      "platform-ingress",
      args.gateway,
      10,
      healthCheck("/health"),
      mode.tls ? { host: mode.gatewayHost, redirectHttp: true } : { httpPort: httpPorts.gateway },
      gatewayAccess(e),
    );
    albIngress(
      this,
      group,
      "grafana-ingress",
      args.grafana,
      20,
      healthCheck("/api/health"),
      mode.tls ? { host: mode.grafanaHost, redirectHttp: false } : { httpPort: httpPorts.grafana },
      grafanaAccess(name, this, access),
    );

    // The group's one ALB, read from the gateway's Ingress (Pulumi waits for its address).
    this.albHostname = gateway.status.loadBalancer.ingress.apply((i) => {
      const hostname = i?.[0]?.hostname;
      if (!hostname)
        throw new Error("platform-ingress has no load balancer hostname in its status");
      return hostname;
    });
    if (zone && mode.tls)
      aliasRecords(name, this, zone, [mode.gatewayHost, mode.grafanaHost], this.albHostname);
    const urls = edgeUrls(mode, this.albHostname, zone !== undefined);
    this.gatewayUrl = urls.gatewayUrl;
    this.grafanaUrl = urls.grafanaUrl;
    this.dnsRecords = urls.dnsRecords;
    this.registerOutputs({ albHostname: this.albHostname, dnsRecords: this.dnsRecords });
  }
}
