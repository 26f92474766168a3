import type { Config } from '../config';
import type { ApprovalPolicy } from '../remediation/approval';
import { PlanSealer } from '../remediation/plan-seal';
import type { ReadAccessPolicy } from '../remediation/read-access';
import { isUserGroupId } from '../slack/ids';

/** The approval policy the configuration describes. */
export function policyFromConfig(config: Config): ApprovalPolicy {
  return {
    users: config.approvers.filter((id) => !isUserGroupId(id)),
    groups: config.approvers.filter(isUserGroupId),
    allowSelfApproval: config.allowSelfApproval,
    validityMs: config.planValidityMinutes * 60_000,
    identities: config.identityMap,
    ...(config.planKey ? { sealer: new PlanSealer(config.planKey) } : {}),
  };
}

/** Who may see a diagnosis, as the configuration describes it (the identity map is the approvers' one). */
export function readAccessFromConfig(config: Config): ReadAccessPolicy {
  return { mode: config.readAccess, identities: config.identityMap, channelNamespaces: config.channelNamespaces };
}
