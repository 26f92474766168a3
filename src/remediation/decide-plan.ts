import type { PlanState } from '../domain/plan';
import type { PlanAction, PlanClick, RemediationRequest, RemediationSurface } from '../domain/ports';
import type { Clock, Logger } from '../domain/run-context';
import { type ApprovalPolicy, approvalProblem, kubeIdentityLabel } from './approval';
import type { AuditSink, PlanStore, StoredPlan } from '../domain/stores';


export interface DecisionDeps {
  ledger: PlanStore;
  loadPlan(cluster: string, planId: string): Promise<StoredPlan | undefined>;
  enqueue(job: RemediationRequest, approvalId: string): Promise<{ jobId: string }>;
  surface: RemediationSurface;
  audit: AuditSink;
  /**
   * Where refused clicks are recorded: apart from `audit`, so clicks anyone in a channel can make
   * cannot push decisions and applies out of the bounded audit stream.
   */
  refusals: AuditSink;
  policy: ApprovalPolicy;
  clock: Clock;
  log: Logger;
}

/** The outcome of a click: accepted (queued or recorded) or refused, with the words to show. */
export interface Decision {
  accepted: boolean;
  message: string;
  /** Who decided the plan already, when that is why the click is refused (the chat surface names them). */
  decidedBy?: string;
}

const FROM: Record<PlanAction, PlanState> = { approve: 'proposed', reject: 'proposed', rollback: 'applied' };
const TO: Record<PlanAction, PlanState> = { approve: 'approved', reject: 'rejected', rollback: 'rollback-approved' };

/**
 * Decides one click on Approve / Reject / Rollback. Only ids come from the click; the plan and
 * its state come from Redis, and the state moves by compare-and-set, so a double click, a second
 * approver or a redelivered interaction cannot decide twice. Refusals change nothing; the
 * front end tells the clicker alone why (the returned message), never the thread.
 */
export async function decidePlan(deps: DecisionDeps, click: PlanClick): Promise<Decision> {
  const now = deps.clock();
  const refuse = async (message: string, audited = true, decidedBy?: string): Promise<Decision> => {
    if (audited) await deps.refusals.append({ at: now.toISOString(), event: 'denied', cluster: click.cluster, planId: click.planId, actor: click.user, channel: click.message.channel, reason: message });
    deps.log.info({ planId: click.planId, action: click.action, user: click.user, reason: message }, 'plan click refused');
    return { accepted: false, message, ...(decidedBy ? { decidedBy } : {}) };
  };
  const [entry, stored] = await Promise.all([deps.ledger.get(click.cluster, click.planId), deps.loadPlan(click.cluster, click.planId)]);
  if (!entry || !stored) return refuse('this plan is unknown or expired — re-run /netdoctor for a fresh diagnosis', false);
  if (entry.state !== FROM[click.action]) return refuse(`the plan is already ${entry.state}`, false, entry.decidedBy);
  // A plan is decided only in the thread of the diagnosis it was last proposed for.
  if (click.message.channel !== entry.channel || (entry.parentTs !== undefined && click.message.parentTs !== entry.parentTs)) {
    return refuse('this plan belongs to a newer diagnosis in another thread — decide it there, or re-run /netdoctor here');
  }

  // Rejecting needs an approver too; the validity window only bounds approval of a fresh plan.
  const dryRunAt = click.action === 'approve' ? entry.dryRunAt : now.toISOString();
  const problem = approvalProblem(deps.policy, { approver: click.user, approverGroups: click.userGroups, requestedBy: click.action === 'reject' ? '' : entry.requestedBy, dryRunAt, now });
  if (problem) {
    if (click.action === 'approve' && problem.reason === 'expired') {
      const expired = await deps.ledger.transition(click.cluster, click.planId, ['proposed'], 'expired', {}, now);
      if (expired.ok) {
        await deps.surface.showPlanState(click.message, { planId: click.planId, summary: stored.plan.summary, state: 'expired', at: now.toISOString(), detail: 'expired — re-run /netdoctor', diff: entry.diff, rollbackAvailable: false });
      }
    }
    return refuse(problem.message);
  }

  const decidedAt = now.toISOString();
  // The worker applies only decisions sealed here, with the key Redis does not hold.
  const decisionSeal = click.action === 'reject' || !deps.policy.sealer || !entry.seal ? {} : { decisionSeal: deps.policy.sealer.sealDecision({ proposalSeal: entry.seal, action: click.action, by: click.user, at: decidedAt }) };
  const moved = await deps.ledger.transition(click.cluster, click.planId, [FROM[click.action]], TO[click.action], { decidedBy: click.user, decidedAt, messageTs: click.message.messageTs, ...decisionSeal }, now);
  if (!moved.ok) return refuse(`the plan is already ${moved.state}`, false);
  const identity = deps.policy.identities[click.user];
  await deps.audit.append({ at: decidedAt, event: click.action === 'reject' ? 'rejected' : 'approved', cluster: click.cluster, planId: click.planId, diffHash: entry.diffHash, requestedBy: entry.requestedBy, actor: click.user, channel: click.message.channel, messageTs: click.message.messageTs, ...(identity ? { kubeIdentity: kubeIdentityLabel(identity) } : {}) });
  const detail = click.action === 'reject' ? 'rejected; nothing will be changed' : click.action === 'approve' ? 'approved; applying…' : 'rollback approved; restoring…';
  await deps.surface.showPlanState(click.message, { planId: click.planId, summary: stored.plan.summary, state: TO[click.action], by: click.user, at: now.toISOString(), detail, diff: entry.diff, rollbackAvailable: false });
  if (click.action !== 'reject') {
    await deps.enqueue(
      { cluster: click.cluster, planId: click.planId, action: click.action === 'approve' ? 'apply' : 'rollback', approvedBy: click.user, channel: click.message.channel, messageTs: click.message.messageTs, ...(click.message.parentTs ? { parentTs: click.message.parentTs } : {}) },
      // One job per accepted decision: the compare-and-set above already made the decision single-use.
      `${click.action}-${now.getTime()}`,
    );
  }
  deps.log.info({ planId: click.planId, action: click.action, user: click.user }, 'plan decided');
  return { accepted: true, message: detail };
}
