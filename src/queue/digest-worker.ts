import { type Job, UnrecoverableError } from 'bullmq';
import { diagnose } from '../engine/diagnose';
import { pickWorkflow } from '../engine/workflow';
import { heapReclaimer } from '../observability/heap';
import { buildDigest, dayIn } from '../engine/digest';
import { type ClusterWorkerDeps, ReleasedJob } from './diagnose-worker';
import { classify } from './failures';
import { parseDigestJob } from './jobs';

export interface DigestDeps extends ClusterWorkerDeps {
  workflow: string;
  timeZone: string;
  /** The configured channel; a job may override it. */
  channel?: string;
  historySize: number;
}

export type DigestOutcome = { day: string; posted: true; runId: string } | { day: string; posted: false; why: string };

/**
 * The digest processor: runs the cluster-wide workflow, compares with the previous digest and
 * publishes. Scheduled jobs claim the day first (SET NX), so two workers, restarts or a
 * too-eager cron still post one digest per cluster per day.
 */
export function digestProcessor(deps: DigestDeps): (job: Job, token?: string, signal?: AbortSignal) => Promise<DigestOutcome> {
  return async (job, _token, signal) => {
    const jobId = job.id!;
    const log = deps.log.child({ jobId, cluster: deps.cluster, queue: 'digest', attempt: job.attemptsMade + 1 });
    const data = parseDigestJob(job.data, deps.cluster);
    const channel = data.channel ?? deps.channel;
    if (!channel) throw new UnrecoverableError('no digest channel: set NETDOCTOR_DIGEST_CHANNEL or trigger the digest from a channel');
    const now = deps.clock();
    const day = dayIn(now, deps.timeZone);
    if (!data.manual) {
      const claim = await deps.store.claimDigestDay(deps.cluster, day, jobId);
      if (claim !== 'claimed') {
        log.info({ day, claim }, 'digest for this day already handled');
        return { day, posted: false, why: claim === 'done' ? 'already posted by this job' : 'another job has the day' };
      }
    }
    try {
      const workflow = pickWorkflow(deps.workflows, deps.workflow);
      const reader = await deps.readerFor(deps.cluster);
      const runId = `digest-${day}`;
      let report;
      try {
        report = await diagnose({ runId, log, clock: deps.clock, reclaimMemory: heapReclaimer() }, reader, workflow, { cluster: deps.cluster }, deps.baselines);
      } finally {
        reader.close?.();
      }
      if (signal?.aborted) throw new ReleasedJob();
      await deps.store.storeReport(deps.cluster, runId, report, now);
      const history = await deps.store.digestHistory(deps.cluster);
      const { digest, record } = buildDigest(deps.cluster, day, report, history, now, deps.historySize);
      await deps.surface.publishDigest(channel, digest);
      await deps.store.appendDigest(deps.cluster, record, deps.historySize);
      if (!data.manual) await deps.store.finishDigestDay(deps.cluster, day, jobId);
      log.info({ day, new: digest.newFindings.length, resolved: digest.resolved.length, persisting: digest.persisting.length }, 'digest published');
      return { day, posted: true, runId };
    } catch (e) {
      if (signal?.aborted) throw e;
      const failure = classify(e);
      const final = !failure.transient || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log.warn({ err: e, final }, 'digest attempt failed');
      if (!final) throw e;
      if (!data.manual) await deps.store.releaseDigestDay(deps.cluster, day, jobId).catch(() => undefined);
      throw e instanceof UnrecoverableError ? e : new UnrecoverableError(failure.reason);
    }
  };
}
