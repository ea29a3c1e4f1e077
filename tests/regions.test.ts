/**
 * Any region: the program run with another region in the stack file names only that region in what
 * it registers (ARNs, endpoints, chart values), and the cost estimate prices it, saying where prices
 * were borrowed. The committed stacks' region is one choice among AWS's regions, not an assumption.
 */
import * as assert from "node:assert/strict";
import { parseConfig } from "../components/config/platformConfig";
import { formatText } from "../components/cost/report";
import { stackEstimate } from "../components/cost/stackEstimate";
import { knownRegions } from "../components/platform/regions";
import { cloneStackConfig, runProgram } from "../verify/program";

describe("any region", () => {
  const region = "eu-west-1";

  it(`runs dev in ${region}, naming no other region anywhere, and estimates its cost with borrowed prices marked`, async () => {
    const raw = cloneStackConfig("dev");
    const committed = raw["aws:region"];
    raw["aws:region"] = region;
    const run = await runProgram("dev", raw);
    assert.equal(run.error, undefined);
    const regions = [...knownRegions().keys()].filter((r) => r !== region);
    const named = run.resources.flatMap((r) => {
      const text = JSON.stringify(r.inputs);
      return regions
        .filter((other) => text.includes(other))
        .map((o) => `${r.type} ${r.name}: ${o}`);
    });
    assert.deepEqual(named, [], `the stack file's region was ${String(committed)}`);
    // Streaming servers resolve this region's STS name to the VPC's endpoint.
    const pod = run.get("kubernetes:apps/v1:Deployment", "vllm-baseline").inputs.spec.template.spec;
    assert.deepEqual(
      [...new Set(pod.hostAliases.flatMap((a: { hostnames: string[] }) => a.hostnames))],
      [`sts.${region}.amazonaws.com`],
    );
    const text = formatText(stackEstimate("dev", parseConfig(raw, "dev"), run.resources));
    assert.match(text, new RegExp(`^Cost estimate of stack dev \\(${region},`));
    assert.match(text, /^Prices borrowed from us-west-2 \(none read for eu-west-1\): /m);
  });
});
