/**
 * The llm-platform CrossGuard policy pack: `pulumi preview --policy-pack policy` (add
 * `--policy-pack-config policy/prod.json` for prod, which also forbids moving image tags).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("llm-platform", { policies });
