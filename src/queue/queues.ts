import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions, type QueueOptions } from 'bullmq';
import { NetdoctorError } from '../domain/errors';
import type { DiagnoseRequest } from '../domain/ports';
import type { Report } from '../domain/report';
import {
  type DiagnoseJob,
  type DigestJob,
  type QueueKind,
  type RemediateJob,
  type RunProgress,
  jobIdFrom,
  parseDiagnoseJob,
  parseDigestJob,
  parseRemediateJob,
  queueAddress,
  queueLabel,
  requestProblem,
  runKey,
} from './jobs';
import { BullConnections, type RedisClient, redisClient, unreachable } from './redis';
import type { RedisTarget } from '../domain/redis-target';
import type { DigestRecord, StoredPlan } from '../domain/stores';
import { RunStore } from '../store/run-store';

/** Job options per queue. Diagnoses are read-only and retried; a remediation never runs twice by itself. */
export const JOB_OPTIONS: Record<QueueKind, JobsOptions> = {
  diagnose: {
    attempts: 4,
    backoff: { type: 'netdoctor' },
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
  },
  remediate: {
    attempts: 1,
    removeOnComplete: { age: 30 * 24 * 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  },
  digest: {
    attempts: 3,
    backoff: { type: 'netdoctor' },
    removeOnComplete: { age: 7 * 24 * 3600, count: 100 },
    removeOnFail: { age: 30 * 24 * 3600, count: 100 },
  },
};

/**
 * The remediate worker's options (its processor comes with the remediation issue): a stalled
 * apply is never re-run automatically, it ends as failed and a human re-checks.
 */
export const REMEDIATE_WORKER_OPTIONS = { maxStalledCount: 0, concurrency: 1 } as const;

/** Where a request's results will appear. */
export interface EnqueueResult {
  jobId: string;
  /** True when an identical request was already in flight and this one joined it. */
  joined: boolean;
  /** The in-flight run's parent message, once known (the front end's, or the one the worker posted). */
  parentTs?: string;
  channel: string;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  workers: number;
}

export interface QueueStatus {
  cluster: string;
  queues: Record<QueueKind, QueueCounts & { name: string }>;
  lastDigestAt?: string;
  lastDigestDay?: string;
  nextDigestAt?: string;
}

export interface ProducerOptions {
  redis: RedisTarget;
  queuePrefix: string;
  reportTtlSeconds: number;
}

export function producerOptions(config: Pick<ProducerOptions, 'redis' | 'queuePrefix' | 'reportTtlSeconds'>): ProducerOptions {
  return { redis: config.redis, queuePrefix: config.queuePrefix, reportTtlSeconds: config.reportTtlSeconds };
}

/**
 * The producer side for any number of clusters (the Slack front end serves many): enqueue,
 * trigger, inspect, and read back reports and plans. Connections fail fast while Redis is down.
 */
export class Producer {
  private readonly queues = new Map<string, Queue>();
  readonly store: RunStore;
  private readonly redis: RedisClient;
  private readonly connections: BullConnections;

  private constructor(
    private readonly opts: ProducerOptions,
    redis: RedisClient,
  ) {
    this.redis = redis;
    this.connections = new BullConnections(opts.redis);
    this.store = new RunStore(redis, opts.queuePrefix, opts.reportTtlSeconds);
  }

  private address(cluster: string, kind: QueueKind): { name: QueueKind; prefix: string } {
    return queueAddress(this.opts.queuePrefix, cluster, kind, this.connections.hashTagged);
  }

  /** Connects (rejecting with a clear message if Redis cannot be reached). */
  static async connect(opts: ProducerOptions): Promise<Producer> {
    const redis = redisClient(opts.redis, 'producer', { lazyConnect: true });
    let cause: Error | undefined;
    redis.on('error', (e: Error) => (cause = e)); // later ones surface through the failing command
    try {
      await redis.connect();
    } catch (e) {
      redis.disconnect();
      throw unreachable(opts.redis, cause ?? (e as Error));
    }
    return new Producer(opts, redis);
  }

  /** The cluster's queue (created on first use; waits for its connection so add() does not fail on a cold start). */
  async queue(cluster: string, kind: QueueKind): Promise<Queue> {
    const key = `${cluster}/${kind}`;
    let queue = this.queues.get(key);
    if (!queue) {
      const { name, prefix } = this.address(cluster, kind);
      const options: QueueOptions = { connection: this.connections.connection('producer'), prefix, defaultJobOptions: JOB_OPTIONS[kind] };
      queue = new Queue(name, options);
      queue.on('error', () => undefined);
      this.queues.set(key, queue);
    }
    await queue.waitUntilReady();
    return queue;
  }

  /**
   * Enqueues a diagnosis, or joins the identical one (same cluster, namespace, workflow) already
   * in flight. `requestId` makes a retried request (Slack redelivery) idempotent.
   */
  async enqueueDiagnose(request: DiagnoseRequest, requestId: string = randomUUID()): Promise<EnqueueResult> {
    const problem = requestProblem(request);
    if (problem) throw new NetdoctorError('bad_input', problem);
    const queue = await this.queue(request.cluster, 'diagnose');
    const jobId = jobIdFrom('diagnose', requestId);
    // Only the validated fields: whatever else a caller attached (a response_url…) stays out of Redis.
    const data: DiagnoseJob = parseDiagnoseJob(request, request.cluster);
    // Simple-mode deduplication: the key lives until the job completes or finally fails, atomically in Redis.
    const job = await queue.add('diagnose', data, { jobId, deduplication: { id: runKey(request) } });
    const id = job.id ?? jobId;
    if (id === jobId) return { jobId, joined: false, channel: request.channel, ...(request.parentTs ? { parentTs: request.parentTs } : {}) };
    const existing = await queue.getJob(id);
    const progress = (existing?.progress ?? {}) as Partial<RunProgress>;
    const parentTs = progress.parentTs ?? (existing?.data as DiagnoseJob | undefined)?.parentTs;
    const channel = progress.channel ?? (existing?.data as DiagnoseJob | undefined)?.channel ?? request.channel;
    return { jobId: id, joined: true, channel, ...(parentTs ? { parentTs } : {}) };
  }

  /** Queues a digest now (it bypasses the once-a-day guard, which is for the scheduler). */
  async triggerDigestNow(cluster: string, options: { channel?: string; requestedBy?: string } = {}): Promise<{ jobId: string }> {
    const data: DigestJob = { cluster, manual: true, ...options };
    parseDigestJob(data, cluster);
    const queue = await this.queue(cluster, 'digest');
    const job = await queue.add('digest', data, { jobId: jobIdFrom('digest', `manual-${randomUUID()}`) });
    return { jobId: job.id! };
  }

  /**
   * Enqueues an approved plan for the remediate worker (remediation issue). The job id is the
   * approval's idempotency key, so a double click enqueues once.
   */
  async enqueueRemediate(job: RemediateJob, approvalId: string): Promise<{ jobId: string }> {
    parseRemediateJob(job, job.cluster);
    const queue = await this.queue(job.cluster, 'remediate');
    const added = await queue.add('remediate', job, { jobId: jobIdFrom('remediate', `${job.planId}-${approvalId}`) });
    return { jobId: added.id! };
  }

  async loadReport(cluster: string, runId: string): Promise<Report | undefined> {
    return this.store.loadReport(cluster, runId);
  }

  async loadPlan(cluster: string, planId: string): Promise<StoredPlan | undefined> {
    return this.store.loadPlan(cluster, planId);
  }

  async digestHistory(cluster: string): Promise<DigestRecord[]> {
    return this.store.digestHistory(cluster);
  }

  /** The operator view: depth, running, failed and delayed jobs per queue, workers, last and next digest. */
  async queueStatus(cluster: string): Promise<QueueStatus> {
    const queues = {} as QueueStatus['queues'];
    for (const kind of ['diagnose', 'remediate', 'digest'] as const) {
      const queue = await this.queue(cluster, kind);
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
      queues[kind] = {
        name: queueLabel(this.address(cluster, kind)),
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
        workers: await queue.getWorkersCount(),
      };
    }
    const status: QueueStatus = { cluster, queues };
    const last = (await this.store.digestHistory(cluster)).at(-1);
    if (last) Object.assign(status, { lastDigestAt: last.at, lastDigestDay: last.day });
    const schedulers = await (await this.queue(cluster, 'digest')).getJobSchedulers();
    const next = schedulers.map((s) => s.next).filter((n): n is number => typeof n === 'number').sort()[0];
    if (next !== undefined) status.nextDigestAt = new Date(next).toISOString();
    return status;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    await this.connections.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
