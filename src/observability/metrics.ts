// Prometheus metrics for netdoctor, on an injected prom-client Registry.
//
// Everything is defined in one place (createMetrics) so the series names, labels and
// buckets are a documented contract; callers use the small record*/set* functions and
// never touch prom-client directly. Labels are bounded sets (workflow names, check ids,
// queue names, Slack method names and error codes): never object names or user input.
import { AggregatorRegistry, Counter, Gauge, Histogram, type MetricObjectWithValues, type MetricValue, Registry, collectDefaultMetrics } from 'prom-client';
import type { RemediationOutcome } from '../domain/ports';
import type { Report, Verdict } from '../domain/report';
import { verdictOf } from '../domain/report';

/** How a diagnosis ended: the report's verdict, or `error` when no report was produced. */
export type DiagnosisOutcome = Verdict | 'error';

/** A registry's series as data (what crosses from another thread: serve's workers). */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** One registry's series plus another thread's, summed per label set as prom-client's AggregatorRegistry does for cluster workers. */
export function mergedRegistry(registry: Registry, other: () => Promise<MetricsSnapshot>): Pick<Registry, 'contentType' | 'metrics'> {
  return {
    contentType: registry.contentType,
    metrics: async () => {
      const [own, theirs] = await Promise.all([registry.getMetricsAsJSON(), other()]);
      return AggregatorRegistry.aggregate([own, theirs]).metrics();
    },
  };
}


/** BullMQ job counts of one queue, as Queue#getJobCounts returns them. */
export interface QueueSample {
  /** Queue name, e.g. netdoctor:prod:diagnose */
  queue: string;
  counts: Partial<Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed' | 'paused' | 'prioritized' | 'waiting-children', number>>;
  /** Age in seconds of the oldest job still waiting (0 or absent when none waits). */
  oldestWaitingAgeSeconds?: number;
}

/** Pulled at scrape time (e.g. Promise.all over queues of getJobCounts + the oldest waiting job). */
export type QueueSampler = () => Promise<QueueSample[]>;

/** The parts of a BullMQ Queue that queueSampler uses (structural: this module does not import bullmq). */
export interface SampledQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  /** Oldest first (BullMQ: getWaiting(0, 0) is the oldest waiting job). */
  getWaiting(start?: number, end?: number): Promise<({ timestamp: number } | undefined)[]>;
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'paused', 'prioritized', 'waiting-children'] as const;

/**
 * A QueueSampler over BullMQ queues: job counts by state and the age of the oldest waiting job,
 * read at scrape time. Pass the queues (or a function returning the current ones):
 *   metrics.observeQueues(queueSampler([diagnoseQueue, remediateQueue, digestQueue]))
 */
export function queueSampler(queues: readonly SampledQueue[] | (() => readonly SampledQueue[]), now: () => number = Date.now): QueueSampler {
  return async () =>
    Promise.all(
      (typeof queues === 'function' ? queues() : queues).map(async (q): Promise<QueueSample> => {
        const [counts, oldest] = await Promise.all([q.getJobCounts(...QUEUE_STATES), q.getWaiting(0, 0)]);
        const first = oldest[0];
        return { queue: q.name, counts, oldestWaitingAgeSeconds: first ? Math.max(0, now() - first.timestamp) / 1000 : 0 };
      }),
    );
}

export interface MetricsOptions {
  /** Default: a fresh Registry (never the prom-client global one, so tests and processes do not share state). */
  registry?: Registry;
  /** Node.js process metrics (process_*, nodejs_*). Default true. */
  defaultMetrics?: boolean;
  /** Constant labels on every series, e.g. { component: 'worker' }. */
  defaultLabels?: Record<string, string>;
}

export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
export const API_CALL_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
export const JOB_WAIT_BUCKETS = [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];

export interface Metrics {
  readonly registry: Registry;
  /** One finished diagnosis: counts it, observes duration and API calls, counts findings by check and severity. */
  recordDiagnosis(report: Report, outcome?: DiagnosisOutcome): void;
  /** A diagnosis that produced no report (unknown namespace, cluster unreachable, crash). */
  recordDiagnosisError(workflow: string, cluster?: string): void;
  /** One plan apply that reached a terminal state. `check` is the plan's verify.check. */
  recordRemediation(outcome: RemediationOutcome, check?: string): void;
  /** Queue depth pushed by the caller (when not using observeQueues). */
  setQueueDepth(queue: string, state: string, count: number): void;
  /** Registers a sampler that is called at every scrape for depth and oldest waiting job age. */
  observeQueues(sampler: QueueSampler): void;
  /** When a worker picks a job up: how long it waited (ms timestamps, e.g. job.timestamp and job.processedOn). */
  recordJobWait(queue: string, enqueuedAtMs: number, startedAtMs: number): void;
  /** A failed Slack Web API call: method (chat.postMessage) and Slack's error code (ratelimited, channel_not_found, …). */
  recordSlackError(method: string, error: string): void;
}

function clusterLabel(c: string | undefined): string {
  return c ?? '';
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const diagnoses = new Counter({
    name: 'netdoctor_diagnoses_total',
    help: 'Diagnoses run, by workflow, cluster and outcome (healthy|degraded|broken|incomplete|error).',
    labelNames: ['workflow', 'cluster', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'netdoctor_diagnosis_duration_seconds',
    help: 'Wall time of a diagnosis (cluster read + checks), by workflow.',
    labelNames: ['workflow'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const apiCalls = new Histogram({
    name: 'netdoctor_diagnosis_api_calls',
    help: 'Kubernetes API calls made by one diagnosis, by workflow.',
    labelNames: ['workflow'] as const,
    buckets: API_CALL_BUCKETS,
    registers,
  });
  const findings = new Counter({
    name: 'netdoctor_findings_total',
    help: 'Findings reported, by fault code, check, severity and whether it is a root cause.',
    labelNames: ['code', 'check', 'severity', 'root_cause'] as const,
    registers,
  });
  const checkFailures = new Counter({
    name: 'netdoctor_check_failures_total',
    help: 'Checks that threw during a diagnosis (reported, the run went on), by check.',
    labelNames: ['check'] as const,
    registers,
  });
  const remediations = new Counter({
    name: 'netdoctor_remediations_total',
    help: 'Plan applies that reached a terminal state, by outcome and the check the plan fixes.',
    labelNames: ['outcome', 'check'] as const,
    registers,
  });
  const slackErrors = new Counter({
    name: 'netdoctor_slack_api_errors_total',
    help: 'Failed Slack Web API calls, by method and Slack error code.',
    labelNames: ['method', 'error'] as const,
    registers,
  });
  const jobWait = new Histogram({
    name: 'netdoctor_queue_job_wait_seconds',
    help: 'Time a job waited in its queue before a worker picked it up.',
    labelNames: ['queue'] as const,
    buckets: JOB_WAIT_BUCKETS,
    registers,
  });

  const samplers: QueueSampler[] = [];
  const pushedDepth = new Map<string, number>();
  new Gauge({
    name: 'netdoctor_queue_jobs',
    help: 'Jobs in a queue by state (waiting, active, delayed, failed, ...).',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      const samples = await sampleAll();
      this.reset();
      for (const [key, n] of pushedDepth) {
        const [queue, state] = JSON.parse(key) as [string, string];
        this.set({ queue, state }, n);
      }
      for (const s of samples) for (const [state, n] of Object.entries(s.counts)) if (typeof n === 'number') this.set({ queue: s.queue, state }, n);
    },
  });
  new Gauge({
    name: 'netdoctor_queue_oldest_waiting_job_age_seconds',
    help: 'Age of the oldest job still waiting in a queue (0 when none waits).',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      const samples = await sampleAll();
      this.reset();
      for (const s of samples) this.set({ queue: s.queue }, s.oldestWaitingAgeSeconds ?? 0);
    },
  });
  const samplerErrors = new Counter({
    name: 'netdoctor_queue_sampler_errors_total',
    help: 'Queue samplers that failed during a scrape (Redis unreachable, ...).',
    registers,
    async collect() {
      await sampleAll(); // counted by this scrape's sampling round, whatever order the registry collects in
    },
  });

  // Both queue gauges are collected in the same scrape; share one sampling round per scrape.
  let inflight: Promise<QueueSample[]> | undefined;
  function sampleAll(): Promise<QueueSample[]> {
    if (!inflight) {
      inflight = Promise.all(
        samplers.map((s) =>
          s().catch(() => {
            samplerErrors.inc();
            return [] as QueueSample[];
          }),
        ),
      )
        .then((all) => all.flat())
        .finally(() => {
          // Gauges collected concurrently in one scrape share this round; the next scrape samples anew.
          inflight = undefined;
        });
    }
    return inflight;
  }

  return {
    registry,
    recordDiagnosis(report, outcome = verdictOf(report)) {
      const workflow = report.workflow;
      diagnoses.inc({ workflow, cluster: clusterLabel(report.target.cluster), outcome });
      duration.observe({ workflow }, report.stats.durationMs / 1000);
      apiCalls.observe({ workflow }, report.stats.apiCalls);
      for (const f of report.findings) findings.inc({ code: f.code, check: f.check, severity: f.severity, root_cause: String(f.rootCause) });
      for (const c of report.checks) if (c.status === 'failed') checkFailures.inc({ check: c.id });
    },
    recordDiagnosisError(workflow, cluster) {
      diagnoses.inc({ workflow, cluster: clusterLabel(cluster), outcome: 'error' });
    },
    recordRemediation(outcome, check = '') {
      remediations.inc({ outcome, check });
    },
    setQueueDepth(queue, state, count) {
      pushedDepth.set(JSON.stringify([queue, state]), count);
    },
    observeQueues(sampler) {
      samplers.push(sampler);
    },
    recordJobWait(queue, enqueuedAtMs, startedAtMs) {
      jobWait.observe({ queue }, Math.max(0, startedAtMs - enqueuedAtMs) / 1000);
    },
    recordSlackError(method, error) {
      slackErrors.inc({ method, error });
    },
  };
}
