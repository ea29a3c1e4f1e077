/**
 * The cold-start budget's arithmetic: invariants over its parts, whatever the assumptions' values.
 */
import * as assert from "node:assert/strict";
import {
  coldStartAssumptions,
  coldStartBudget,
  networkGbps,
  type ColdStartInputs,
} from "../../components/platform/coldStart";
import { gpuInstanceShapes } from "../../components/platform/instanceTypes";

const base: ColdStartInputs = {
  instanceTypes: ["g5.xlarge", "g6.xlarge"],
  weightsGiB: 13.5,
  weightsFrom: "store",
  streamerConcurrency: 16,
  fastImagePull: true,
  rootVolumeThroughputMiBs: 600,
  compileCache: true,
  readinessPeriodSeconds: 10,
};
const phase = (x: ColdStartInputs, name: string) =>
  coldStartBudget(x).phases.find((p) => p.name === name)!.seconds;

describe("cold-start budget", () => {
  it("names, dates and sources every assumption; none is passed off as measured", () => {
    for (const [name, a] of Object.entries(coldStartAssumptions)) {
      assert.ok(a.value > 0, name);
      assert.match(a.asOf, /^\d{4}-\d{2}-\d{2}$/, name);
      assert.ok(a.source.length > 20 && a.unit.length > 0, name);
      assert.equal(a.measured, false, `${name}: no GPU stack has measured it yet`);
    }
  });

  it("knows the network of every GPU instance type the node groups may use", () => {
    for (const t of Object.keys(gpuInstanceShapes)) assert.ok(networkGbps(t) > 0, t);
    assert.throws(() => networkGbps("g9.mega"), /no network bandwidth for g9\.mega/);
  });

  it("adds its phases into the three spans: server start ⊂ pod start ⊂ scale-up", () => {
    const b = coldStartBudget(base);
    const sum = (scopes: string[], at: "first" | "restart") =>
      b.phases.filter((p) => scopes.includes(p.scope)).reduce((n, p) => n + p.seconds[at], 0);
    for (const at of ["first", "restart"] as const) {
      assert.equal(b.serverStart[at], sum(["server"], at));
      assert.equal(b.podStart[at], sum(["server", "pod"], at));
      assert.equal(b.scaleUp[at], sum(["server", "pod", "node"], at));
      assert.ok(b.serverStart[at] < b.podStart[at] && b.podStart[at] < b.scaleUp[at]);
    }
    assert.deepEqual(
      b.phases.map((p) => p.name),
      ["node", "image", "init", "weights", "engine", "compile", "cuda-graphs", "readiness"],
    );
  });

  it("streams weights at the lower of the readers' and the network's rate, on the slowest type", () => {
    const gib = 2 ** 30;
    const net = (gbps: number) => (gbps * 1e9 * coldStartAssumptions.networkEfficiency.value) / 8;
    // Many readers: network-bound. The group's slowest type decides.
    const many = { ...base, streamerConcurrency: 64 };
    assert.equal(phase(many, "weights").first, Math.ceil((13.5 * gib) / net(10)));
    assert.deepEqual(
      phase({ ...many, instanceTypes: ["g6e.xlarge", "g5.xlarge"] }, "weights"),
      phase(many, "weights"),
    );
    assert.ok(
      phase({ ...many, instanceTypes: ["g5.4xlarge"] }, "weights").first <
        phase(many, "weights").first,
    );
    // One reader: reader-bound, and more readers help until the network caps them.
    const one = phase({ ...base, streamerConcurrency: 1 }, "weights").first;
    assert.equal(one, Math.ceil((13.5 * 1024) / coldStartAssumptions.streamerReaderMiBs.value));
    assert.ok(phase({ ...base, streamerConcurrency: 2 }, "weights").first < one);
  });

  it("counts the compile cache only on restarts, and only when it is shared", () => {
    const on = phase(base, "compile");
    assert.ok(on.restart < on.first);
    const off = phase({ ...base, compileCache: false }, "compile");
    assert.equal(off.restart, off.first);
    assert.equal(off.first, on.first);
  });

  it("pulls the image faster in parallel, bound by the root volume until the network binds", () => {
    const plain = phase({ ...base, fastImagePull: false }, "image").first;
    const parallel = (mibs: number) =>
      phase({ ...base, rootVolumeThroughputMiBs: mibs }, "image").first;
    assert.ok(parallel(600) < plain);
    assert.ok(parallel(750) < parallel(600) && parallel(600) < parallel(250));
    assert.equal(
      parallel(600),
      Math.ceil((coldStartAssumptions.vllmImageUnpackedGiB.value * 1024) / 600),
    );
  });

  it("charges the Hub fallback its download on a first start only", () => {
    const hub = phase({ ...base, weightsFrom: "hub" }, "weights");
    assert.ok(hub.first > hub.restart);
    assert.equal(hub.restart, Math.ceil((13.5 * 1024) / coldStartAssumptions.efsReadMiBs.value));
  });

  it("refuses inputs it cannot predict from", () => {
    assert.throws(() => coldStartBudget({ ...base, instanceTypes: [] }), /no instance types/);
    assert.throws(
      () => coldStartBudget({ ...base, streamerConcurrency: 0 }),
      /streamerConcurrency must be above 0/,
    );
  });
});
