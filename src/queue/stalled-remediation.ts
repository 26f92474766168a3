import { Job, Queue, QueueEvents } from 'bullmq';
import type { AuditLog } from '../store/audit-log';
import { refLabel } from '../domain/object-ref';
import type { RemediationSurface } from '../domain/ports';
import type { Clock, Logger } from '../domain/run-context';
import { STALLED_REASON } from './diagnose-worker';
import { parseRemediateJob } from './jobs';
import type { PlanLedger } from '../store/plan-ledger';
import type { BullConnections } from './redis';
import type { RunStore } from '../store/run-store';

export interface StalledRemediationDeps {
  cluster: string;
  store: RunStore;
  ledger: PlanLedger;
  audit: AuditLog;
  surface: RemediationSurface;
  log: Logger;
  clock: Clock;
}

/**
 * BullMQ fails a remediation whose worker died under it (maxStalledCount 0) inside Redis,
 * without our processor: the plan message would say "applying…" forever and the audit would
 * miss a write that may have happened. Every worker hears the failed event; one tells the
 * approver and audits it. The plan keeps its state: nothing re-runs it, a human checks.
 */
export async function reportStalledRemediation(jobId: string, queue: Queue, deps: StalledRemediationDeps): Promise<void> {
  if (!(await deps.store.claimOnce(deps.cluster, `stalled-remediate-${jobId}`))) return;
  const job = await Job.fromId(queue, jobId);
  if (!job) return;
  let data: ReturnType<typeof parseRemediateJob>;
  try {
    data = parseRemediateJob(job.data, deps.cluster);
  } catch {
    return; // bad data never reached a channel
  }
  const [stored, entry] = await Promise.all([deps.store.loadPlan(deps.cluster, data.planId), deps.ledger.get(deps.cluster, data.planId)]);
  const targets = stored ? stored.plan.operations.map((op) => refLabel(op.target)).join(', ') : 'its targets';
  const detail = `interrupted: the worker ${data.action === 'rollback' ? 'rolling back' : 'applying'} this plan stopped mid-way (crashed, killed or out of memory) and it is not retried; ${targets} may or may not have been changed — check before acting, then re-run /netdoctor`;
  const at = deps.clock().toISOString();
  await deps.audit.append({ at, event: data.action === 'rollback' ? 'rollback-failed' : 'failed', cluster: deps.cluster, planId: data.planId, ...(entry ? { diffHash: entry.diffHash, requestedBy: entry.requestedBy } : {}), actor: data.approvedBy, channel: data.channel, ...(data.messageTs ? { messageTs: data.messageTs } : {}), result: detail });
  if (data.messageTs && stored && entry) {
    const ref = { channel: data.channel, messageTs: data.messageTs, ...(data.parentTs ? { parentTs: data.parentTs } : {}) };
    await deps.surface.showPlanState(ref, { planId: data.planId, summary: stored.plan.summary, state: entry.state, by: data.approvedBy, at, detail, diff: entry.diff, rollbackAvailable: false });
  }
  if (data.parentTs) await deps.surface.postToThread(data.channel, data.parentTs, `${stored?.plan.summary ?? data.planId}: ${detail}`, data.approvedBy);
  deps.log.warn({ jobId, planId: data.planId, action: data.action }, 'remediation stalled and failed; approver told');
}

export interface StalledRemediationWatch {
  ready(): Promise<unknown>;
  close(): Promise<void>;
}

/** Listens for remediate jobs failed as stalled and reports each once (see reportStalledRemediation). */
export function watchStalledRemediations(at: { name: string; prefix: string }, connections: BullConnections, deps: StalledRemediationDeps): StalledRemediationWatch {
  const queue = new Queue(at.name, { connection: connections.connection('worker'), prefix: at.prefix });
  queue.on('error', (err) => deps.log.warn({ err }, 'remediate queue error'));
  const events = new QueueEvents(at.name, { connection: connections.connection('worker'), prefix: at.prefix });
  events.on('error', (err) => deps.log.warn({ err }, 'remediate events error'));
  events.on('failed', ({ jobId, failedReason }) => {
    if (failedReason !== STALLED_REASON) return;
    reportStalledRemediation(jobId, queue, deps).catch((err: unknown) => deps.log.warn({ err, jobId }, 'could not report a stalled remediation'));
  });
  return {
    ready: () => events.waitUntilReady(),
    close: async () => {
      await Promise.all([events.close(), queue.close()]);
    },
  };
}
