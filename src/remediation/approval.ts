import type { KubeWriter } from '../cluster/kube-writer';
import { refLabel } from '../domain/object-ref';
import type { Plan } from '../domain/plan';

/** Kubernetes identity a Slack user acts as when approving (checked with a SubjectAccessReview). */
export interface KubeIdentity {
  user: string;
  groups: string[];
}

/** Who may approve, by configuration. An empty approver list disables remediation. */
export interface ApprovalPolicy {
  /** Slack user ids allowed to approve. */
  users: string[];
  /** Slack user group ids whose members may approve. */
  groups: string[];
  allowSelfApproval: boolean;
  /** How long after its dry run a plan can be approved. */
  validityMs: number;
  /** Slack user id → Kubernetes identity. An approver without one cannot approve. */
  identities: Record<string, KubeIdentity>;
}

export interface ApprovalRequest {
  approver: string;
  /** Slack user groups the approver belongs to (resolved by the front end). */
  approverGroups: string[];
  requestedBy: string;
  dryRunAt: string;
  now: Date;
}

export function remediationEnabled(policy: ApprovalPolicy): boolean {
  return policy.users.length > 0 || policy.groups.length > 0;
}

/** Why this person may not approve this plan now, or undefined when they may (the cluster still has a say). */
export function approvalProblem(policy: ApprovalPolicy, req: ApprovalRequest): string | undefined {
  if (!remediationEnabled(policy)) return 'remediation is disabled: no approvers are configured (NETDOCTOR_APPROVERS)';
  if (!policy.users.includes(req.approver) && !req.approverGroups.some((g) => policy.groups.includes(g))) {
    return 'you are not a configured approver';
  }
  if (!policy.allowSelfApproval && req.approver === req.requestedBy) {
    return 'the person who requested the diagnosis cannot approve its fix; ask another approver';
  }
  if (req.now.getTime() - Date.parse(req.dryRunAt) > policy.validityMs) {
    return 'the plan expired — re-run /netdoctor for a fresh diagnosis';
  }
  if (!policy.identities[req.approver]) return 'you have no Kubernetes identity mapped (NETDOCTOR_IDENTITY_MAP)';
  return undefined;
}

const VERB = { patch: 'patch', create: 'create', delete: 'delete' } as const;

/** Asks the apiserver whether the approver's Kubernetes identity may perform every operation. */
export async function accessProblem(writer: KubeWriter, identity: KubeIdentity, plan: Plan): Promise<string | undefined> {
  for (const op of plan.operations) {
    const verdict = await writer.allowed({ user: identity.user, groups: identity.groups, verb: VERB[op.action], target: op.target });
    if (!verdict.allowed) {
      return `Kubernetes user ${identity.user} may not ${VERB[op.action]} ${refLabel(op.target)}${verdict.reason ? ` (${verdict.reason})` : ''}`;
    }
  }
  return undefined;
}
