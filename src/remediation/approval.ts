import type { AccessCheck, ClusterWriter } from '../domain/cluster-writer';
import { refLabel } from '../domain/object-ref';
import type { Operation, Plan } from '../domain/plan';
import type { PlanSealer } from './plan-seal';

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
  /** Seals plans with the key outside Redis (NETDOCTOR_PLAN_KEY); without it nothing is proposed or applied. */
  sealer?: PlanSealer;
}

export interface ApprovalRequest {
  approver: string;
  /** Slack user groups the approver belongs to (resolved by the front end). */
  approverGroups: string[];
  requestedBy: string;
  dryRunAt: string;
  now: Date;
}

/** How the audit names the identity the apiserver was asked about: `alice` or `alice (groups sre, oncall)`. */
export function kubeIdentityLabel(identity: KubeIdentity): string {
  return identity.groups.length > 0 ? `${identity.user} (groups ${identity.groups.join(', ')})` : identity.user;
}

export function remediationEnabled(policy: ApprovalPolicy): policy is ApprovalPolicy & { sealer: PlanSealer } {
  return (policy.users.length > 0 || policy.groups.length > 0) && policy.sealer !== undefined;
}

/** Why remediation is off, in the words the user reads. */
export function disabledReason(policy: ApprovalPolicy): string {
  return policy.users.length > 0 || policy.groups.length > 0
    ? 'remediation is disabled: no plan key is configured (NETDOCTOR_PLAN_KEY)'
    : 'remediation is disabled: no approvers are configured (NETDOCTOR_APPROVERS)';
}

/** Why a click may not approve (or decide) a plan: a stable reason and the words the user reads. */
export interface ApprovalRefusal {
  reason: 'disabled' | 'not-approver' | 'self-approval' | 'expired' | 'no-identity';
  message: string;
}

/** Why this person may not approve this plan now, or undefined when they may (the cluster still has a say). */
export function approvalProblem(policy: ApprovalPolicy, req: ApprovalRequest): ApprovalRefusal | undefined {
  if (!remediationEnabled(policy)) return { reason: 'disabled', message: disabledReason(policy) };
  if (!policy.users.includes(req.approver) && !req.approverGroups.some((g) => policy.groups.includes(g))) {
    return { reason: 'not-approver', message: 'you are not a configured approver' };
  }
  if (!policy.allowSelfApproval && req.approver === req.requestedBy) {
    return { reason: 'self-approval', message: 'the person who requested the diagnosis cannot approve its fix; ask another approver' };
  }
  if (req.now.getTime() - Date.parse(req.dryRunAt) > policy.validityMs) {
    return { reason: 'expired', message: 'the plan expired — re-run /netdoctor for a fresh diagnosis' };
  }
  if (!policy.identities[req.approver]) return { reason: 'no-identity', message: 'you have no Kubernetes identity mapped (NETDOCTOR_IDENTITY_MAP)' };
  return undefined;
}

const VERB = { patch: 'patch', create: 'create', delete: 'delete' } as const;

/**
 * The questions one operation puts to the apiserver for the approver. Besides the write itself,
 * RBAC objects carry RBAC's own rules, so netdoctor cannot grant through an approver what the
 * approver could not grant: a (Cluster)RoleBinding needs `bind` on the role it references, and
 * a (Cluster)Role created or changed needs `escalate` on it.
 */
function accessChecks(identity: KubeIdentity, op: Operation): AccessCheck[] {
  const who = { user: identity.user, groups: identity.groups };
  const checks: AccessCheck[] = [{ ...who, verb: VERB[op.action], target: op.target }];
  if (op.action === 'delete') return checks;
  if (/^(Cluster)?RoleBinding$/.test(op.target.kind)) {
    const roleRef = (op.body as { roleRef?: { kind?: string; name?: string } } | undefined)?.roleRef;
    const kind = roleRef?.kind === 'ClusterRole' ? 'ClusterRole' : 'Role';
    // A patch cannot change roleRef (immutable); its binding's role is the one it has.
    if (roleRef?.name) checks.push({ ...who, verb: 'bind', target: { kind, name: roleRef.name, ...(kind === 'Role' && op.target.namespace ? { namespace: op.target.namespace } : {}) } });
  }
  if (/^(Cluster)?Role$/.test(op.target.kind)) checks.push({ ...who, verb: 'escalate', target: op.target });
  return checks;
}

/** Asks the apiserver whether the approver's Kubernetes identity may perform every operation. */
export async function accessProblem(writer: ClusterWriter, identity: KubeIdentity, plan: Plan): Promise<string | undefined> {
  for (const op of plan.operations) {
    for (const check of accessChecks(identity, op)) {
      const verdict = await writer.allowed(check);
      if (!verdict.allowed) return `Kubernetes user ${identity.user} may not ${check.verb} ${refLabel(check.target)}${verdict.reason ? ` (${verdict.reason})` : ''}`;
    }
  }
  return undefined;
}
