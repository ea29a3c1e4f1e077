/**
 * `node bin/scripts/costComment.js <head.json> [<base.json>]`: the Markdown a pull request comment
 * carries for one stack, from two `npm run cost -- <stack> --json` outputs (this branch, and the base
 * branch). A missing, empty or unreadable base file means the base could not estimate: no Δ column.
 */
import * as fs from "node:fs";
import { formatComment, type StackEstimate } from "../components/cost/report";

function read(file: string | undefined): StackEstimate | undefined {
  if (!file || !fs.existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as StackEstimate | null;
    return parsed && Array.isArray(parsed.items) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const [headFile, baseFile] = process.argv.slice(2);
const head = read(headFile);
if (!head) {
  console.error("usage: node bin/scripts/costComment.js <head.json> [<base.json>]");
  process.exit(2);
}
process.stdout.write(formatComment(head, read(baseFile)));
