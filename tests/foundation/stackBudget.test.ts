/**
 * The stack budget: every stack has one, its alerts and tag scope follow the config, and a bad budget
 * stops the program before any resource is registered, naming the key.
 */
import * as assert from "node:assert/strict";
import { budgetCostFilters, budgetNotifications } from "../../components/foundation/stackBudget";
import { ConfigError, parseConfig } from "../../components/config/platformConfig";
import { budgetSchema } from "../../components/config/budget";
import { cloneStackConfig, runProgram, runStack, stacks } from "../../verify/program";

/** The problems parseConfig reports after `change` is applied to dev's raw config. */
function problemsAfter(change: (budget: Record<string, any>) => void): string[] {
  const raw = cloneStackConfig("dev") as Record<string, any>;
  change(raw["llm-platform:budget"]);
  try {
    parseConfig(raw, "dev");
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("budget: alerts and scope (pure)", () => {
  const budget = budgetSchema.parse({
    monthlyLimitUsd: 200,
    thresholds: [100, 50],
    forecastThreshold: 90,
    emails: ["a@example.com"],
    snsTopicArn: "arn:aws:sns:us-west-2:111122223333:cost-alerts",
    costAllocationTag: "CostCenter",
  });

  it("alerts on ACTUAL spend per threshold (ascending) and once on the FORECAST, each to every subscriber", () => {
    const subscribers = {
      subscriberEmailAddresses: ["a@example.com"],
      subscriberSnsTopicArns: ["arn:aws:sns:us-west-2:111122223333:cost-alerts"],
    };
    const common = { comparisonOperator: "GREATER_THAN", thresholdType: "PERCENTAGE" };
    assert.deepEqual(budgetNotifications(budget), [
      { ...common, notificationType: "ACTUAL", threshold: 50, ...subscribers },
      { ...common, notificationType: "ACTUAL", threshold: 100, ...subscribers },
      { ...common, notificationType: "FORECASTED", threshold: 90, ...subscribers },
    ]);
  });

  it("leaves out a subscriber kind that is not configured", () => {
    const emailOnly = budgetNotifications({ ...budget, snsTopicArn: undefined });
    assert.ok(emailOnly.every((n) => !("subscriberSnsTopicArns" in n)));
    const snsOnly = budgetNotifications({ ...budget, emails: [] });
    assert.ok(snsOnly.every((n) => !("subscriberEmailAddresses" in n)));
  });

  it("scopes to the stack's value of the cost allocation tag, or to the whole account", () => {
    assert.deepEqual(budgetCostFilters(budget, { CostCenter: "ml-dev" }), [
      { name: "TagKeyValue", values: ["user:CostCenter$ml-dev"] },
    ]);
    assert.deepEqual(budgetCostFilters({ ...budget, costAllocationTag: undefined }, {}), []);
  });
});

describe("budget: both stacks", () => {
  for (const stack of stacks) {
    it(`${stack}: one monthly USD cost budget, alerts and tag filter derived from its config`, async () => {
      const run = await runStack(stack);
      const config = parseConfig(cloneStackConfig(stack), stack);
      const [b, ...rest] = run.ofType("aws:budgets/budget:Budget");
      assert.equal(rest.length, 0);
      assert.deepEqual(
        [b!.inputs.budgetType, b!.inputs.timeUnit, b!.inputs.limitUnit],
        ["COST", "MONTHLY", "USD"],
      );
      assert.equal(Number(b!.inputs.limitAmount), config.budget.monthlyLimitUsd);
      assert.equal(b!.inputs.name, `${config.namePrefix}-monthly`);
      assert.deepEqual(b!.inputs.notifications, budgetNotifications(config.budget));
      assert.deepEqual(b!.inputs.costFilters, budgetCostFilters(config.budget, config.tags));
      // Every alert reaches someone.
      for (const n of b!.inputs.notifications) {
        const reach = [...(n.subscriberEmailAddresses ?? []), ...(n.subscriberSnsTopicArns ?? [])];
        assert.ok(reach.length > 0);
      }
      assert.equal(b!.provider, config.namePrefix, "through the tagged AWS provider");
    });
  }
});

describe("budget: bad input", () => {
  const cases: [string, (b: Record<string, any>) => void, RegExp][] = [
    [
      "a negative limit",
      (b) => (b.monthlyLimitUsd = -5),
      /llm-platform:budget\.monthlyLimitUsd: expected a monthly limit above 0/,
    ],
    [
      "a zero limit",
      (b) => (b.monthlyLimitUsd = 0),
      /llm-platform:budget\.monthlyLimitUsd: expected a monthly limit above 0/,
    ],
    [
      "a limit that is not a number",
      (b) => (b.monthlyLimitUsd = "lots"),
      /llm-platform:budget\.monthlyLimitUsd: expected the monthly limit in USD/,
    ],
    [
      "a threshold of 0",
      (b) => (b.thresholds = [0, 80]),
      /llm-platform:budget\.thresholds\[0\]: expected a percentage of the limit above 0/,
    ],
    [
      "a threshold above 1000 %",
      (b) => (b.thresholds = [50, 5000]),
      /llm-platform:budget\.thresholds\[1\]: expected a percentage of the limit of at most 1000/,
    ],
    [
      "a repeated threshold",
      (b) => (b.thresholds = [80, 80]),
      /llm-platform:budget\.thresholds\[1\]: expected each threshold once/,
    ],
    [
      "more alerts than AWS Budgets allows",
      (b) => (b.thresholds = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
      /llm-platform:budget\.thresholds: expected at most 10 alerts/,
    ],
    [
      "no subscriber",
      (b) => (b.emails = []),
      /llm-platform:budget\.emails: expected at least 1 subscriber/,
    ],
    [
      "a malformed email",
      (b) => (b.emails = ["not-an-address"]),
      /llm-platform:budget\.emails\[0\]: expected an email address/,
    ],
    [
      "a malformed SNS topic",
      (b) => (b.snsTopicArn = "cost-alerts"),
      /llm-platform:budget\.snsTopicArn: expected an SNS topic ARN/,
    ],
    [
      "a cost allocation tag the stack does not set",
      (b) => (b.costAllocationTag = "Team"),
      /llm-platform:budget\.costAllocationTag: expected one of the stack's tags \(Project, Environment, ManagedBy, Owner, CostCenter\), got Team/,
    ],
    ["an unknown key", (b) => (b.limit = 5), /llm-platform:budget\.limit: unknown key/],
  ];
  for (const [what, change, expected] of cases) {
    it(`rejects ${what}`, () => {
      const problems = problemsAfter(change);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected}, got:\n${problems.join("\n")}`,
      );
    });
  }

  it("a stack without a budget is rejected: every stack has one", () => {
    const raw = cloneStackConfig("prod") as Record<string, any>;
    delete raw["llm-platform:budget"];
    assert.throws(() => parseConfig(raw, "prod"), /llm-platform:budget: required/);
  });

  it("stops the program before any resource is registered", async () => {
    const raw = cloneStackConfig("dev") as Record<string, any>;
    raw["llm-platform:budget"].monthlyLimitUsd = -1;
    const run = await runProgram("dev", raw);
    assert.ok(run.error instanceof ConfigError, `expected ConfigError, got ${String(run.error)}`);
    assert.deepEqual(run.resources, []);
  });
});
