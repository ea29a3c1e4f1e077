/**
 * The NetworkPolicies of the model namespace's traffic: who may call each model server, and where the
 * servers may connect, by where their weights come from.
 */
import * as pulumi from "@pulumi/pulumi";
import { modelCallers, modelServerName, servicePort } from "../platform/registry";
import { type Registry } from "../platform/designs";
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

/**
 * The namespace's model traffic: each server's callers in; out, by where the weights come from.
 * Streaming servers reach S3 through the gateway endpoint (S3's regional ranges, which a NetworkPolicy
 * can only name as CIDRs: the endpoint's prefix list as read at deploy time) and STS through its
 * interface endpoint in the VPC, on 443; nothing on the internet. Hub servers reach the Hugging Face
 * Hub (and its CDN) over HTTPS, as before.
 */
export function modelTrafficPolicies(
  vpcCidr: string,
  s3Cidrs: pulumi.Input<string[]>,
  sources: ReadonlySet<WeightSource["kind"]>,
  reg: Registry,
): NetworkPolicyDef[] {
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
                {
                  to: pulumi
                    .output(s3Cidrs)
                    .apply((cidrs) => cidrs.map((cidr) => ({ ipBlock: { cidr } }))),
                  ports: [{ protocol: "TCP", port: 443 }],
                },
                // The STS interface endpoint's addresses are in the private subnets, known only after
                // it exists; the VPC is the narrowest range a policy can name before.
                { to: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port: 443 }] },
              ],
            },
          },
        ]
      : []),
  ];
}
