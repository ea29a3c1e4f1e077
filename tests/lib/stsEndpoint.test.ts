import * as assert from "node:assert/strict";
import {
  inAddressOrder,
  stsClientEnv,
  stsEndpointCidrs,
  stsHostAliases,
  stsRegionalHostname,
} from "../../components/lib/aws/stsEndpoint";

describe("STS through the VPC's interface endpoint (lib)", () => {
  it("names the regional STS host the SDKs build from a region, .cn in the China regions", () => {
    assert.equal(stsRegionalHostname("eu-west-1"), "sts.eu-west-1.amazonaws.com");
    assert.equal(stsRegionalHostname("cn-northwest-1"), "sts.cn-northwest-1.amazonaws.com.cn");
  });

  it("tells every container the region and the regional endpoint, never an endpoint URL", () => {
    assert.deepEqual(stsClientEnv("ap-south-2"), {
      AWS_REGION: "ap-south-2",
      AWS_DEFAULT_REGION: "ap-south-2",
      AWS_STS_REGIONAL_ENDPOINTS: "regional",
    });
  });

  it("maps the regional name to every address of the endpoint, in address order whatever EC2 lists", () => {
    const listed = ["10.20.128.10", "10.20.9.10", "10.20.64.10", "10.20.9.10"];
    assert.deepEqual(inAddressOrder(listed), ["10.20.9.10", "10.20.64.10", "10.20.128.10"]);
    assert.deepEqual(stsHostAliases("us-east-2", listed), [
      { ip: "10.20.9.10", hostnames: ["sts.us-east-2.amazonaws.com"] },
      { ip: "10.20.64.10", hostnames: ["sts.us-east-2.amazonaws.com"] },
      { ip: "10.20.128.10", hostnames: ["sts.us-east-2.amazonaws.com"] },
    ]);
    assert.deepEqual(stsEndpointCidrs(listed), [
      "10.20.9.10/32",
      "10.20.64.10/32",
      "10.20.128.10/32",
    ]);
  });

  it("refuses an endpoint without addresses rather than leave STS unresolved", () => {
    assert.throws(() => stsHostAliases("us-east-2", []), /has no addresses/);
    assert.throws(() => stsEndpointCidrs([]), /has no addresses/);
  });
});
