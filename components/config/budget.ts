/**
 * Schema of `llm-platform:budget`: the stack's monthly AWS Budget and who hears when spend crosses it.
 */
import { z } from "zod";
import { duplicates } from "./primitives";

/** AWS Budgets: a budget holds at most 10 notifications; each 1 SNS topic and up to 10 emails. */
const maxBudgetNotifications = 10;
const maxEmailSubscribers = 10;

const percent = z
  .number()
  .gt(0, "expected a percentage of the limit above 0")
  .max(1000, "expected a percentage of the limit of at most 1000");

export const budgetSchema = z
  .strictObject({
    /** Monthly cost limit in USD (what `npm run cost` calls the monthly total is a guide). */
    monthlyLimitUsd: z
      .number({ error: "expected the monthly limit in USD as a number, e.g. 1500" })
      .positive("expected a monthly limit above 0 (USD)"),
    /** Alert when ACTUAL spend passes each of these percentages of the limit. */
    thresholds: z.array(percent).min(1, "expected at least 1 threshold").default([50, 80, 100]),
    /** Alert when the month's FORECASTED spend passes this percentage; omit for no forecast alert. */
    forecastThreshold: percent.optional(),
    /** Email subscribers of every alert (at most 10, an AWS Budgets limit). */
    emails: z
      .array(z.email("expected an email address"))
      .max(maxEmailSubscribers, `expected at most ${maxEmailSubscribers} addresses`)
      .default([]),
    /** SNS topic subscribed to every alert (its policy must allow budgets.amazonaws.com to publish). */
    snsTopicArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/,
        "expected an SNS topic ARN, e.g. arn:aws:sns:<region>:<account-id>:<topic>",
      )
      .optional(),
    /**
     * Count only spend carrying this stack's value of this tag (a key of `llm-platform:tags` or a
     * program tag). It must be activated as a cost allocation tag in Billing, or the budget sees no
     * spend. Omitted = the whole account's spend.
     */
    costAllocationTag: z.string().min(1).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.emails.length === 0 && b.snsTopicArn === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["emails"],
        message: "expected at least 1 subscriber: an email address or snsTopicArn",
      });
    }
    duplicates(b.thresholds.map(String)).forEach((i) =>
      ctx.addIssue({
        code: "custom",
        path: ["thresholds", i],
        message: "expected each threshold once",
      }),
    );
    const notifications = b.thresholds.length + (b.forecastThreshold === undefined ? 0 : 1);
    if (notifications > maxBudgetNotifications) {
      ctx.addIssue({
        code: "custom",
        path: ["thresholds"],
        message: `expected at most ${maxBudgetNotifications} alerts (thresholds plus forecastThreshold), got ${notifications}`,
      });
    }
  });

export type BudgetConfig = z.output<typeof budgetSchema>;
