/**
 * The shape of an IAM policy document, as plain data: the kernel's registry declares policies with it
 * and the kit (lib/aws) builds and attaches them, so tests compare documents exactly.
 */
/** An IAM policy statement (the subset this program writes). */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: Record<string, string | string[]>;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}
