import { Writable } from 'node:stream';
import { QueueEvents } from 'bullmq';
import { ApiError } from '../../../src/domain/errors';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { type Config, loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/observability/logger';
import { queueAddress } from '../../../src/queue/jobs';
import { Producer, REMEDIATE_WORKER_OPTIONS, producerOptions } from '../../../src/queue/queues';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { workerConnection } from '../../../src/queue/redis';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import type { LeasedReader } from '../../../src/domain/cluster-view';
import { listScenarios, scenarioMismatch } from '../../support/scenarios';
import { sharedRedisUrl } from '../../support/redis';

jest.setTimeout(60_000);

const CLUSTER = 'lab';
const scenario = listScenarios().find((s) => s.name === 'triton-kube-proxy-config')!;

/** Holds reads until released: keeps a run in flight while the test acts. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
}

let config: Config;
let producer: Producer;
let workers: RunningWorkers;
let events: QueueEvents;
const surface = new RecordingSurface();
const logLines: string[] = [];
let reads = 0;
let gate: Gate | undefined;
let readerFailures: Error[] = [];

function readerFor(cluster: string): LeasedReader {
  if (cluster !== CLUSTER) throw new Error(`no reader for ${cluster}`);
  const dump = new DumpReader(scenario.dir);
  return {
    apiCalls: 0,
    namespaceExists: (ns) => dump.namespaceExists(ns),
    read: async (scope) => {
      reads++;
      const failure = readerFailures.shift();
      if (failure) throw failure;
      await gate?.opened;
      return dump.read(scope);
    },
  };
}

const request = (over: Partial<Parameters<Producer['enqueueDiagnose']>[0]> = {}) => ({
  cluster: CLUSTER,
  namespace: 'triton',
  workflow: 'namespace-triage',
  requestedBy: 'U123',
  channel: 'C0NETOPS',
  ...over,
});

beforeAll(async () => {
  config = loadConfig({
    REDIS_URL: sharedRedisUrl(),
    NETDOCTOR_QUEUE_PREFIX: `t${process.pid}-diag`,
    NETDOCTOR_CLUSTER: CLUSTER,
    NETDOCTOR_REPORT_TTL_SECONDS: '600',
    NETDOCTOR_WORKER_CONCURRENCY: '2',
  });
  const log = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => {
    logLines.push(String(c));
    cb();
  } }) });
  workers = await startWorkers({ config, surface, readerFor, log, tuning: { backoffMs: 50 } });
  producer = await Producer.connect(producerOptions(config));
  const at = queueAddress(config.queuePrefix, CLUSTER, 'diagnose');
  events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  await workers?.close();
  await events?.close();
  const queue = await producer?.queue(CLUSTER, 'diagnose');
  await queue?.obliterate({ force: true });
  await producer?.close();
});

async function finished(jobId: string): Promise<unknown> {
  const job = (await (await producer.queue(CLUSTER, 'diagnose')).getJob(jobId))!;
  return job.waitUntilFinished(events);
}

async function failedReason(jobId: string): Promise<string> {
  await expect(finished(jobId)).rejects.toThrow();
  const job = (await (await producer.queue(CLUSTER, 'diagnose')).getJob(jobId))!;
  return job.failedReason;
}

describe('diagnose queue (real Redis)', () => {
  it('runs a shared scenario, stores the report and its plans, and hands it to the chat surface', async () => {
    const withExtra = { ...request(), response_url: 'https://hooks.slack.com/commands/secret' };
    const { jobId, joined } = await producer.enqueueDiagnose(withExtra);
    expect(joined).toBe(false);
    expect(jobId).not.toContain(':');
    const queued = (await (await producer.queue(CLUSTER, 'diagnose')).getJob(jobId))!;
    expect(queued.data).toEqual(request());
    await finished(jobId);

    const published = surface.of('publishReport').filter((c) => c.runId === jobId);
    expect(published).toHaveLength(1);
    expect(scenarioMismatch(published[0]!.report, scenario.expect)).toBeUndefined();
    expect(surface.calls.filter((c) => 'runId' in c && c.runId === jobId).map((c) => (c.method === 'stage' ? c.stage : c.method))).toEqual([
      'openRun',
      'reading',
      'analysing',
      'done',
      'publishReport',
    ]);

    const stored = await producer.loadReport(CLUSTER, jobId);
    expect(stored).toEqual(JSON.parse(JSON.stringify(published[0]!.report)));
    const plan = stored!.findings.find((f) => f.plan)?.plan;
    expect(plan).toBeDefined();
    const loaded = await producer.loadPlan(CLUSTER, plan!.id);
    expect(loaded).toMatchObject({ plan, cluster: CLUSTER, runId: jobId, namespace: 'triton' });
    expect(await producer.loadPlan('other', plan!.id)).toBeUndefined();

    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.jobId === jobId);
    expect(lines.some((l) => l.msg === 'diagnosis published' && l.cluster === CLUSTER)).toBe(true);
  });

  it('runs the engine once for two identical concurrent requests; the second joins the first', async () => {
    gate = new Gate();
    const readsBefore = reads;
    const [a, b] = await Promise.all([producer.enqueueDiagnose(request()), producer.enqueueDiagnose(request())]);
    const [first, second] = a.joined ? [b, a] : [a, b];
    expect(first.joined).toBe(false);
    expect(second).toMatchObject({ joined: true, jobId: first.jobId, channel: 'C0NETOPS' });

    // While it runs, a third request learns the parent message the worker opened.
    await surface.waitFor((c) => c.method === 'stage' && c.runId === first.jobId && c.stage === 'reading');
    const third = await producer.enqueueDiagnose(request({ requestedBy: 'U999' }));
    const opened = surface.of('openRun').find((c) => c.runId === first.jobId)!;
    expect(third).toMatchObject({ joined: true, jobId: first.jobId, parentTs: opened.ts });

    gate.release();
    gate = undefined;
    await finished(first.jobId);
    expect(reads - readsBefore).toBe(1);
    expect(surface.of('publishReport').filter((c) => c.runId === first.jobId)).toHaveLength(1);

    // Once finished, the same request starts a new run.
    const again = await producer.enqueueDiagnose(request());
    expect(again.joined).toBe(false);
    expect(again.jobId).not.toBe(first.jobId);
    await finished(again.jobId);
  });

  it('is idempotent per request id (a redelivered Slack command enqueues once)', async () => {
    const one = await producer.enqueueDiagnose(request({ namespace: 'kube-system' }), 'T1:trigger:42');
    const two = await producer.enqueueDiagnose(request({ namespace: 'kube-system' }), 'T1:trigger:42');
    expect(one.jobId).toBe('diagnose-T1_trigger_42');
    expect(two.jobId).toBe(one.jobId);
    await finished(one.jobId);
  });

  it('fails bad job data with a clear reason and keeps the worker running', async () => {
    const queue = await producer.queue(CLUSTER, 'diagnose');
    const foreign = await queue.add('diagnose', { ...request(), cluster: 'prod-eu' }, { jobId: 'bad-cluster' });
    const malformed = await queue.add('diagnose', { hello: 'world' }, { jobId: 'bad-shape' });
    const hostile = await queue.add('diagnose', { ...request(), namespace: '../../etc' }, { jobId: 'bad-namespace' });
    expect(await failedReason(foreign.id!)).toBe('bad job data: unknown cluster "prod-eu": this worker serves cluster "lab"');
    expect(await failedReason(malformed.id!)).toBe('bad job data: `cluster` is missing');
    expect(await failedReason(hostile.id!)).toBe('bad job data: `namespace` must be a namespace name (DNS label)');
    for (const id of [foreign.id!, malformed.id!, hostile.id!]) {
      expect((await queue.getJob(id))!.attemptsMade).toBe(1);
    }

    const good = await producer.enqueueDiagnose(request());
    await finished(good.jobId);
    expect(surface.of('publishReport').some((c) => c.runId === good.jobId)).toBe(true);
  });

  it('rejects a malformed request at the producer with a user error', async () => {
    await expect(producer.enqueueDiagnose(request({ cluster: 'Prod:EU' }))).rejects.toThrow('`cluster` must be a cluster name (DNS label)');
  });

  it('fails at once with a user-facing reason on an unknown namespace or workflow', async () => {
    const ns = await producer.enqueueDiagnose(request({ namespace: 'atlantis' }));
    expect(await failedReason(ns.jobId)).toBe('namespace "atlantis" does not exist in cluster lab');
    expect(surface.of('failRun').find((c) => c.runId === ns.jobId)?.reason).toBe('namespace "atlantis" does not exist in cluster lab');

    const wf = await producer.enqueueDiagnose(request({ workflow: 'no-such-workflow' }));
    expect(await failedReason(wf.jobId)).toMatch(/^unknown workflow "no-such-workflow"; known: /);
    const queue = await producer.queue(CLUSTER, 'diagnose');
    expect((await queue.getJob(wf.jobId))!.attemptsMade).toBe(1);
  });

  it('retries transient apiserver and Slack errors, and fails a 403 at once with what to fix', async () => {
    readerFailures = [new ApiError(503, 'ServiceUnavailable', '503 ServiceUnavailable: etcd leader changed')];
    surface.failNext('publishReport', Object.assign(new Error('slack rate limited'), { transient: true, retryAfterMs: 20 }));
    const flaky = await producer.enqueueDiagnose(request());
    await finished(flaky.jobId);
    const queue = await producer.queue(CLUSTER, 'diagnose');
    // Two failed attempts (the 503, the Slack 429), then the one that completed.
    expect((await queue.getJob(flaky.jobId))!.attemptsMade).toBe(3);
    expect(surface.of('publishReport').filter((c) => c.runId === flaky.jobId)).toHaveLength(1);
    expect(surface.of('openRun').filter((c) => c.runId === flaky.jobId)).toHaveLength(1);

    readerFailures = [new ApiError(403, 'Forbidden', '403 Forbidden: pods is forbidden: User "system:serviceaccount:netdoctor:netdoctor" cannot list resource "pods" in API group "" in the namespace "triton"')];
    const forbidden = await producer.enqueueDiagnose(request());
    const reason = "the bot's ServiceAccount may not list pods in namespace triton (403 Forbidden): add the netdoctor-reader binding";
    expect(await failedReason(forbidden.jobId)).toBe(reason);
    expect((await queue.getJob(forbidden.jobId))!.attemptsMade).toBe(1);
    expect(surface.of('failRun').find((c) => c.runId === forbidden.jobId)?.reason).toBe(reason);

    // A final Slack error before the run has a message (the bot is not in the channel): no retries.
    surface.failNext('openRun', Object.assign(new Error('Slack refused chat.postMessage (not_in_channel)'), { transient: false }));
    const nowhere = await producer.enqueueDiagnose(request());
    expect(await failedReason(nowhere.jobId)).toBe('Slack refused chat.postMessage (not_in_channel)');
    expect((await queue.getJob(nowhere.jobId))!.attemptsMade).toBe(1);
  });

  it('queues an approved plan for a single, never-retried remediation run; a double click enqueues once', async () => {
    const approved = { cluster: CLUSTER, planId: 'plan-0123456789abcdef', action: 'apply' as const, approvedBy: 'U42', channel: 'C0NETOPS' };
    const a = await producer.enqueueRemediate(approved, 'action-1700000000.1');
    const b = await producer.enqueueRemediate(approved, 'action-1700000000.1');
    expect(b.jobId).toBe(a.jobId);
    expect(a.jobId).toBe('remediate-plan-0123456789abcdef-action-1700000000.1');
    const queue = await producer.queue(CLUSTER, 'remediate');
    const job = (await queue.getJob(a.jobId))!;
    expect(job.data).toEqual(approved);
    expect(job.opts.attempts).toBe(1);
    expect(REMEDIATE_WORKER_OPTIONS.maxStalledCount).toBe(0);
    await expect(producer.enqueueRemediate({ ...approved, planId: 'plan-../../x' }, 'x')).rejects.toThrow('`planId` must be a plan id');
    await job.remove();
  });

  it('reports queue depth, failures and workers for the operator', async () => {
    const status = await producer.queueStatus(CLUSTER);
    expect(status.queues.diagnose).toMatchObject({ name: `${config.queuePrefix}:lab:diagnose`, active: 0, workers: 1 });
    expect(status.queues.diagnose.failed).toBeGreaterThanOrEqual(5);
    expect(status.queues.remediate).toMatchObject({ name: `${config.queuePrefix}:lab:remediate`, waiting: 0 });
  });
});

