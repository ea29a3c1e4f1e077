/**
 * Who may reach the public edge: the stack's web ACL follows its config (rule groups, rate limit,
 * count-only rules, logging), and a config that leaves the gateway or Grafana anonymous to the whole
 * internet is refused, naming the key, unless the override names the host.
 */
import * as assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../components/config/platformConfig";
import { gatewayAuthAnnotations, grafanaAuthAnnotations } from "../../components/edge/albIngress";
import { oversizeBodyLabel, wafLogging, webAclRules } from "../../components/edge/waf";
import {
  cloneStackConfig,
  mockResourceArn,
  runStack,
  stackConfig,
  stacks,
} from "../../verify/program";

const WEB_ACL = "aws:wafv2/webAcl:WebAcl";
const ING = "kubernetes:networking.k8s.io/v1:Ingress";

/** A WAF config as the schema returns it, with overrides. */
function waf(over: Record<string, unknown> = {}) {
  return {
    ...parseConfig(cloneStackConfig("prod"), "prod").edge.waf,
    ...over,
  };
}

describe("edge: the stack's web ACL (pure)", () => {
  it("limits each client IP first, then applies AWS's IP reputation, known bad inputs and common rules", () => {
    const rules = webAclRules(waf({ rateLimit: { requests: 500, windowSeconds: 60 } }), {});
    assert.deepEqual(
      rules.map((r) => [r.priority, r.name]),
      [
        [0, "rate-limit-per-client-ip"],
        [2, "AWSManagedRulesAmazonIpReputationList"],
        [3, "AWSManagedRulesKnownBadInputsRuleSet"],
        [4, "AWSManagedRulesCommonRuleSet"],
      ],
    );
    assert.deepEqual(rules[0]!.statement, {
      rateBasedStatement: { limit: 500, evaluationWindowSec: 60, aggregateKeyType: "IP" },
    });
    assert.deepEqual(rules[0]!.action, { block: {} });
    for (const r of rules.slice(1)) {
      assert.deepEqual(r.overrideAction, { none: {} }, r.name as string);
      assert.equal((r.statement as any).managedRuleGroupStatement.vendorName, "AWS");
    }
  });

  it("only counts the common rule set's listed rules (by default bodies over 8 KB: prompts)", () => {
    const crs = (countOnlyRules: string[]) =>
      (
        webAclRules(waf({ countOnlyRules }), {}).find(
          (r) => r.name === "AWSManagedRulesCommonRuleSet",
        )!.statement as any
      ).managedRuleGroupStatement;
    assert.deepEqual(waf().countOnlyRules, ["SizeRestrictions_BODY"]);
    assert.deepEqual(crs(["SizeRestrictions_BODY", "GenericLFI_BODY"]).ruleActionOverrides, [
      { name: "SizeRestrictions_BODY", actionToUse: { count: {} } },
      { name: "GenericLFI_BODY", actionToUse: { count: {} } },
    ]);
    assert.equal(crs([]).ruleActionOverrides, undefined);
  });

  it("with hosts (HTTPS): blocks oversize bodies again on every host but the gateway's, and every host but the gateway's outside Grafana's networks (fail-closed)", () => {
    const rules = webAclRules(waf(), {
      gatewayHost: "api.example.org",
      grafanaAllowList: { ipSetArn: "arn:ipset" },
    });
    const byName = Object.fromEntries(rules.map((r) => [r.name, r]));
    // Names the host that stays open: a Host header that is not exactly the gateway's (Grafana's with
    // a port or a trailing dot, the load balancer's own name) is blocked outside the allowed networks.
    assert.deepEqual(byName["allowed-networks-or-gateway-only"]!.statement, {
      andStatement: {
        statements: [
          {
            notStatement: {
              statement: {
                byteMatchStatement: {
                  fieldToMatch: { singleHeader: { name: "host" } },
                  positionalConstraint: "EXACTLY",
                  searchString: "api.example.org",
                  textTransformations: [{ priority: 0, type: "LOWERCASE" }],
                },
              },
            },
          },
          { notStatement: { statement: { ipSetReferenceStatement: { arn: "arn:ipset" } } } },
        ],
      },
    });
    const oversize = byName["oversize-body-outside-gateway"]!;
    assert.equal(oversize.priority, 5, "after the common rule set, whose label it reads");
    assert.deepEqual(oversize.statement.andStatement.statements[0], {
      labelMatchStatement: { scope: "LABEL", key: oversizeBodyLabel },
    });
    // Without that count-only rule the common rule set blocks oversize bodies itself.
    assert.ok(
      !webAclRules(waf({ countOnlyRules: [] }), { gatewayHost: "api.example.org" }).some(
        (r) => r.name === "oversize-body-outside-gateway",
      ),
    );
  });

  it("logs only blocked and counted requests, with the credential headers redacted", () => {
    assert.deepEqual(wafLogging.loggingFilter.defaultBehavior, "DROP");
    assert.deepEqual(
      wafLogging.loggingFilter.filters[0]!.conditions.map((c) => c.actionCondition.action),
      ["BLOCK", "COUNT"],
    );
    assert.deepEqual(
      wafLogging.redactedFields.map((f) => f.singleHeader.name),
      ["authorization", "x-api-key", "cookie"],
    );
  });
});

describe("edge: authentication at the ALB (pure)", () => {
  it("adds no annotation when nothing is configured", () => {
    assert.deepEqual(gatewayAuthAnnotations(undefined), {});
    assert.deepEqual(grafanaAuthAnnotations(undefined), {});
  });

  it("omits additionalClaims when no claim is required", () => {
    const a = gatewayAuthAnnotations({
      issuer: "https://idp.example.org",
      jwksEndpoint: "https://idp.example.org/jwks",
      claims: [],
    });
    assert.deepEqual(JSON.parse(a["alb.ingress.kubernetes.io/jwt-validation"]!), {
      jwksEndpoint: "https://idp.example.org/jwks",
      issuer: "https://idp.example.org",
    });
  });
});

for (const stack of stacks) {
  describe(`edge: the web ACL of the ${stack} stack`, () => {
    it("follows edge.waf, is attached to both Ingresses, and logs to aws-waf-logs-<prefix>", async () => {
      const run = await runStack(stack);
      const { edge } = stackConfig(stack);
      const prefix = `llmplatform-${stack}`;
      const acl = run.get(WEB_ACL, `${prefix}-edge-web-acl`).inputs;
      assert.deepEqual(
        [acl.name, acl.scope, acl.defaultAction],
        [`${prefix}-edge`, "REGIONAL", { allow: {} }],
      );
      const rate = acl.rules.find((r: any) => r.name === "rate-limit-per-client-ip");
      assert.deepEqual(rate.statement.rateBasedStatement, {
        limit: edge.waf.rateLimit.requests,
        evaluationWindowSec: edge.waf.rateLimit.windowSeconds,
        aggregateKeyType: "IP",
      });
      const managed = acl.rules
        .filter((r: any) => r.statement.managedRuleGroupStatement)
        .map((r: any) => r.statement.managedRuleGroupStatement.name);
      assert.deepEqual(managed, [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
      ]);
      for (const name of ["platform-ingress", "grafana-ingress"])
        assert.equal(
          run.get(ING, name).inputs.metadata.annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"],
          mockResourceArn(stackConfig(stack).region, WEB_ACL, `${prefix}-edge-web-acl`),
        );
      const logs = run.get("aws:cloudwatch/logGroup:LogGroup", `${prefix}-edge-waf-logs`).inputs;
      assert.deepEqual(
        [logs.name, logs.retentionInDays],
        [`aws-waf-logs-${prefix}`, edge.waf.logRetentionDays],
      );
      const logging = run.get(
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
        `${prefix}-edge-waf-logs`,
      ).inputs;
      assert.deepEqual(logging.loggingFilter, wafLogging.loggingFilter);
    });
  });
}

describe("edge: an anonymous door to the whole internet is refused", () => {
  function problems(stack: "dev" | "prod", edit: (e: Record<string, any>) => void): string[] {
    const raw = cloneStackConfig(stack) as Record<string, any>;
    edit(raw["llm-platform:edge"]);
    try {
      parseConfig(raw, stack);
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  }
  const gatewayOpen =
    "llm-platform:edge.gateway.jwtValidation: required: inboundCidrs admits the whole internet and nothing at the load balancer checks who calls gateway. Let the load balancer verify callers' JWTs, narrow inboundCidrs, or accept it explicitly with allowAnonymousFromAnywhere: [gateway]";
  const grafanaOpen =
    "llm-platform:edge.grafana.auth: required: inboundCidrs admits the whole internet and nothing at the load balancer checks who calls grafana. Let an OIDC or Cognito login (or grafana.allowedCidrs) guard it, narrow inboundCidrs, or accept it explicitly with allowAnonymousFromAnywhere: [grafana]";

  it("names the key of each host left open, for prod and dev alike", () => {
    for (const stack of ["prod", "dev"] as const) {
      const found = problems(stack, (e) => {
        delete e.allowAnonymousFromAnywhere;
        delete e.grafana;
      });
      assert.deepEqual(found, [gatewayOpen, grafanaOpen], stack);
    }
  });

  it("sees the whole internet in inboundCidrs split into halves", () => {
    const found = problems("prod", (e) => {
      delete e.allowAnonymousFromAnywhere;
      delete e.grafana;
      e.inboundCidrs = ["0.0.0.0/1", "128.0.0.0/1"];
    });
    assert.deepEqual(found, [gatewayOpen, grafanaOpen]);
  });

  it("accepts a host guarded at the ALB, an allow-list, or narrowed inboundCidrs", () => {
    const jwt = { issuer: "https://idp.example.org", jwksEndpoint: "https://idp.example.org/j" };
    assert.deepEqual(
      problems("prod", (e) => {
        e.gateway = { jwtValidation: jwt };
        delete e.allowAnonymousFromAnywhere;
      }),
      [],
    );
    assert.deepEqual(
      problems("prod", (e) => {
        e.inboundCidrs = ["198.51.100.0/24"];
        delete e.allowAnonymousFromAnywhere;
        delete e.grafana;
      }),
      [],
    );
  });

  it("treats an allow-list of 0.0.0.0/0, or of networks broader than a /8, as none", () => {
    for (const allowedCidrs of [["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["10.0.0.0/7"]])
      assert.deepEqual(
        problems("prod", (e) => (e.grafana = { allowedCidrs })),
        [grafanaOpen],
        allowedCidrs.join(),
      );
    assert.deepEqual(
      problems("prod", (e) => (e.grafana = { allowedCidrs: ["10.0.0.0/8"] })),
      [],
      "a /8 is still an allow-list",
    );
  });

  it("refuses a stale override, so it cannot outlive the exposure it accepted", () => {
    assert.deepEqual(
      problems("prod", (e) => (e.allowAnonymousFromAnywhere = ["gateway", "grafana"])),
      [
        "llm-platform:edge.allowAnonymousFromAnywhere: expected only hosts anonymous to the whole internet; grafana is not (drop it)",
      ],
    );
  });

  it("refuses ALB authentication without HTTPS, and a Grafana allow-list with HTTPS but no WAF", () => {
    const jwt = { issuer: "https://idp.example.org", jwksEndpoint: "https://idp.example.org/j" };
    assert.deepEqual(
      problems("dev", (e) => (e.gateway = { jwtValidation: jwt })),
      [
        "llm-platform:edge.gateway.jwtValidation: needs HTTPS (hostedZone or certificateArn): the load balancer verifies JWTs on HTTPS listeners only",
        "llm-platform:edge.allowAnonymousFromAnywhere: expected only hosts anonymous to the whole internet; gateway is not (drop it)",
      ],
    );
    assert.deepEqual(
      problems("prod", (e) => (e.waf = { enabled: false })),
      [
        "llm-platform:edge.grafana.allowedCidrs: needs the program's web ACL (waf.enabled: true): with HTTPS, Grafana shares the listener with the gateway, so its allow-list is a WAF rule",
      ],
    );
  });

  it("refuses the program's web ACL and your own together", () => {
    assert.deepEqual(
      problems(
        "prod",
        (e) =>
          (e.wafAclArn = `arn:aws:wafv2:${stackConfig("prod").region}:111122223333:regional/webacl/x/00000000-0000-4000-8000-000000000002`),
      ),
      [
        "llm-platform:edge.wafAclArn: expected either the program's web ACL (waf.enabled) or your own: set waf.enabled: false to attach this one",
      ],
    );
  });
});
