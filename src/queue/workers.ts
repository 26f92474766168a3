import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, Job, Queue, QueueEvents, Worker, type WorkerOptions } from 'bullmq';
import { AuditLog, auditKey } from '../store/audit-log';
import type { ChatSurface, RemediationSurface } from '../domain/ports';
import type { ApprovalPolicy } from '../remediation/approval';
import type { Clock, Logger } from '../domain/run-context';
import { proposeAgain, recheckPlan } from '../engine/recheck';
import { type Workflow, loadCatalogWorkflows } from '../engine/workflow';
import { type Metrics, queueSampler } from '../observability/metrics';
import type { ReaderFactory } from '../domain/cluster-view';
import type { RedisTarget } from '../domain/redis-target';
import { type DiagnoseDeps, STALLED_REASON, diagnoseProcessor, reportStalledRun } from './diagnose-worker';
import { type ReadAccessPolicy, readAccessProblem } from '../remediation/read-access';
import { digestProcessor } from './digest-worker';
import { backoffStrategy } from './failures';
import { queueAddress } from './jobs';
import { PlanLedger } from '../store/plan-ledger';
import type { WriterFactory } from '../domain/cluster-writer';
import { JOB_OPTIONS, REMEDIATE_WORKER_OPTIONS } from './queues';
import { remediateProcessor } from './remediate-worker';
import { BullConnections, type RedisClient, awaitRedis, redisClient } from './redis';
import { RunStore } from '../store/run-store';
import { BaselineStore } from '../store/baseline-store';
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

/** The settings the workers read: a Config satisfies it (queue/ does not depend on config.ts). */
export interface WorkerSettings {
  readonly cluster: string;
  readonly redis: RedisTarget;
  readonly queuePrefix: string;
  readonly reportTtlSeconds: number;
  readonly workerConcurrency: number;
  readonly shutdownTimeoutSeconds: number;
  readonly digestCron: string;
  readonly digestTimezone: string;
  readonly digestChannel?: string | undefined;
  readonly digestWorkflow: string;
  readonly digestHistory: number;
  readonly verifyTimeoutSeconds: number;
  /** How long startup waits for an unreachable Redis; 0 or absent: it fails at once. */
  readonly redisWaitSeconds?: number;
}

export interface StartWorkersOptions {
  config: WorkerSettings;
  surface: ChatSurface;
  readerFor: ReaderFactory;
  log: Logger;
  /** @defaultValue the wall clock; tests inject one to move the digest across days. */
  clock?: Clock;
  /** @defaultValue every workflow in workflows/ over the check catalog */
  workflows?: Map<string, Workflow>;
  tuning?: WorkerTuning;
  /** Wires remediation: plans are dry-run and proposed, approved ones applied by the remediate worker. */
  remediation?: RemediationWiring;
  /** Prometheus series (diagnoses, job wait, queue depth); served by the admin server's /metrics. */
  metrics?: Metrics;
  /** Who may see a diagnosis; SubjectAccessReviews go through `writerFor` (none: only the channel list can grant). */
  readAccess?: { policy: ReadAccessPolicy; writerFor?: WriterFactory };
}

/** The requester check a diagnosis runs before it reads anything (only in checked mode). */
function readAccessCheck(wiring: StartWorkersOptions['readAccess']): DiagnoseDeps['readAccess'] {
  if (wiring?.policy.mode !== 'checked') return undefined;
  const { policy, writerFor } = wiring;
  return async (request) => {
    const writer = writerFor ? await writerFor(request.cluster) : undefined;
    try {
      return await readAccessProblem(policy, writer ? (check) => writer.allowed(check) : undefined, request);
    } finally {
      writer?.close?.();
    }
  };
}

export interface RemediationWiring {
  writerFor: WriterFactory;
  surface: RemediationSurface;
  policy: ApprovalPolicy;
  /** @defaultValue config.verifyTimeoutSeconds */
  verifyTimeoutMs?: number;
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
  const workflows = options.workflows ?? loadCatalogWorkflows();
  const redis = await awaitRedis(config.redis, config.redisWaitSeconds ?? 0, log);
  log.info({ redisVersion: redis.version, redisMode: config.redis.mode }, 'redis ok');

  const connections = new BullConnections(config.redis);
  const tagged = connections.hashTagged;
  const storeClient = redisClient(config.redis, 'worker');
  storeClient.on('error', (err: Error) => log.warn({ err }, 'redis (store) connection error'));
  const store = new RunStore(storeClient, config.queuePrefix, config.reportTtlSeconds);
  const base: Partial<WorkerOptions> = {
    settings: { backoffStrategy: backoffStrategy(tuning.backoffMs ?? 2000) },
    ...(tuning.lockDuration ? { lockDuration: tuning.lockDuration } : {}),
    ...(tuning.stalledInterval ? { stalledInterval: tuning.stalledInterval } : {}),
  };
  const remediation = options.remediation;
  const ledger = new PlanLedger(storeClient, config.queuePrefix, config.reportTtlSeconds);
  const proposer = remediation ? { writerFor: remediation.writerFor, ledger, policy: remediation.policy, clock, log } : undefined;
  const readAccess = readAccessCheck(options.readAccess);
  const baselines = new BaselineStore(storeClient, config.queuePrefix, log);
  const deps = { cluster: config.cluster, surface, readerFor, workflows, store, log, clock, baselines, ...(proposer ? { proposer } : {}), ...(options.metrics ? { metrics: options.metrics } : {}), ...(readAccess ? { readAccess } : {}) };
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

  const diagnoseAt = queueAddress(config.queuePrefix, config.cluster, 'diagnose', tagged);
  const diagnoseWorker = new Worker(diagnoseAt.name, tracked('diagnose', diagnoseProcessor(deps)), {
    ...base,
    connection: connections.connection('worker'),
    prefix: diagnoseAt.prefix,
    concurrency: config.workerConcurrency,
    maxStalledCount: tuning.maxStalledCount ?? 2,
  });
  const digestAt = queueAddress(config.queuePrefix, config.cluster, 'digest', tagged);
  const digestWorker = new Worker(
    digestAt.name,
    tracked('digest', digestProcessor({
      ...deps,
      workflow: config.digestWorkflow,
      timeZone: config.digestTimezone,
      ...(config.digestChannel ? { channel: config.digestChannel } : {}),
      historySize: config.digestHistory,
    })),
    { ...base, connection: connections.connection('worker'), prefix: digestAt.prefix, concurrency: 1 },
  );
  const workers: Worker[] = [diagnoseWorker, digestWorker];
  let stalledRemediations: StalledRemediationWatch | undefined;
  if (remediation) {
    const remediate = startRemediateWorker({ config, connections, remediation, readerFor, ledger, store, storeClient, baselines, base, tracked, log, clock, ...(options.metrics ? { metrics: options.metrics } : {}) });
    workers.push(remediate.worker);
    stalledRemediations = remediate.stalled;
  }
  for (const w of workers) {
    w.on('error', (err) => log.warn({ err, queue: w.name }, 'worker error'));
    w.on('failed', (job, err) => log.warn({ jobId: job?.id, queue: w.name, reason: err.message, attempts: job?.attemptsMade }, 'job failed'));
    w.on('stalled', (jobId) => log.warn({ jobId, queue: w.name }, 'job stalled; it will be retried'));
  }

  const digestQueue = new Queue(digestAt.name, { connection: connections.connection('worker'), prefix: digestAt.prefix });
  digestQueue.on('error', (err) => log.warn({ err }, 'digest queue error'));
  const diagnoseQueue = new Queue(diagnoseAt.name, { connection: connections.connection('worker'), prefix: diagnoseAt.prefix });
  diagnoseQueue.on('error', (err) => log.warn({ err }, 'diagnose queue error'));
  const diagnoseEvents = new QueueEvents(diagnoseAt.name, { connection: connections.connection('worker'), prefix: diagnoseAt.prefix });
  diagnoseEvents.on('error', (err) => log.warn({ err }, 'diagnose events error'));
  let queuesOpen = true;
  // Labelled by the operator's name (netdoctor:prod:diagnose), not BullMQ's bare one.
  const sampled = [diagnoseQueue, digestQueue].map((q) => ({ name: q.qualifiedName, getJobCounts: q.getJobCounts.bind(q), getWaiting: q.getWaiting.bind(q) }));
  options.metrics?.observeQueues(queueSampler(() => (queuesOpen ? sampled : [])));
  diagnoseEvents.on('failed', ({ jobId, failedReason }) => {
    if (failedReason !== STALLED_REASON) return;
    reportStalledRun(jobId, diagnoseQueue, deps).catch((err: unknown) => log.warn({ err, jobId }, 'could not report a stalled run'));
  });
  await scheduleDigest(digestQueue, config, log);
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
    await connections.close();
    log.info({}, 'workers stopped');
  };
  return {
    close: () => (closing ??= close()),
  };
}

/** Attempts at upserting the digest scheduler while another worker holds its current iteration. */
const SCHEDULE_ATTEMPTS = 6;
const SCHEDULE_RETRY_MS = 250;

/**
 * Upserts the daily digest scheduler when a digest channel is configured, else removes it.
 * Every replica calls this at start; one that finds the scheduler as configured, with its next
 * iteration queued, leaves it alone,
 * because an upsert at the moment another worker has just taken the current iteration is refused
 * (BullMQ's SchedulerJobIdCollision: that worker schedules the next one right after) or, once
 * accepted, puts the taken iteration back. A changed schedule is upserted, tried again shortly
 * when refused.
 */
async function scheduleDigest(digestQueue: Queue, config: WorkerSettings, log: Logger): Promise<void> {
  const schedulerId = `digest-${config.cluster}`;
  if (!config.digestChannel) {
    await digestQueue.removeJobScheduler(schedulerId);
    log.info({}, 'no NETDOCTOR_DIGEST_CHANNEL: digest not scheduled');
    return;
  }
  const repeat = { pattern: config.digestCron, tz: config.digestTimezone };
  const template = { data: { cluster: config.cluster }, opts: JOB_OPTIONS.digest };
  const current = await digestQueue.getJobScheduler(schedulerId);
  const unchanged = current?.pattern === repeat.pattern && current.tz === repeat.tz && isDeepStrictEqual(current.template, template);
  // A scheduler whose next iteration is gone (a failover that lost writes) is upserted to get one again.
  if (unchanged && (await digestQueue.getJob(`repeat:${schedulerId}:${current.next}`))) {
    log.info(repeat, 'digest already scheduled');
    return;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await digestQueue.upsertJobScheduler(schedulerId, repeat, { name: 'digest', ...template });
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== ErrorCode.SchedulerJobIdCollision || attempt === SCHEDULE_ATTEMPTS) throw err;
      log.info({ attempt }, 'another worker holds the digest iteration being scheduled: trying again');
      await new Promise((resolve) => setTimeout(resolve, SCHEDULE_RETRY_MS * attempt));
    }
  }
  log.info(repeat, 'digest scheduled');
}

type Processor<R> = (job: Job, token?: string, signal?: AbortSignal) => Promise<R>;

interface RemediateWorkerParts {
  config: WorkerSettings;
  connections: BullConnections;
  remediation: RemediationWiring;
  readerFor: ReaderFactory;
  ledger: PlanLedger;
  store: RunStore;
  storeClient: RedisClient;
  baselines: BaselineStore;
  base: Partial<WorkerOptions>;
  tracked: <R>(queue: string, processor: Processor<R>) => Processor<R>;
  log: Logger;
  clock: Clock;
  metrics?: Metrics;
}

/** The remediate worker and the watch that tells the approver when BullMQ fails a stalled remediation. */
function startRemediateWorker(p: RemediateWorkerParts): { worker: Worker; stalled: StalledRemediationWatch } {
  const { config, remediation, log, clock } = p;
  const remediateAt = queueAddress(config.queuePrefix, config.cluster, 'remediate', p.connections.hashTagged);
  const audit = new AuditLog(p.storeClient, auditKey(config.queuePrefix), log);
  const processor = remediateProcessor({
    cluster: config.cluster,
    writerFor: remediation.writerFor,
    recheck: (plan, namespace) => recheckPlan({ cluster: config.cluster, readerFor: p.readerFor, log, clock }, plan, namespace),
    proposeAgain: (plan, namespace) => proposeAgain({ cluster: config.cluster, readerFor: p.readerFor, log, clock, baselines: p.baselines }, plan, namespace),
    ledger: p.ledger,
    store: p.store,
    audit,
    surface: remediation.surface,
    policy: remediation.policy,
    verifyTimeoutMs: remediation.verifyTimeoutMs ?? config.verifyTimeoutSeconds * 1000,
    log,
    clock,
    ...(p.metrics ? { metrics: p.metrics } : {}),
  });
  // Never retried, never recovered after a stall: a second automatic write could hit a changed cluster.
  const worker = new Worker(remediateAt.name, p.tracked('remediate', processor), { ...p.base, connection: p.connections.connection('worker'), prefix: remediateAt.prefix, ...REMEDIATE_WORKER_OPTIONS });
  // BullMQ fails a stalled remediation without running our processor: the approver is told (once).
  const stalled = watchStalledRemediations(remediateAt, p.connections, { cluster: config.cluster, store: p.store, ledger: p.ledger, audit, surface: remediation.surface, log, clock });
  return { worker, stalled };
}
