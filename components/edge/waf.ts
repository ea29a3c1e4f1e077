/**
 * The stack's web ACL (AWS WAF, regional) on the ALB, attached through the Ingresses' `wafv2-acl-arn`
 * annotation (the controller re-attaches it if the ALB is ever replaced):
 *
 * 0. a rate limit per client IP (`edge.waf.rateLimit`): requests over it get 403 until the window
 *    cools down. First, so what later rules block still counts towards it;
 * 1. with HTTPS and `edge.grafana.allowedCidrs`: from outside those networks, only the gateway's host
 *    (Grafana and the gateway share the HTTPS listener, so the ALB's own inbound CIDRs cannot tell them
 *    apart). Fail-closed: the rule names the host that stays open, not the one it guards, so a Host
 *    header WAF does not match exactly (`grafana.example.org:443`, a trailing dot) is blocked rather
 *    than let through to Grafana;
 * 2-4. AWS managed rule groups: IP reputation, known bad inputs, the common rule set.
 * 5. with HTTPS: bodies over 8 KB still blocked everywhere but the gateway's host.
 *
 * Why `SizeRestrictions_BODY` only counts: WAF inspects the first 8 KB of a body on an ALB and the
 * common rule set blocks anything longer, which is every long chat prompt. It counts (and is logged);
 * rule 5 blocks it again where no prompt is expected. What lies past the first 8 KB is not inspected
 * by any rule, which the gateway's own validation covers.
 *
 * Logging: blocked and counted requests only (allowed ones would double the ALB's access logs), into a
 * CloudWatch log group `aws-waf-logs-<prefix>` (the name WAF requires), with the credentials headers
 * redacted. docs/operations.md shows how to read them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { oversizeBodyRule, type EdgeConfig } from "../config/edge";

type WafConfig = EdgeConfig["waf"];
type Rule = aws.types.input.wafv2.WebAclRule;
type Statement = aws.types.input.wafv2.WebAclRuleStatement;

/** CloudWatch metrics and sampled requests for a rule (or the ACL), under its name. */
const visibility = (metricName: string) => ({
  cloudwatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

/** A request whose Host header is exactly `host`. */
function hostIs(host: string): Statement {
  return {
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { name: "host" } },
      positionalConstraint: "EXACTLY",
      searchString: host,
      textTransformations: [{ priority: 0, type: "LOWERCASE" }],
    },
  };
}

/** An AWS managed rule group, its rules' own actions, except `countOnly` ones that only count. */
function managedGroup(name: string, priority: number, countOnly: readonly string[] = []): Rule {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name,
        ...(countOnly.length > 0
          ? { ruleActionOverrides: countOnly.map((r) => ({ name: r, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: visibility(name),
  };
}

/** The label the common rule set puts on a body over 8 KB (seen by rules after it). */
export const oversizeBodyLabel = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body";

/** What the rules depend on beyond the WAF config: the hosts (with HTTPS) and Grafana's IP set. */
export interface WafRuleInputs {
  /** The gateway's public host, with HTTPS (plain HTTP has no host to tell the gateway by). */
  readonly gatewayHost?: string;
  /** The IP set of the networks allowed to reach Grafana (HTTPS + allowedCidrs). */
  readonly grafanaAllowList?: { readonly ipSetArn: string };
}

/** The web ACL's rules, in priority order (see the module comment). */
export function webAclRules(waf: WafConfig, p: WafRuleInputs): Rule[] {
  const rules: Rule[] = [
    {
      name: "rate-limit-per-client-ip",
      priority: 0,
      action: { block: {} },
      statement: {
        rateBasedStatement: {
          limit: waf.rateLimit.requests,
          evaluationWindowSec: waf.rateLimit.windowSeconds,
          aggregateKeyType: "IP",
        },
      },
      visibilityConfig: visibility("rate-limit-per-client-ip"),
    },
  ];
  if (p.grafanaAllowList) {
    if (!p.gatewayHost)
      throw new Error("waf: Grafana's allow-list needs the gateway's host (HTTPS)");
    rules.push({
      name: "allowed-networks-or-gateway-only",
      priority: 1,
      action: { block: {} },
      statement: {
        andStatement: {
          statements: [
            { notStatement: { statement: hostIs(p.gatewayHost) } },
            {
              notStatement: {
                statement: { ipSetReferenceStatement: { arn: p.grafanaAllowList.ipSetArn } },
              },
            },
          ],
        },
      },
      visibilityConfig: visibility("allowed-networks-or-gateway-only"),
    });
  }
  rules.push(
    managedGroup("AWSManagedRulesAmazonIpReputationList", 2),
    managedGroup("AWSManagedRulesKnownBadInputsRuleSet", 3),
    managedGroup("AWSManagedRulesCommonRuleSet", 4, waf.countOnlyRules),
  );
  if (p.gatewayHost && waf.countOnlyRules.includes(oversizeBodyRule)) {
    rules.push({
      name: "oversize-body-outside-gateway",
      priority: 5,
      action: { block: {} },
      statement: {
        andStatement: {
          statements: [
            { labelMatchStatement: { scope: "LABEL", key: oversizeBodyLabel } },
            { notStatement: { statement: hostIs(p.gatewayHost) } },
          ],
        },
      },
      visibilityConfig: visibility("oversize-body-outside-gateway"),
    });
  }
  return rules;
}

/** Log blocked and counted requests only; redact the headers that carry credentials. */
export const wafLogging = {
  loggingFilter: {
    defaultBehavior: "DROP",
    filters: [
      {
        behavior: "KEEP",
        requirement: "MEETS_ANY",
        conditions: [
          { actionCondition: { action: "BLOCK" } },
          { actionCondition: { action: "COUNT" } },
        ],
      },
    ],
  },
  redactedFields: ["authorization", "x-api-key", "cookie"].map((name) => ({
    singleHeader: { name },
  })),
};

export interface WebAclArgs {
  /** The stack's name prefix: the ACL `<prefix>-edge`, its log group `aws-waf-logs-<prefix>`. */
  readonly namePrefix: string;
  readonly waf: WafConfig;
  readonly gatewayHost?: string;
  /** The networks allowed to reach Grafana, with HTTPS. */
  readonly grafanaAllowList?: { readonly cidrs: readonly string[] };
}

/**
 * The stack's regional web ACL, its IP set (Grafana's allow-list, where configured) and its logging.
 * Returns the ACL's ARN for the Ingress annotation. Providers come from `parent`.
 */
export function createWebAcl(
  name: string,
  parent: pulumi.Resource,
  args: WebAclArgs,
): pulumi.Output<string> {
  const o = { parent };
  const allowList = args.grafanaAllowList
    ? new aws.wafv2.IpSet(
        `${name}-grafana-allowed`,
        {
          name: `${args.namePrefix}-grafana-allowed`,
          description: "Networks allowed to reach Grafana (edge.grafana.allowedCidrs)",
          scope: "REGIONAL",
          ipAddressVersion: "IPV4",
          addresses: [...args.grafanaAllowList.cidrs],
        },
        o,
      )
    : undefined;
  const rules = pulumi.output(allowList?.arn).apply((ipSetArn) =>
    webAclRules(args.waf, {
      ...(args.gatewayHost ? { gatewayHost: args.gatewayHost } : {}),
      ...(ipSetArn ? { grafanaAllowList: { ipSetArn } } : {}),
    }),
  );
  const acl = new aws.wafv2.WebAcl(
    `${name}-web-acl`,
    {
      name: `${args.namePrefix}-edge`,
      description: "The public edge: rate limit per client IP, AWS managed rules",
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rules,
      visibilityConfig: visibility(`${args.namePrefix}-edge`),
    },
    o,
  );
  const logs = new aws.cloudwatch.LogGroup(
    `${name}-waf-logs`,
    {
      // WAF only delivers to log groups named aws-waf-logs-*.
      name: `aws-waf-logs-${args.namePrefix}`,
      retentionInDays: args.waf.logRetentionDays,
    },
    o,
  );
  new aws.wafv2.WebAclLoggingConfiguration(
    `${name}-waf-logs`,
    { resourceArn: acl.arn, logDestinationConfigs: [logs.arn], ...wafLogging },
    o,
  );
  return acl.arn;
}
