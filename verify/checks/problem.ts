/** A finding of a whole-cluster check: which check, about what, and what is wrong. */
export interface Finding {
  readonly check: string;
  readonly subject: string;
  readonly message: string;
}

/** A finding maker bound to one check's name. */
export function findings(check: string) {
  const out: Finding[] = [];
  return {
    out,
    add: (subject: string, message: string) => out.push({ check, subject, message }),
  };
}
