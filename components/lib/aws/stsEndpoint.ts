/**
 * How a pod without internet egress reaches STS (IRSA's web-identity exchange) through the VPC's STS
 * interface endpoint, whatever AWS SDK asks: pure, tested directly and by the whole-cluster checks.
 *
 * The endpoint keeps private DNS off (foundation/network.ts), so the regional name
 * `sts.<region>.amazonaws.com` resolves to public addresses in the VPC. Such a pod instead resolves
 * that name itself, through its `hostAliases` (kubelet writes them into the pod's /etc/hosts), to the
 * endpoint's network interfaces. Every SDK then reaches the endpoint without being told:
 * - the AWS C++ SDK's web-identity provider (the Run:ai streamer's S3 client when it resolves its own
 *   credentials) builds `https://sts.<region>.amazonaws.com` from `AWS_DEFAULT_REGION`/`AWS_REGION`
 *   (aws-sdk-cpp `STSCredentialsClient`, aws-c-auth's STS web-identity provider);
 * - boto3 and the other SDKs use the same regional name once `AWS_STS_REGIONAL_ENDPOINTS=regional`
 *   (the SDKs' shared setting; some still default to the global `sts.amazonaws.com`, which the
 *   endpoint neither serves nor has in its certificate).
 * TLS holds: the certificate the endpoint presents names the regional host (and
 * `*.sts.<region>.vpce.amazonaws.com`), which is what private DNS relies on as well.
 */
/**
 * The regional STS host the SDKs build from a region: `sts.<region>.amazonaws.com`, `.cn` appended in
 * the China regions (as aws-sdk-cpp and aws-c-auth do).
 */
export function stsRegionalHostname(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/**
 * Environment every container of such a pod needs: the region (explicit, because pods cannot reach
 * the instance metadata; the C++ SDK reads `AWS_DEFAULT_REGION`, boto3 too, newer SDKs `AWS_REGION`)
 * and the regional STS endpoint, whose name the pod's `hostAliases` resolve.
 *
 * No `AWS_ENDPOINT_URL_STS`: one mechanism, the name, serves every SDK. The variable is honoured by
 * some clients only (botocore since 1.31; aws-sdk-cpp's `STSCredentialsClient` builds the host from
 * the region alone), so with it the pod's boto3 init step would take another path than the
 * streamer's C++ client and could pass while the streamer fails; with the name alone, the first STS
 * call in the pod proves the path every later one takes.
 */
export function stsClientEnv(region: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_STS_REGIONAL_ENDPOINTS: "regional",
  };
}

/** A pod's `hostAliases` entry. */
export interface HostAlias {
  readonly ip: string;
  readonly hostnames: string[];
}

/**
 * The pod's `hostAliases`: the regional STS host at each of the endpoint's addresses (one per AZ, in
 * address order so the pod spec does not change when AWS lists the interfaces in another order).
 * Resolvers return every address of a name /etc/hosts lists, so a client tries the next AZ's
 * interface when one does not answer.
 */
export function stsHostAliases(region: string, addresses: readonly string[]): HostAlias[] {
  if (addresses.length === 0) throw new Error("the STS interface endpoint has no addresses");
  const hostnames = [stsRegionalHostname(region)];
  return inAddressOrder(addresses).map((ip) => ({ ip, hostnames: [...hostnames] }));
}

/** The endpoint's addresses as NetworkPolicy CIDRs (`/32` each), in address order. */
export function stsEndpointCidrs(addresses: readonly string[]): string[] {
  if (addresses.length === 0) throw new Error("the STS interface endpoint has no addresses");
  return inAddressOrder(addresses).map((ip) => `${ip}/32`);
}

/** Distinct IPv4 addresses in numeric order. */
export function inAddressOrder(addresses: readonly string[]): string[] {
  const n = (ip: string) => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  return [...new Set(addresses)].sort((a, b) => n(a) - n(b));
}
