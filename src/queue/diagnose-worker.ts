import { Job, type Queue, UnrecoverableError } from 'bullmq';
import type { BaselineStore } from '../domain/baseline';
import type { ClusterReader, ReaderFactory } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import type { ChatSurface, DiagnoseRequest, PlanProposal, RunRef, RunStage } from '../domain/ports';
import { type Report, verdictOf } from '../domain/report';
import type { Metrics } from '../observability/metrics';
import { heapReclaimer } from '../observability/heap';
import type { Clock, Logger } from '../domain/run-context';
import { diagnose } from '../engine/diagnose';
import { type Workflow, pickWorkflow } from '../engine/workflow';
import { classify } from './failures';
import { type DiagnoseJob, type DiagnoseResult, type RunProgress, parseDiagnoseJob } from './jobs';
import { type ProposerDeps, proposePlans } from '../remediation/propose-plans';
import type { RunStore } from '../store/run-store';

/** What every run-making worker (diagnose, digest) of one cluster needs. */
export interface ClusterWorkerDeps {
  cluster: string;
  surface: ChatSurface;
  readerFor: ReaderFactory;
  workflows: Map<string, Workflow>;
  store: RunStore;
  log: Logger;
  clock: Clock;
  /** Known-good baselines: changes since the last healthy run (the digest: since yesterday) become evidence. */
  baselines?: BaselineStore;
}

export interface DiagnoseDeps extends ClusterWorkerDeps {
  /** When remediation is wired: plans are dry-run on the cluster and proposed for approval. */
  proposer?: ProposerDeps;
  /** Prometheus series: diagnoses by outcome, duration, API calls, findings, job wait. */
  metrics?: Pick<Metrics, 'recordDiagnosis' | 'recordDiagnosisError' | 'recordJobWait'>;
  /** Why the requester may not see this diagnosis (nothing is read then), or undefined when they may. */
  readAccess?: (request: DiagnoseRequest) => Promise<string | undefined>;
}

/** Tells the surface when the read is over and analysis begins, without the engine knowing. */
function withStages(reader: ClusterReader, onRead: () => Promise<void>): ClusterReader {
  return {
    get apiCalls() {
      return reader.apiCalls;
    },
    get bytesRead() {
      return reader.bytesRead;
    },
    namespaceExists: (ns) => reader.namespaceExists(ns),
    // A cluster-wide run reads the shared part first, then namespace by namespace between checks: the stage starts after the first.
    read: async (scope) => {
      const view = await reader.read(scope);
      await onRead();
      return view;
    },
    ...(reader.eachNamespace ? { eachNamespace: reader.eachNamespace.bind(reader) } : {}),
  };
}

/** Thrown by a run whose job was handed back to the queue at shutdown. */
export class ReleasedJob extends Error {
  readonly code = 'released_at_shutdown';
  constructor() {
    super('released at shutdown; another worker runs it');
    this.name = 'ReleasedJob';
  }
}

function progressOf(job: Job): RunProgress | undefined {
  const p: unknown = job.progress;
  return typeof p === 'object' && p !== null && typeof (p as RunProgress).stage === 'string' ? (p as RunProgress) : undefined;
}

/**
 * The diagnose processor. Safe to run again for the same job (retries, a worker killed
 * mid-run): the parent message and the "published" mark live in job.progress, the report in
 * the store, so a re-run neither opens a second message nor posts the report twice.
 */
export function diagnoseProcessor(deps: DiagnoseDeps): (job: Job, token?: string, signal?: AbortSignal) => Promise<DiagnoseResult> {
  return async (job, _token, signal) => {
    const runId = job.id!;
    const log = deps.log.child({ jobId: runId, cluster: deps.cluster, queue: 'diagnose', attempt: job.attemptsMade + 1 });
    const request = parseDiagnoseJob(job.data, deps.cluster);
    if (job.attemptsMade === 0) deps.metrics?.recordJobWait(job.queueQualifiedName, job.timestamp, job.processedOn ?? Date.now());
    let progress: RunProgress = progressOf(job) ?? { stage: 'queued' };
    const save = async (next: Partial<RunProgress>): Promise<void> => {
      progress = { ...progress, ...next };
      await job.updateProgress({ ...progress });
    };

    let parentTs: string;
    try {
      parentTs = progress.parentTs ?? request.parentTs ?? (await deps.surface.openRun(runId, request));
    } catch (e) {
      // Nowhere to show a failure yet: a final one (channel gone, bot not invited) just fails the job.
      const failure = classify(e);
      log.warn({ err: e, transient: failure.transient }, 'could not open the run');
      if (!failure.transient || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) recordError(deps, request);
      throw failure.transient ? e : new UnrecoverableError(failure.reason);
    }
    if (progress.published) {
      log.info({}, 'report already published by an earlier attempt');
      const stored = await deps.store.loadReport(deps.cluster, runId);
      return { runId, parentTs, verdict: stored ? verdictOf(stored) : 'unknown', findings: stored?.findings.length ?? 0 };
    }
    if (!progress.parentTs) await save({ parentTs, channel: request.channel });
    const stage = async (s: RunStage): Promise<void> => {
      await deps.surface.stage({ runId, request, parentTs }, s);
      if (s !== 'queued') await save({ stage: s });
    };

    let report: Report | undefined;
    try {
      // Before anything is read or shown, on every attempt (a retry may run under another policy).
      const refused = await deps.readAccess?.(request);
      if (refused) throw new NetdoctorError('read_forbidden', refused);
      report = await deps.store.loadReport(deps.cluster, runId);
      if (!report) {
        const workflow = pickWorkflow(deps.workflows, request.workflow);
        await stage('reading');
        const reader = await deps.readerFor(request.cluster);
        try {
          const ctx = { runId, log, clock: deps.clock, reclaimMemory: heapReclaimer() };
          report = await diagnose(ctx, withStages(reader, () => stage('analysing')), workflow, { cluster: request.cluster, namespace: request.namespace }, deps.baselines);
        } finally {
          reader.close?.();
        }
        // Released at shutdown while reading: another worker owns the job now, so stay silent.
        if (signal?.aborted) throw new ReleasedJob();
        deps.metrics?.recordDiagnosis(report);
        await deps.store.storeReport(deps.cluster, runId, report, deps.clock());
      }
      const proposals = deps.proposer ? await proposeQuietly(deps.proposer, { ...request, parentTs }, report, log) : undefined;
      await stage('done');
      await deps.surface.publishReport({ runId, request, parentTs }, report, proposals);
      await save({ stage: 'done', published: true });
      log.info({ findings: report.findings.length, verdict: verdictOf(report) }, 'diagnosis published');
      return { runId, parentTs, verdict: verdictOf(report), findings: report.findings.length };
    } catch (e) {
      if (signal?.aborted) throw e instanceof ReleasedJob ? e : new ReleasedJob();
      throw await failAttempt(job, e, request, parentTs, deps, log, report !== undefined);
    }
  };
}

/** A diagnosis that ends without a report (the workflow label only when it is a known one: labels stay bounded). */
function recordError(deps: DiagnoseDeps, request: DiagnoseRequest): void {
  deps.metrics?.recordDiagnosisError(deps.workflows.has(request.workflow) ? request.workflow : 'unknown', request.cluster);
}

/** A dry run that cannot run (cluster hiccup, missing write RBAC) must not sink the diagnosis: the plans show without buttons. */
async function proposeQuietly(proposer: ProposerDeps, request: DiagnoseRequest, report: Report, log: Logger): Promise<Record<string, PlanProposal> | undefined> {
  try {
    return await proposePlans(proposer, request, report);
  } catch (err) {
    log.warn({ err }, 'could not dry-run the plans; publishing them without approval buttons');
    return undefined;
  }
}

/** Decides retry or final failure; on a final one tells the user why. Returns what to throw. */
async function failAttempt(job: Job, err: unknown, request: DiagnoseRequest, parentTs: string, deps: DiagnoseDeps, log: Logger, reported = false): Promise<unknown> {
  const failure = classify(err, request.namespace);
  const attempts = job.opts.attempts ?? 1;
  const final = !failure.transient || job.attemptsMade + 1 >= attempts;
  log.warn({ err, transient: failure.transient, final }, 'diagnosis attempt failed');
  if (final && !reported) recordError(deps, request);
  const run: RunRef = { runId: job.id!, request, parentTs };
  if (!final) {
    await deps.surface.stage(run, 'queued').catch((e: unknown) => log.warn({ err: e }, 'could not show the retry'));
    return err;
  }
  try {
    await deps.surface.stage(run, 'failed');
    await deps.surface.failRun(run, failure.reason);
    await job.updateProgress({ ...(progressOf(job) ?? {}), stage: 'failed' });
  } catch (e) {
    log.error({ err: e }, 'could not report the failed run');
  }
  return err instanceof UnrecoverableError ? err : new UnrecoverableError(failure.reason);
}

export type { DiagnoseJob };

/** BullMQ's reason for a job whose workers died under it more often than maxStalledCount allows. */
export const STALLED_REASON = 'job stalled more than allowable limit';

/**
 * BullMQ fails such a job inside Redis, without running our processor, so the run would stay
 * "reading…" in the channel. Every worker process hears the failed event; one tells the user.
 */
export async function reportStalledRun(jobId: string, queue: Queue, deps: Pick<DiagnoseDeps, 'cluster' | 'surface' | 'store' | 'log'>): Promise<void> {
  if (!(await deps.store.claimOnce(deps.cluster, `stalled-${jobId}`))) return;
  const job = await Job.fromId(queue, jobId);
  if (!job) return;
  let request: DiagnoseRequest;
  try {
    request = parseDiagnoseJob(job.data, deps.cluster);
  } catch {
    return; // bad data never reached a channel
  }
  const parentTs = progressOf(job)?.parentTs ?? request.parentTs ?? (await deps.surface.openRun(jobId, request));
  const reason = 'the worker running this diagnosis stopped several times (crashed, killed or out of memory); the operators can find why in the worker logs';
  const run: RunRef = { runId: jobId, request, parentTs };
  await deps.surface.stage(run, 'failed');
  await deps.surface.failRun(run, reason);
  deps.log.warn({ jobId }, 'diagnosis failed after repeated stalls; user told');
}
