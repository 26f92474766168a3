import { Job, Queue, QueueEvents, Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { CHECKS } from '../checks';
import type { Config } from '../config';
import { AuditLog } from '../audit/audit-log';
import type { ChatSurface, RemediationSurface } from '../domain/ports';
import type { ApprovalPolicy } from '../remediation/approval';
import type { Clock, Logger } from '../domain/run-context';
import { type Workflow, loadWorkflows } from '../engine/workflow';
import { type Metrics, queueSampler } from '../observability/metrics';
import { type ReaderFactory, STALLED_REASON, diagnoseProcessor, reportStalledRun } from './diagnose-worker';
import { digestProcessor } from './digest-worker';
import { backoffStrategy } from './failures';
import { queueAddress } from './jobs';
import { PlanLedger } from './plan-ledger';
import type { WriterFactory } from './plan-proposer';
import { JOB_OPTIONS, REMEDIATE_WORKER_OPTIONS } from './queues';
import { remediateProcessor } from './remediate-worker';
import { checkRedis, workerConnection } from './redis';
import { RunStore } from './run-store';
import { type StalledRemediationWatch, watchStalledRemediations } from './stalled-remediation';

/** Knobs tests turn (production uses BullMQ's defaults: 30 s locks and stalled checks). */
export interface WorkerTuning {
  lockDuration?: number;
  stalledInterval?: number;
  /** First retry delay; doubles per attempt (Retry-After wins when given). @defaultValue 2000 */
  backoffMs?: number;
  /** How often a stalled diagnosis may be recovered before it fails. @defaultValue 2 */
  maxStalledCount?: number;
}

export interface StartWorkersOptions {
  config: Config;
  surface: ChatSurface;
  readerFor: ReaderFactory;
  log: Logger;
  /** @defaultValue the wall clock; tests inject one to move the digest across days. */
  clock?: Clock;
  /** @defaultValue loadWorkflows(CHECKS) from workflows/ */
  workflows?: Map<string, Workflow>;
  tuning?: WorkerTuning;
  /** Wires remediation: plans are dry-run and proposed, approved ones applied by the remediate worker. */
  remediation?: RemediationWiring;
  /** Prometheus series (diagnoses, job wait, queue depth); served by the admin server's /metrics. */
  metrics?: Metrics;
}

export interface RemediationWiring {
  writerFor: WriterFactory;
  surface: RemediationSurface;
  policy: ApprovalPolicy;
  /** @defaultValue config.verifyTimeoutSeconds */
  verifyTimeoutMs?: number;
}

/** The approval policy the configuration describes. */
export function policyFromConfig(config: Config): ApprovalPolicy {
  return {
    users: config.approvers.filter((id) => !id.startsWith('S')),
    groups: config.approvers.filter((id) => id.startsWith('S')),
    allowSelfApproval: config.allowSelfApproval,
    validityMs: config.planValidityMinutes * 60_000,
    identities: config.identityMap,
  };
}

/** The Redis key of the audit stream (one for every cluster; each entry names its cluster). */
export function auditKey(config: Pick<Config, 'queuePrefix'>): string {
  return `${config.queuePrefix}:audit`;
}

export interface RunningWorkers {
  /** Stops taking jobs, lets the current ones finish within the shutdown timeout (else releases them), closes Redis. */
  close(): Promise<void>;
}

/**
 * Starts the diagnose and digest workers for `config.cluster`, and (when a digest channel is
 * configured) upserts the daily digest scheduler. Refuses to start when Redis is unreachable or
 * may evict keys.
 */
export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const { config, surface, readerFor, tuning = {} } = options;
  const log = options.log.child({ cluster: config.cluster });
  const clock = options.clock ?? (() => new Date());
  const workflows = options.workflows ?? loadWorkflows(CHECKS);
  const redis = await checkRedis(config.redisUrl);
  log.info({ redisVersion: redis.version }, 'redis ok');

  const storeClient = new Redis(workerConnection(config.redisUrl));
  storeClient.on('error', (err) => log.warn({ err }, 'redis (store) connection error'));
  const store = new RunStore(storeClient, config.queuePrefix, config.reportTtlSeconds);
  const base: Partial<WorkerOptions> = {
    connection: workerConnection(config.redisUrl),
    settings: { backoffStrategy: backoffStrategy(tuning.backoffMs ?? 2000) },
    ...(tuning.lockDuration ? { lockDuration: tuning.lockDuration } : {}),
    ...(tuning.stalledInterval ? { stalledInterval: tuning.stalledInterval } : {}),
  };
  const remediation = options.remediation;
  const ledger = new PlanLedger(storeClient, config.queuePrefix, config.reportTtlSeconds);
  const proposer = remediation ? { writerFor: remediation.writerFor, ledger, policy: remediation.policy, clock, log } : undefined;
  const deps = { cluster: config.cluster, surface, readerFor, workflows, store, log, clock, ...(proposer ? { proposer } : {}), ...(options.metrics ? { metrics: options.metrics } : {}) };
  const inflight = new Map<string, { job: Job; token?: string; done: Promise<unknown> }>();
  /** Keeps track of running jobs, so shutdown can wait for them or hand them back. */
  const tracked = <R>(queue: string, processor: (job: Job, token?: string, signal?: AbortSignal) => Promise<R>) =>
    async (job: Job, token?: string, signal?: AbortSignal): Promise<R> => {
      const key = `${queue}/${job.id}`;
      const run = processor(job, token, signal);
      inflight.set(key, { job, ...(token ? { token } : {}), done: run.catch(() => undefined) });
      try {
        return await run;
      } finally {
        inflight.delete(key);
      }
    };

  const diagnoseAt = queueAddress(config.queuePrefix, config.cluster, 'diagnose');
  const diagnoseWorker = new Worker(diagnoseAt.name, tracked('diagnose', diagnoseProcessor(deps)), {
    ...base,
    connection: workerConnection(config.redisUrl),
    prefix: diagnoseAt.prefix,
    concurrency: config.workerConcurrency,
    maxStalledCount: tuning.maxStalledCount ?? 2,
  });
  const digestAt = queueAddress(config.queuePrefix, config.cluster, 'digest');
  const digestWorker = new Worker(
    digestAt.name,
    tracked('digest', digestProcessor({
      ...deps,
      workflow: config.digestWorkflow,
      timeZone: config.digestTimezone,
      ...(config.digestChannel ? { channel: config.digestChannel } : {}),
      historySize: config.digestHistory,
    })),
    { ...base, connection: workerConnection(config.redisUrl), prefix: digestAt.prefix, concurrency: 1 },
  );
  const workers: Worker[] = [diagnoseWorker, digestWorker];
  let stalledRemediations: StalledRemediationWatch | undefined;
  if (remediation) {
    const remediateAt = queueAddress(config.queuePrefix, config.cluster, 'remediate');
    const audit = new AuditLog(storeClient, auditKey(config), log);
    const processor = remediateProcessor({
      cluster: config.cluster,
      writerFor: remediation.writerFor,
      readerFor,
      ledger,
      store,
      audit,
      surface: remediation.surface,
      policy: remediation.policy,
      verifyTimeoutMs: remediation.verifyTimeoutMs ?? config.verifyTimeoutSeconds * 1000,
      log,
      clock,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
    // Never retried, never recovered after a stall: a second automatic write could hit a changed cluster.
    workers.push(new Worker(remediateAt.name, tracked('remediate', processor), { ...base, connection: workerConnection(config.redisUrl), prefix: remediateAt.prefix, ...REMEDIATE_WORKER_OPTIONS }));
    // BullMQ fails a stalled remediation without running our processor: the approver is told (once).
    stalledRemediations = watchStalledRemediations(remediateAt, config.redisUrl, { cluster: config.cluster, store, ledger, audit, surface: remediation.surface, log, clock });
  }
  for (const w of workers) {
    w.on('error', (err) => log.warn({ err, queue: w.name }, 'worker error'));
    w.on('failed', (job, err) => log.warn({ jobId: job?.id, queue: w.name, reason: err.message, attempts: job?.attemptsMade }, 'job failed'));
    w.on('stalled', (jobId) => log.warn({ jobId, queue: w.name }, 'job stalled; it will be retried'));
  }

  const digestQueue = new Queue(digestAt.name, { connection: workerConnection(config.redisUrl), prefix: digestAt.prefix });
  digestQueue.on('error', (err) => log.warn({ err }, 'digest queue error'));
  const diagnoseQueue = new Queue(diagnoseAt.name, { connection: workerConnection(config.redisUrl), prefix: diagnoseAt.prefix });
  diagnoseQueue.on('error', (err) => log.warn({ err }, 'diagnose queue error'));
  const diagnoseEvents = new QueueEvents(diagnoseAt.name, { connection: workerConnection(config.redisUrl), prefix: diagnoseAt.prefix });
  diagnoseEvents.on('error', (err) => log.warn({ err }, 'diagnose events error'));
  let queuesOpen = true;
  // Labelled by the operator's name (netdoctor:prod:diagnose), not BullMQ's bare one.
  const sampled = [diagnoseQueue, digestQueue].map((q) => ({ name: q.qualifiedName, getJobCounts: q.getJobCounts.bind(q), getWaiting: q.getWaiting.bind(q) }));
  options.metrics?.observeQueues(queueSampler(() => (queuesOpen ? sampled : [])));
  diagnoseEvents.on('failed', ({ jobId, failedReason }) => {
    if (failedReason !== STALLED_REASON) return;
    reportStalledRun(jobId, diagnoseQueue, deps).catch((err: unknown) => log.warn({ err, jobId }, 'could not report a stalled run'));
  });
  const schedulerId = `digest-${config.cluster}`;
  if (config.digestChannel) {
    await digestQueue.upsertJobScheduler(
      schedulerId,
      { pattern: config.digestCron, tz: config.digestTimezone },
      { name: 'digest', data: { cluster: config.cluster }, opts: JOB_OPTIONS.digest },
    );
    log.info({ cron: config.digestCron, tz: config.digestTimezone }, 'digest scheduled');
  } else {
    await digestQueue.removeJobScheduler(schedulerId);
    log.info({}, 'no NETDOCTOR_DIGEST_CHANNEL: digest not scheduled');
  }
  await Promise.all([...workers.map((w) => w.waitUntilReady()), diagnoseEvents.waitUntilReady(), stalledRemediations?.ready()]);
  log.info({ concurrency: config.workerConcurrency }, 'workers started');

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const timeoutMs = config.shutdownTimeoutSeconds * 1000;
    // 1. Take no more jobs (the fetch loop stops; running jobs go on).
    await Promise.all(workers.map((w) => w.pause(true)));
    // 2. Let the running ones finish, within the timeout.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([Promise.all([...inflight.values()].map((r) => r.done)).then(() => true), timedOut]);
    clearTimeout(timer);
    // 3. Hand the rest back to the queue at once rather than waiting for their locks to expire.
    //    The workers are closed first (so they cannot pick the jobs up again); the release goes
    //    through separate queue connections. The processors see the abort signal and post nothing more.
    const unfinished = finished ? [] : [...inflight.values()];
    if (unfinished.length > 0) {
      log.warn({ timeoutMs, jobs: unfinished.map((r) => r.job.id) }, 'jobs still running at the shutdown timeout: releasing them');
      for (const w of workers) w.cancelAllJobs('shutdown');
    }
    await Promise.all(workers.map((w) => w.close(!finished)));
    for (const r of unfinished) {
      // A remediation is never handed back: it fails as stalled and a human re-checks the cluster.
      if (r.job.queueName !== digestAt.name && r.job.queueName !== diagnoseAt.name) continue;
      const control = r.job.queueName === digestAt.name ? digestQueue : diagnoseQueue;
      await Job.fromId(control, r.job.id!)
        .then((job) => job?.moveToWait(r.token))
        .catch((err: unknown) => log.warn({ err, jobId: r.job.id }, 'could not release the job; it is recovered once its lock expires'));
    }
    queuesOpen = false;
    await Promise.all([digestQueue.close(), diagnoseQueue.close(), diagnoseEvents.close(), stalledRemediations?.close()]);
    await storeClient.quit().catch(() => storeClient.disconnect());
    log.info({}, 'workers stopped');
  };
  return {
    close: () => (closing ??= close()),
  };
}
