/**
 * Schema of the edge config: hosts, TLS, DNS, ALB access logs and WAF.
 */
import { z } from "zod";
import { cidr, retention } from "./primitives";

/** A fully qualified DNS name: labels of letters, digits and '-', at least one dot, max 253 chars. */
const dnsName = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "expected a lower-case DNS name such as api.llmplatform.dev",
  );

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
    /** AWS WAFv2 web ACL to attach to the load balancer. */
    wafAclArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[\w-]+\/[0-9a-f-]{36}$/,
        "expected a regional WAFv2 web ACL ARN",
      )
      .optional(),
    /** Refuse to delete the load balancer while on. */
    deletionProtection: z.boolean().default(false),
  })
  .superRefine((e, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [path], message });
    const tls = e.hostedZone !== undefined || e.certificateArn !== undefined;
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
