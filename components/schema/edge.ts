/**
 * Schema of the edge config: hosts, TLS, DNS, ALB access logs and WAF.
 */
import { z } from "zod";
import { cidr, retention } from "./primitives";

/** A fully qualified DNS name: labels of letters, digits and '-', at least one dot, max 253 chars. */
export const dnsName = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "expected a lower-case DNS name such as api.llmplatform.dev",
  );

export const edgeSchema = z
  .strictObject({
    /** Public host of the gateway (design: api.llmplatform.dev). */
    gatewayHost: dnsName,
    /** Public host of Grafana (design: grafana.llmplatform.dev). */
    grafanaHost: dnsName,
    /** Route 53 public hosted zone (by name). When set, the program issues and DNS-validates the ACM
     * certificate and creates alias records for both hosts. */
    hostedZone: dnsName.optional(),
    /** An existing ACM certificate covering both hosts; required when hostedZone is not set. */
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
        "expected an ACM certificate ARN",
      )
      .optional(),
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
    if (!e.hostedZone && !e.certificateArn) {
      ctx.addIssue({
        code: "custom",
        path: ["certificateArn"],
        message:
          "required unless hostedZone is set (the program then issues and validates the certificate itself)",
      });
    }
    if (e.gatewayHost === e.grafanaHost) {
      ctx.addIssue({
        code: "custom",
        path: ["grafanaHost"],
        message: "expected a host different from gatewayHost",
      });
    }
    for (const key of ["gatewayHost", "grafanaHost"] as const) {
      if (e.hostedZone && !e[key].endsWith(`.${e.hostedZone}`)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `expected a name inside the hosted zone ${e.hostedZone}`,
        });
      }
    }
  });

export type EdgeConfig = z.output<typeof edgeSchema>;
