import type { AuditLog } from '../audit/audit-log';
import type { PlanState } from '../domain/plan';
import type { PlanAction, PlanClick, RemediationSurface } from '../domain/ports';
import type { Clock, Logger } from '../domain/run-context';
import { type ApprovalPolicy, approvalProblem } from '../remediation/approval';
import type { RemediateJob } from './jobs';
import type { PlanEntry, PlanLedger } from './plan-ledger';
import type { StoredPlan } from './run-store';


export interface DecisionDeps {
  ledger: PlanLedger;
  loadPlan(cluster: string, planId: string): Promise<StoredPlan | undefined>;
  enqueue(job: RemediateJob, approvalId: string): Promise<{ jobId: string }>;
  surface: RemediationSurface;
  audit: AuditLog;
  policy: ApprovalPolicy;
  clock: Clock;
  log: Logger;
}

/** The outcome of a click: accepted (queued or recorded) or refused, with the words to show. */
export interface Decision {
  accepted: boolean;
  message: string;
}

const FROM: Record<PlanAction, PlanState> = { approve: 'proposed', reject: 'proposed', rollback: 'applied' };
const TO: Record<PlanAction, PlanState> = { approve: 'approved', reject: 'rejected', rollback: 'rollback-approved' };

function who(entry: PlanEntry): string {
  return entry.decidedBy ? ` by <@${entry.decidedBy}>` : '';
}

/**
 * Decides one click on Approve / Reject / Rollback. Only ids come from the click; the plan and
 * its state come from Redis, and the state moves by compare-and-set, so a double click, a second
 * approver or a redelivered interaction cannot decide twice. Refusals change nothing and say
 * why in the thread.
 */
export async function decidePlan(deps: DecisionDeps, click: PlanClick): Promise<Decision> {
  const now = deps.clock();
  const refuse = async (message: string, audited = true): Promise<Decision> => {
    if (audited) await deps.audit.append({ at: now.toISOString(), event: 'denied', cluster: click.cluster, planId: click.planId, actor: click.user, channel: click.message.channel, reason: message });
    if (click.message.parentTs) await deps.surface.postToThread(click.message.channel, click.message.parentTs, `could not ${click.action} ${click.planId}: ${message}`, click.user);
    deps.log.info({ planId: click.planId, action: click.action, user: click.user, reason: message }, 'plan click refused');
    return { accepted: false, message };
  };
  const [entry, stored] = await Promise.all([deps.ledger.get(click.cluster, click.planId), deps.loadPlan(click.cluster, click.planId)]);
  if (!entry || !stored) return refuse('this plan is unknown or expired — re-run /netdoctor for a fresh diagnosis', false);
  if (entry.state !== FROM[click.action]) return refuse(`the plan is already ${entry.state}${who(entry)}`, false);

  // Rejecting needs an approver too; the validity window only bounds approval of a fresh plan.
  const dryRunAt = click.action === 'approve' ? entry.dryRunAt : now.toISOString();
  const problem = approvalProblem(deps.policy, { approver: click.user, approverGroups: click.userGroups, requestedBy: click.action === 'reject' ? '' : entry.requestedBy, dryRunAt, now });
  if (problem) {
    if (click.action === 'approve' && /expired/.test(problem)) {
      const expired = await deps.ledger.transition(click.cluster, click.planId, ['proposed'], 'expired', {}, now);
      if (expired.ok) {
        await deps.surface.showPlanState(click.message, { planId: click.planId, summary: stored.plan.summary, state: 'expired', at: now.toISOString(), detail: 'expired — re-run /netdoctor', diff: entry.diff, rollbackAvailable: false });
      }
    }
    return refuse(problem);
  }

  const moved = await deps.ledger.transition(click.cluster, click.planId, [FROM[click.action]], TO[click.action], { decidedBy: click.user, decidedAt: now.toISOString(), messageTs: click.message.messageTs }, now);
  if (!moved.ok) return refuse(`the plan is already ${moved.state}`, false);
  await deps.audit.append({ at: now.toISOString(), event: click.action === 'reject' ? 'rejected' : 'approved', cluster: click.cluster, planId: click.planId, diffHash: entry.diffHash, requestedBy: entry.requestedBy, actor: click.user, channel: click.message.channel, messageTs: click.message.messageTs });
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
