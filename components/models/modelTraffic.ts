/**
 * The NetworkPolicies of the model namespace's traffic: who may call each model server, and where the
 * servers may connect, by where their weights come from.
 */
import * as pulumi from "@pulumi/pulumi";
import { modelCallers, modelServerName, servicePort } from "../platform/registry";
import { type Registry } from "../platform/designs";
import { stsEndpointCidrs } from "../lib/aws/stsEndpoint";
import { allowHttpsEgress, podsIn, type NetworkPolicyDef } from "../lib/k8s/networkPolicies";
import { weightsFromLabel } from "./modelServer";
import type { WeightSource } from "./weightSource";

/**
 * Who may call a model server: its client service, and the gateway unless the variant is
 * client-only (the LoRA server, whose runtime adapter admin endpoints only finetune-api may reach).
 */
function modelClientPolicy(variant: string, reg: Registry): NetworkPolicyDef {
  const app = modelServerName(variant);
  return {
    name: `allow-clients-to-${app}-${servicePort}`,
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: modelCallers(variant, reg).map((c) =>
            podsIn(reg.services[c]!.namespace, { app: c }),
          ),
          ports: [{ protocol: "TCP", port: servicePort }],
        },
      ],
    },
  };
}

/** The VPC's private paths to AWS a streaming server may take. */
export interface AwsEndpoints {
  /** S3's regional ranges behind the gateway endpoint (its prefix list as read at deploy time). */
  readonly s3Cidrs: pulumi.Input<string[]>;
  /** The STS interface endpoint's addresses, one per private subnet. */
  readonly stsEndpointAddresses: pulumi.Input<string[]>;
}

/**
 * The namespace's model traffic: each server's callers in; out, by where the weights come from.
 * Streaming servers reach S3 through the gateway endpoint (S3's regional ranges, which a NetworkPolicy
 * can only name as CIDRs) and STS through its interface endpoint (its addresses, each a /32), on 443;
 * nothing else in the VPC, nothing on the internet. Hub servers reach the Hugging Face Hub (and its
 * CDN) over HTTPS, as before.
 */
export function modelTrafficPolicies(
  vpcCidr: string,
  endpoints: AwsEndpoints,
  sources: ReadonlySet<WeightSource["kind"]>,
  reg: Registry,
): NetworkPolicyDef[] {
  const https = [{ protocol: "TCP", port: 443 }];
  const to = (cidrs: pulumi.Input<string[]>) =>
    pulumi.output(cidrs).apply((list) => list.map((cidr) => ({ ipBlock: { cidr } })));
  return [
    ...Object.keys(reg.models).map((v) => modelClientPolicy(v, reg)),
    ...(sources.has("hub")
      ? [
          allowHttpsEgress(
            "allow-https-to-hugging-face-hub",
            { [weightsFromLabel]: "hub" },
            vpcCidr,
          ),
        ]
      : []),
    ...(sources.has("store")
      ? [
          {
            name: "allow-streamers-to-s3-and-sts",
            spec: {
              podSelector: { matchLabels: { [weightsFromLabel]: "store" } },
              policyTypes: ["Egress"],
              egress: [
                { to: to(endpoints.s3Cidrs), ports: https },
                // Known once the endpoint exists: a first preview shows the rule as unknown, as it
                // does the pods' hostAliases; no wider range stands in for them.
                {
                  to: to(pulumi.output(endpoints.stsEndpointAddresses).apply(stsEndpointCidrs)),
                  ports: https,
                },
              ],
            },
          },
        ]
      : []),
  ];
}
