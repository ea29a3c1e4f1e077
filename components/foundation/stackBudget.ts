/**
 * The stack's monthly AWS Budget: alerts by email and/or SNS when actual spend passes each threshold
 * (and, optionally, when the month's forecast passes one), scoped to the stack's cost-allocation tag.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { BudgetConfig } from "../config/budget";

/** One alert of the budget, in the shape of aws.budgets.Budget `notifications[]`. */
export interface BudgetNotification {
  readonly comparisonOperator: "GREATER_THAN";
  readonly notificationType: "ACTUAL" | "FORECASTED";
  readonly threshold: number;
  readonly thresholdType: "PERCENTAGE";
  readonly subscriberEmailAddresses?: string[];
  readonly subscriberSnsTopicArns?: string[];
}

/** Alerts: one per ACTUAL threshold, plus the FORECASTED one; every alert reaches every subscriber. */
export function budgetNotifications(b: BudgetConfig): BudgetNotification[] {
  const subscribers = {
    ...(b.emails.length > 0 ? { subscriberEmailAddresses: [...b.emails] } : {}),
    ...(b.snsTopicArn ? { subscriberSnsTopicArns: [b.snsTopicArn] } : {}),
  };
  const alert = (notificationType: "ACTUAL" | "FORECASTED", threshold: number) => ({
    comparisonOperator: "GREATER_THAN" as const,
    notificationType,
    threshold,
    thresholdType: "PERCENTAGE" as const,
    ...subscribers,
  });
  return [
    ...[...b.thresholds].sort((x, y) => x - y).map((t) => alert("ACTUAL", t)),
    ...(b.forecastThreshold === undefined ? [] : [alert("FORECASTED", b.forecastThreshold)]),
  ];
}

/**
 * Cost filter of the budget: spend tagged with the stack's value of `costAllocationTag`
 * (`user:<key>$<value>`, the Budgets TagKeyValue form), or none (the whole account).
 */
export function budgetCostFilters(
  b: BudgetConfig,
  tags: Readonly<Record<string, string>>,
): { name: "TagKeyValue"; values: string[] }[] {
  if (b.costAllocationTag === undefined) return [];
  const value = tags[b.costAllocationTag];
  if (value === undefined) {
    // components/config/platformConfig.ts rejects this first; kept so the function is total.
    throw new Error(
      `budget.costAllocationTag ${b.costAllocationTag} is not one of the stack's tags`,
    );
  }
  return [{ name: "TagKeyValue", values: [`user:${b.costAllocationTag}$${value}`] }];
}

export interface StackBudgetArgs {
  /** Physical budget name is `<namePrefix>-monthly` (unique per account). */
  readonly namePrefix: string;
  /** Limit, thresholds, subscribers and tag scope (validated by components/config/platformConfig.ts). */
  readonly budget: BudgetConfig;
  /** The stack's tags, to resolve `costAllocationTag` to this stack's value. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A monthly COST budget in USD for one stack. */
export class StackBudget extends pulumi.ComponentResource {
  readonly budgetName: pulumi.Output<string>;

  constructor(name: string, args: StackBudgetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmplatform:aws:StackBudget", name, {}, opts);
    const b = args.budget;
    const budget = new aws.budgets.Budget(
      `${name}-monthly`,
      {
        name: `${args.namePrefix}-monthly`,
        budgetType: "COST",
        timeUnit: "MONTHLY",
        limitAmount: b.monthlyLimitUsd.toFixed(2),
        limitUnit: "USD",
        costFilters: budgetCostFilters(b, args.tags),
        notifications: budgetNotifications(b),
      },
      { parent: this },
    );
    this.budgetName = budget.name;
    this.registerOutputs({ budgetName: this.budgetName });
  }
}
