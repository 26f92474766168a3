import { NetdoctorError } from '../domain/errors';
import { refLabel } from '../domain/object-ref';
import { type AppliedChange, type Plan, type PlanResult, type PlanState, type PlanVerdict, planId } from '../domain/plan';
import type { PlanMessageRef, PlanStateView, RemediationMetrics, RemediationOutcome, RemediationRequest, RemediationSurface } from '../domain/ports';
import type { Clock, Logger } from '../domain/run-context';
import type { AuditEntry, AuditSink, PlanEntry, PlanStore, RunStore, StoredPlan } from '../domain/stores';
import { type ApprovalPolicy, accessProblem, kubeIdentityLabel } from './approval';
import { type ApplyOutcome, applyPlan, resourceVersionOf as rv, rollbackPlan } from './execute-plan';
import type { WriterFactory } from '../domain/cluster-writer';
import type { PlanSealer, SealedProposal } from './plan-seal';
import { verifyPlan } from './verify';

export interface RemediationDeps {
  cluster: string;
  writerFor: WriterFactory;
  /** Re-runs the plan's originating check on a fresh read: what still fires on its subject. */
  recheck(plan: Plan, namespace: string | undefined): Promise<string[]>;
  /** Re-runs the plan's originating check on a fresh read: the plans it proposes now for the subject. */
  proposeAgain(plan: Plan, namespace: string | undefined): Promise<Plan[]>;
  ledger: PlanStore;
  store: RunStore;
  audit: AuditSink;
  surface: RemediationSurface;
  policy: ApprovalPolicy;
  verifyTimeoutMs: number;
  log: Logger;
  clock: Clock;
  metrics?: RemediationMetrics;
}

/** How each end of a remediation run is counted. */
const OUTCOME_METRIC: Partial<Record<PlanState, RemediationOutcome>> = { denied: 'unauthorized', conflict: 'stale', failed: 'failed', noop: 'noop', 'rolled-back': 'rolled_back', 'rollback-failed': 'failed' };

/** What an apply outcome moves the plan to. */
const APPLY_STATE: Record<ApplyOutcome['status'], PlanState> = { applied: 'applied', noop: 'noop', conflict: 'conflict', failed: 'failed' };
const ROLLBACK_STATE: Record<ApplyOutcome['status'], PlanState> = { applied: 'rolled-back', noop: 'rolled-back', conflict: 'rollback-failed', failed: 'rollback-failed' };

function describe(outcome: ApplyOutcome, rollback: boolean): string {
  switch (outcome.status) {
    case 'applied':
      return rollback ? 'rolled back: the prior spec is restored' : `applied: ${outcome.changes.map((c) => refLabel(c.operation.target)).join(', ')} changed`;
    case 'noop':
      return `nothing to do: ${outcome.reason}`;
    case 'conflict':
      return `not applied: ${outcome.reason}. Run /netdoctor again for a fresh diagnosis`;
    case 'failed':
      return `failed: ${outcome.reason}`;
  }
}

/** What one remediation run ends in. */
export interface RemediationResult {
  state: PlanState;
  verdict?: PlanVerdict['status'];
}

/** The context rollback data is sealed to: it opens only for this plan of this cluster, as proposed. */
function changesContext(cluster: string, planId: string, seal: string | undefined): string {
  return `${cluster}/${planId}/${seal ?? ''}`;
}

/** Why the stored plan and its approval are not what `serve` sealed, or undefined when they are. */
function integrityProblem(sealer: PlanSealer, cluster: string, stored: StoredPlan, entry: PlanEntry, data: RemediationRequest): string | undefined {
  const proposal: SealedProposal = {
    cluster,
    ...(stored.namespace ? { namespace: stored.namespace } : {}),
    plan: stored.plan,
    requestedBy: entry.requestedBy,
    channel: entry.channel,
    ...(entry.parentTs ? { parentTs: entry.parentTs } : {}),
    dryRunAt: entry.dryRunAt,
    expiresAt: entry.expiresAt ?? '',
    diffHash: entry.diffHash,
  };
  if (stored.cluster !== cluster || stored.plan.id !== data.planId || !sealer.checkProposal(proposal, entry.seal)) return 'the stored plan does not match what netdoctor proposed (it was altered in Redis)';
  const decision = { proposalSeal: entry.seal!, action: data.action === 'rollback' ? 'rollback' : 'approve', by: data.approvedBy, at: entry.decidedAt ?? '' } as const;
  if (entry.decidedBy !== data.approvedBy || data.channel !== entry.channel || !sealer.checkDecision(decision, entry.decisionSeal)) return 'the approval does not match a decision netdoctor recorded (it was altered in Redis)';
  return undefined;
}

/**
 * One approved plan (or its rollback), applied at most once. Before any write: the plan and its
 * approval must carry valid seals (a key outside Redis), an apply must be within the plan's
 * validity, the approver's Kubernetes identity must be allowed every operation (SubjectAccessReview),
 * and the check that proposed the plan, re-run on a fresh read, must propose the same plan.
 * Then apply → record in the ledger and the audit log → tell the thread → verify → tell.
 * A plan that is unknown or not in the approved state is refused with `plan_unavailable`.
 */
export async function runRemediation(deps: RemediationDeps, data: RemediationRequest, parentLog: Logger): Promise<RemediationResult> {
  const log = parentLog.child({ planId: data.planId, cluster: deps.cluster, action: data.action });
  const [stored, entry] = await Promise.all([deps.store.loadPlan(deps.cluster, data.planId), deps.ledger.get(deps.cluster, data.planId)]);
  if (!stored || !entry) throw new NetdoctorError('plan_unavailable', `plan ${data.planId} is unknown or expired`);
  const rollback = data.action === 'rollback';
  const expected: PlanState = rollback ? 'rollback-approved' : 'approved';
  if (entry.state !== expected) throw new NetdoctorError('plan_unavailable', `plan ${data.planId} is ${entry.state}, not ${expected}`);

  const ref: PlanMessageRef | undefined = data.messageTs ? { channel: data.channel, messageTs: data.messageTs, ...(data.parentTs ? { parentTs: data.parentTs } : {}) } : undefined;
  const tell = async (state: PlanState, detail: string, rollbackAvailable = false, verdict?: PlanStateView['verdict']): Promise<void> => {
    const at = deps.clock().toISOString();
    if (ref) await deps.surface.showPlanState(ref, { planId: data.planId, summary: stored.plan.summary, state, by: data.approvedBy, at, detail, diff: entry.diff, rollbackAvailable, ...(verdict ? { verdict } : {}) });
    // One thread message per decision, its outcome: the steps before it only edit the plan's message.
    if (data.parentTs && verdict !== 'pending') await deps.surface.postToThread(data.channel, data.parentTs, `${stored.plan.summary}: ${detail}`, data.approvedBy);
  };
  const identity = deps.policy.identities[data.approvedBy];
  const kubeIdentity = identity ? kubeIdentityLabel(identity) : undefined;
  const audit = (event: AuditEntry['event'], extra: Partial<AuditEntry>): Promise<string> =>
    deps.audit.append({ at: deps.clock().toISOString(), event, cluster: deps.cluster, planId: data.planId, diffHash: entry.diffHash, requestedBy: entry.requestedBy, actor: data.approvedBy, channel: data.channel, ...(data.messageTs ? { messageTs: data.messageTs } : {}), ...(kubeIdentity ? { kubeIdentity } : {}), ...extra });
  /** Ends the run without a write: the plan moves to `state`, the audit and the thread say why. */
  const refuse = async (state: PlanState, event: AuditEntry['event'], reason: string, metric: RemediationOutcome): Promise<RemediationResult> => {
    const to: PlanState = rollback ? 'applied' : state;
    await deps.ledger.transition(deps.cluster, data.planId, [expected], to, { decidedBy: data.approvedBy }, deps.clock());
    await audit(event, { reason });
    await tell(to, `refused: ${reason}; nothing was changed`, rollback);
    log.warn({ reason }, 'remediation refused');
    deps.metrics?.recordRemediation(metric, stored.plan.verify.check);
    return { state: to };
  };

  const sealer = deps.policy.sealer;
  if (!sealer) return refuse('denied', 'denied', 'no plan key is configured (NETDOCTOR_PLAN_KEY)', 'unauthorized');
  const tampered = integrityProblem(sealer, deps.cluster, stored, entry, data);
  if (tampered) return refuse('denied', 'denied', tampered, 'unauthorized');
  if (!rollback && deps.clock().getTime() > Date.parse(entry.expiresAt ?? '')) return refuse('expired', 'denied', `the plan expired at ${entry.expiresAt} before it could be applied — re-run /netdoctor`, 'stale');
  const context = changesContext(deps.cluster, data.planId, entry.seal);
  const applied = rollback ? (sealer.decrypt(entry.result?.sealedChanges, context) as AppliedChange[] | undefined) : [];
  if (!applied) return refuse('denied', 'denied', 'the rollback data does not match what netdoctor recorded (it was altered in Redis)', 'unauthorized');

  const plan: Plan = rollback ? rollbackPlan(stored.plan, applied) : stored.plan;
  const writer = await deps.writerFor(deps.cluster);
  try {
    const denied = identity ? await accessProblem(writer, identity, plan) : 'the approver has no Kubernetes identity mapped (NETDOCTOR_IDENTITY_MAP)';
    if (denied) return await refuse('denied', 'denied', denied, 'unauthorized');
    if (!rollback) {
      const now = await deps.proposeAgain(stored.plan, stored.namespace);
      if (!now.some((p) => planId(p.operations) === planId(stored.plan.operations))) {
        return await refuse('conflict', 'conflict', `the cluster changed since the plan: ${stored.plan.verify.check} ${now.length > 0 ? 'now proposes a different change' : 'no longer proposes it'}. Run /netdoctor again for a fresh diagnosis`, 'stale');
      }
    }

    const outcome = await applyPlan(writer, plan);
    const state = (rollback ? ROLLBACK_STATE : APPLY_STATE)[outcome.status];
    const changes = outcome.status === 'applied' || outcome.status === 'failed' ? outcome.changes : [];
    const result: PlanResult = rollback
      ? { ...(entry.result ?? { outcome: 'applied' }), rollback: { outcome: outcome.status } }
      : { outcome: outcome.status, sealedChanges: sealer.encrypt(changes, context) };
    await deps.ledger.transition(deps.cluster, data.planId, [expected], state, { result }, deps.clock());
    await audit(rollback ? (state === 'rolled-back' ? 'rolled-back' : 'rollback-failed') : outcome.status, {
      result: describe(outcome, rollback),
      targets: changes.map((c) => ({ ref: refLabel(c.operation.target), ...(rv(c.before) ? { resourceVersionBefore: rv(c.before) } : {}), ...(rv(c.after) ? { resourceVersionAfter: rv(c.after) } : {}) })),
    });
    log.info({ outcome: outcome.status, state }, 'plan executed');
    if (rollback || outcome.status !== 'applied') {
      const counted = OUTCOME_METRIC[state];
      if (counted) deps.metrics?.recordRemediation(counted, stored.plan.verify.check);
      await tell(state, describe(outcome, rollback));
      return { state };
    }

    await tell(state, `${describe(outcome, false)}; verifying…`, true, 'pending');
    const verdict = await verifyPlan(writer, plan, { timeoutMs: deps.verifyTimeoutMs, recheck: () => deps.recheck(plan, stored.namespace) });
    await deps.ledger.annotate(deps.cluster, data.planId, { result: { ...result, verdict } }, deps.clock());
    await audit('verified', { verdict: verdict.status, result: verdict.detail });
    deps.metrics?.recordRemediation(verdict.status === 'fixed' ? 'applied' : 'verify_failed', stored.plan.verify.check);
    const words = verdict.status === 'fixed' ? `fixed — ${verdict.detail}` : verdict.status === 'not-fixed' ? `not fixed — ${verdict.stillFailing.join('; ')}` : `unverified — ${verdict.detail}`;
    await tell(state, `${describe(outcome, false)}; ${words}`, true, verdict.status);
    return { state, verdict: verdict.status };
  } finally {
    writer.close?.();
  }
}
