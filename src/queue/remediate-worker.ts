import { type Job, UnrecoverableError } from 'bullmq';
import type { AuditEntry, AuditLog } from '../audit/audit-log';
import { CHECKS } from '../checks';
import type { RawObject } from '../cluster/snapshot';
import { refLabel, sameRef } from '../domain/object-ref';
import type { Plan, PlanState } from '../domain/plan';
import type { PlanMessageRef, RemediationSurface } from '../domain/ports';
import type { Clock, Logger } from '../domain/run-context';
import type { Metrics, RemediationOutcome } from '../observability/metrics';
import { diagnose } from '../engine/diagnose';
import type { Workflow } from '../engine/workflow';
import { type ApprovalPolicy, accessProblem } from '../remediation/approval';
import { type AppliedChange, type ApplyOutcome, applyPlan, rollbackPlan } from '../remediation/execute-plan';
import { type Verdict, verifyPlan } from '../remediation/verify';
import type { ReaderFactory } from './diagnose-worker';
import { type RemediateJob, parseRemediateJob } from './jobs';
import type { PlanEntry, PlanLedger } from './plan-ledger';
import type { WriterFactory } from './plan-proposer';
import type { RunStore, StoredPlan } from './run-store';

export interface RemediateDeps {
  cluster: string;
  writerFor: WriterFactory;
  readerFor: ReaderFactory;
  ledger: PlanLedger;
  store: RunStore;
  audit: AuditLog;
  surface: RemediationSurface;
  policy: ApprovalPolicy;
  verifyTimeoutMs: number;
  log: Logger;
  clock: Clock;
  metrics?: Metrics;
}

/** How each end of a remediation run is counted. */
const OUTCOME_METRIC: Partial<Record<PlanState, RemediationOutcome>> = { denied: 'unauthorized', conflict: 'stale', failed: 'failed', noop: 'noop', 'rolled-back': 'rolled_back', 'rollback-failed': 'failed' };

/** What an apply outcome moves the plan to. */
const APPLY_STATE: Record<ApplyOutcome['status'], PlanState> = { applied: 'applied', noop: 'noop', conflict: 'conflict', failed: 'failed' };
const ROLLBACK_STATE: Record<ApplyOutcome['status'], PlanState> = { applied: 'rolled-back', noop: 'rolled-back', conflict: 'rollback-failed', failed: 'rollback-failed' };

const rv = (o: RawObject | undefined): string | undefined => (o?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;

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

/** Re-runs the plan's originating check on a fresh live read: what still fires on its subject. */
async function recheck(deps: RemediateDeps, stored: StoredPlan): Promise<string[]> {
  const plan = stored.plan;
  const check = CHECKS.find((c) => c.id === plan.verify.check);
  if (!check) return [];
  const workflow: Workflow = { name: `verify-${check.id}`, description: 'verification', scope: stored.namespace ? 'namespace' : 'cluster', checks: [check] };
  const reader = await deps.readerFor(deps.cluster);
  try {
    const report = await diagnose({ runId: `verify-${plan.id}`, log: deps.log, clock: deps.clock }, reader, workflow, { cluster: deps.cluster, namespace: stored.namespace });
    return report.findings.filter((f) => f.severity !== 'info' && sameRef(f.subject, plan.verify.subject)).map((f) => f.summary);
  } finally {
    reader.close?.();
  }
}

/**
 * The remediate processor: one approved plan (or its rollback), applied at most once. The
 * queue never retries it (attempts 1, maxStalledCount 0): a run that dies mid-way ends failed
 * and a human looks, because a second automatic write could act on a changed cluster.
 */
export function remediateProcessor(deps: RemediateDeps): (job: Job) => Promise<{ state: PlanState; verdict?: Verdict['status'] }> {
  return async (job) => {
    const data = parseRemediateJob(job.data, deps.cluster);
    const log = deps.log.child({ jobId: job.id, planId: data.planId, cluster: deps.cluster, queue: 'remediate', action: data.action });
    const [stored, entry] = await Promise.all([deps.store.loadPlan(deps.cluster, data.planId), deps.ledger.get(deps.cluster, data.planId)]);
    if (!stored || !entry) throw new UnrecoverableError(`plan ${data.planId} is unknown or expired`);
    const rollback = data.action === 'rollback';
    const expected: PlanState = rollback ? 'rollback-approved' : 'approved';
    if (entry.state !== expected) throw new UnrecoverableError(`plan ${data.planId} is ${entry.state}, not ${expected}`);

    const ref: PlanMessageRef | undefined = data.messageTs ? { channel: data.channel, messageTs: data.messageTs, ...(data.parentTs ? { parentTs: data.parentTs } : {}) } : undefined;
    const tell = async (state: PlanState, detail: string, rollbackAvailable = false): Promise<void> => {
      const at = deps.clock().toISOString();
      if (ref) await deps.surface.showPlanState(ref, { planId: data.planId, summary: stored.plan.summary, state, by: data.approvedBy, at, detail, diff: entry.diff, rollbackAvailable });
      if (data.parentTs) await deps.surface.postToThread(data.channel, data.parentTs, `${stored.plan.summary}: ${detail}`, data.approvedBy);
    };
    const audit = (event: AuditEntry['event'], extra: Partial<AuditEntry>): Promise<string> =>
      deps.audit.append({ at: deps.clock().toISOString(), event, cluster: deps.cluster, planId: data.planId, diffHash: entry.diffHash, requestedBy: entry.requestedBy, actor: data.approvedBy, channel: data.channel, ...(data.messageTs ? { messageTs: data.messageTs } : {}), ...extra });

    const plan: Plan = rollback ? rollbackPlan(stored.plan, ((entry.result as { changes?: AppliedChange[] } | undefined)?.changes ?? [])) : stored.plan;
    const writer = await deps.writerFor(deps.cluster);
    try {
      const identity = deps.policy.identities[data.approvedBy];
      const denied = identity ? await accessProblem(writer, identity, plan) : 'the approver has no Kubernetes identity mapped (NETDOCTOR_IDENTITY_MAP)';
      if (denied) {
        await deps.ledger.transition(deps.cluster, data.planId, [expected], rollback ? 'applied' : 'denied', { decidedBy: data.approvedBy }, deps.clock());
        await audit('denied', { reason: denied });
        await tell(rollback ? 'applied' : 'denied', `refused: ${denied}; nothing was changed`, rollback);
        log.warn({ reason: denied }, 'approver not allowed by the cluster');
        deps.metrics?.recordRemediation('unauthorized', stored.plan.verify.check);
        return { state: rollback ? 'applied' : 'denied' };
      }

      const outcome = await applyPlan(writer, plan);
      const state = (rollback ? ROLLBACK_STATE : APPLY_STATE)[outcome.status];
      const changes = outcome.status === 'applied' || outcome.status === 'failed' ? outcome.changes : [];
      const result = rollback ? { ...(entry.result as object), rollback: { outcome: outcome.status } } : { outcome: outcome.status, changes };
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

      await tell(state, `${describe(outcome, false)}; verifying…`, true);
      const verdict = await verifyPlan(writer, plan, { timeoutMs: deps.verifyTimeoutMs, recheck: () => recheck(deps, stored) });
      await deps.ledger.annotate(deps.cluster, data.planId, { result: { ...result, verdict } } as Partial<PlanEntry>, deps.clock());
      await audit('verified', { verdict: verdict.status, result: verdict.detail });
      deps.metrics?.recordRemediation(verdict.status === 'fixed' ? 'applied' : 'verify_failed', stored.plan.verify.check);
      const words = verdict.status === 'fixed' ? `fixed — ${verdict.detail}` : verdict.status === 'not-fixed' ? `not fixed — ${verdict.stillFailing.join('; ')}` : `unverified — ${verdict.detail}`;
      await tell(state, `${describe(outcome, false)}; ${words}`, true);
      return { state, verdict: verdict.status };
    } finally {
      writer.close?.();
    }
  };
}

export type { RemediateJob };
