// Observability wired into the processes, on real dependencies: diagnoses run by startWorkers are
// counted and scraped from the admin server's /metrics; `netdoctor worker` on the real apiserver
// serves /readyz (Redis, cluster, workers), publishes its namespaces and posts through Slack (the
// emulator); /readyz answers 503 naming the probe when Redis goes away.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { CliIo } from '../../../src/cli/io';
import { workerCommand } from '../../../src/cli/worker-command';
import { type Config, loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { type AdminServer, redisPing, startAdminServer } from '../../../src/observability/health';
import { createMetrics } from '../../../src/observability/metrics';
import { countingWebClient } from '../../../src/observability/slack-metrics';
import { queueAddress, queueLabel } from '../../../src/queue/jobs';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { dumpReaderFor } from '../../../src/cluster/connect';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { workerConnection } from '../../../src/queue/redis';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { webClientOptions } from '../../../src/slack/app';
import { redisNamespaceDirectory } from '../../../src/store/namespace-directory';
import { PrivateRedis, sharedRedisUrl } from '../../support/redis';
import { listScenarios } from '../../support/scenarios';
import { SlackEmulator } from '../../support/slack-emulator';
import { eventually } from '../../support/eventually';

jest.setTimeout(60_000);

const scenario = listScenarios().find((s) => s.name === 'triton-cni-missing')!;

/** The sample lines of one series whose labels include every given `name="value"`. */
function samples(text: string, name: string, labels: Record<string, string> = {}): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
}

function value(line: string | undefined): number {
  return Number(line?.split(' ').pop());
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}


async function finished(producer: Producer, events: QueueEvents, cluster: string, jobId: string): Promise<unknown> {
  const job = (await (await producer.queue(cluster, 'diagnose')).getJob(jobId))!;
  return job.waitUntilFinished(events);
}

describe('startWorkers with metrics, scraped from the admin server', () => {
  const CLUSTER = 'lab';
  const metrics = createMetrics({ defaultLabels: { component: 'worker' } });
  let config: Config;
  let workers: RunningWorkers;
  let admin: AdminServer;
  let producer: Producer;
  let events: QueueEvents;
  let probe: Redis;
  const surface = new RecordingSurface();

  beforeAll(async () => {
    config = loadConfig({ REDIS_URL: sharedRedisUrl(), NETDOCTOR_QUEUE_PREFIX: `t${process.pid}-metrics`, NETDOCTOR_CLUSTER: CLUSTER });
    probe = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
    admin = await startAdminServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, readiness: { redis: redisPing(probe) } });
    workers = await startWorkers({ config, surface, readerFor: dumpReaderFor(CLUSTER, scenario.dir), log: silentLogger, metrics });
    producer = await Producer.connect(producerOptions(config));
    const at = queueAddress(config.queuePrefix, CLUSTER, 'diagnose');
    events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await workers?.close();
    await events?.close();
    await producer?.close();
    await admin?.close();
    probe?.disconnect();
  });

  it('counts a diagnosis (outcome, duration, API calls, findings by check), one without a report, job wait and queue depth', async () => {
    const request = { cluster: CLUSTER, workflow: 'namespace-triage', requestedBy: 'U123', channel: 'C0NETOPS' };
    const ok = await producer.enqueueDiagnose({ ...request, namespace: scenario.expect.namespace });
    await finished(producer, events, CLUSTER, ok.jobId);
    const missing = await producer.enqueueDiagnose({ ...request, namespace: 'no-such-namespace' });
    await expect(finished(producer, events, CLUSTER, missing.jobId)).rejects.toThrow(/no-such-namespace/);

    const text = await scrape(admin.port);
    const wf = { workflow: 'namespace-triage', cluster: CLUSTER, component: 'worker' };
    expect(value(samples(text, 'netdoctor_diagnoses_total', { ...wf, outcome: 'broken' })[0])).toBe(1);
    expect(value(samples(text, 'netdoctor_diagnoses_total', { ...wf, outcome: 'error' })[0])).toBe(1);
    expect(value(samples(text, 'netdoctor_diagnosis_duration_seconds_count', { workflow: 'namespace-triage' })[0])).toBe(1);
    const [published] = surface.of('publishReport');
    const report = published!.report;
    expect(value(samples(text, 'netdoctor_diagnosis_api_calls_count', { workflow: 'namespace-triage' })[0])).toBe(1);
    expect(value(samples(text, 'netdoctor_diagnosis_api_calls_sum', { workflow: 'namespace-triage' })[0])).toBe(report.stats.apiCalls);
    expect(report.findings.some((f) => f.rootCause)).toBe(true);
    for (const f of report.findings) {
      const n = report.findings.filter((g) => g.code === f.code && g.check === f.check && g.severity === f.severity && g.rootCause === f.rootCause).length;
      expect(value(samples(text, 'netdoctor_findings_total', { code: f.code, check: f.check, severity: f.severity, root_cause: String(f.rootCause) })[0])).toBe(n);
    }

    const diagnoseQueue = queueLabel(queueAddress(config.queuePrefix, CLUSTER, 'diagnose'));
    expect(value(samples(text, 'netdoctor_queue_job_wait_seconds_count', { queue: diagnoseQueue })[0])).toBe(2);
    expect(value(samples(text, 'netdoctor_queue_jobs', { queue: diagnoseQueue, state: 'waiting' })[0])).toBe(0);
    expect(value(samples(text, 'netdoctor_queue_jobs', { queue: diagnoseQueue, state: 'failed' })[0])).toBe(1);
    expect(samples(text, 'netdoctor_queue_oldest_waiting_job_age_seconds', { queue: diagnoseQueue })).toHaveLength(1);
    expect(value(samples(text, 'netdoctor_queue_sampler_errors_total')[0])).toBe(0);
  });
});

describe('`netdoctor worker` on the real apiserver', () => {
  const CLUSTER = 'test';
  const signals = new EventEmitter();
  const prefix = `ndw${randomUUID().slice(0, 8)}`;
  let emulator: SlackEmulator;
  let exit: Promise<number> | undefined;
  let adminPort: number | undefined;
  let producer: Producer;
  let events: QueueEvents;
  let redis: Redis;
  const err: string[] = [];

  beforeAll(async () => {
    const kubeconfig = process.env.NETDOCTOR_TEST_KUBECONFIG;
    if (!kubeconfig) throw new Error('NETDOCTOR_TEST_KUBECONFIG not set: run through the integration jest project (globalSetup)');
    emulator = await SlackEmulator.start();
    const env = {
      REDIS_URL: sharedRedisUrl(),
      NETDOCTOR_QUEUE_PREFIX: prefix,
      NETDOCTOR_CLUSTER: CLUSTER,
      KUBECONFIG: kubeconfig,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: emulator.apiUrl,
      LOG_LEVEL: 'silent',
    };
    const io: CliIo = { stdout: () => undefined, stderr: (s) => void err.push(s), env, isTTY: false };
    exit = workerCommand([], io, { signals, adminPort: 0, onAdminListening: (p) => (adminPort = p) });
    const config = loadConfig(env);
    producer = await Producer.connect(producerOptions(config));
    const at = queueAddress(prefix, CLUSTER, 'diagnose');
    events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
    await events.waitUntilReady();
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    signals.emit('SIGTERM');
    await exit;
    await events?.close();
    await producer?.close();
    redis?.disconnect();
    await emulator?.close();
  });

  it('is ready once Redis, the apiserver and the workers are, and publishes its namespaces', async () => {
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      expect(await res.json()).toEqual({ status: 'ready', checks: { redis: { ok: true }, cluster: { ok: true }, workers: { ok: true } } });
      expect(res.status).toBe(200);
    });
    expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status).toBe(200);
    const known = await eventually(async () => {
      const k = await redisNamespaceDirectory(redis, prefix).known(CLUSTER);
      if (!k) throw new Error('namespaces not published yet');
      return k;
    });
    expect(known.namespaces).toEqual(expect.arrayContaining(['default', 'kube-system']));
  });

  it('posts a live diagnosis through Slack and counts it in /metrics', async () => {
    const { jobId } = await producer.enqueueDiagnose({ cluster: CLUSTER, namespace: 'kube-system', workflow: 'namespace-triage', requestedBy: 'U123', channel: 'C0OPS0001' });
    await finished(producer, events, CLUSTER, jobId);
    const [parent] = emulator.parents('C0OPS0001');
    expect(parent).toBeDefined();
    expect(SlackEmulator.current(parent!).text).toContain('kube-system');
    expect(emulator.callsTo('chat.update').length).toBeGreaterThan(0);

    const text = await scrape(adminPort!);
    const line = samples(text, 'netdoctor_diagnoses_total', { workflow: 'namespace-triage', cluster: CLUSTER, component: 'worker' });
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/outcome="(healthy|degraded|broken)".* 1$/);
    expect(value(samples(text, 'netdoctor_diagnosis_api_calls_sum', { workflow: 'namespace-triage' })[0])).toBeGreaterThan(0);
    expect(samples(text, 'netdoctor_queue_jobs', { queue: `${prefix}:${CLUSTER}:diagnose`, state: 'active' })).toHaveLength(1);
    expect(samples(text, 'process_resident_memory_bytes', { component: 'worker' })).toHaveLength(1);
  });

  it('stops on SIGTERM with exit code 0 and closes the admin port', async () => {
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(err.join('')).toBe('');
    await expect(fetch(`http://127.0.0.1:${adminPort}/healthz`)).rejects.toThrow();
  });
});

describe('/readyz when a dependency fails', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let admin: AdminServer;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    // As the processes' probe client: fails fast instead of queueing commands while Redis is down.
    client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    client.on('error', () => undefined);
    admin = await startAdminServer({ port: 0, host: '127.0.0.1', registry: createMetrics({ defaultMetrics: false }).registry, readiness: { redis: redisPing(client) } });
  });

  afterAll(async () => {
    await admin?.close();
    client?.disconnect();
    await redis?.stop();
  });

  it('is 200 with Redis up, 503 naming the redis probe once it is gone, 503 naming shutdown after markShuttingDown', async () => {
    const up = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${admin.port}/readyz`);
      expect(res.status).toBe(200);
      return res.json();
    });
    expect(up).toEqual({ status: 'ready', checks: { redis: { ok: true } } });

    await redis.stop();
    const down = await fetch(`http://127.0.0.1:${admin.port}/readyz`);
    expect(down.status).toBe(503);
    // Which probe failed, not its error text: /readyz has no auth (issue 16 item 7).
    expect(await down.json()).toEqual({ status: 'not ready', checks: { redis: { ok: false } } });
    expect((await fetch(`http://127.0.0.1:${admin.port}/healthz`)).status).toBe(200);

    admin.markShuttingDown();
    const stopping = await fetch(`http://127.0.0.1:${admin.port}/readyz`);
    expect(stopping.status).toBe(503);
    expect(await stopping.json()).toMatchObject({ checks: { shutdown: { ok: false } } });
  });
});

describe('Slack Web API errors', () => {
  let emulator: SlackEmulator;
  beforeAll(async () => {
    emulator = await SlackEmulator.start();
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('are counted by method and Slack error code (platform errors, HTTP errors after the retries); successes are not', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const client = countingWebClient('xoxb-test', webClientOptions({ apiUrl: emulator.apiUrl, retries: 0 }, silentLogger), metrics);
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 'fine' });
    await expect(client.chat.postMessage({ channel: '', text: 'nowhere' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    emulator.failNext('chat.update', { status: 503 });
    await expect(client.chat.update({ channel: 'C0OPS0001', ts: '1.0', text: 'x' })).rejects.toThrow();

    const text = await metrics.registry.metrics();
    expect(value(samples(text, 'netdoctor_slack_api_errors_total', { method: 'chat.postMessage', error: 'channel_not_found' })[0])).toBe(1);
    expect(value(samples(text, 'netdoctor_slack_api_errors_total', { method: 'chat.update', error: 'http_503' })[0])).toBe(1);
    expect(samples(text, 'netdoctor_slack_api_errors_total')).toHaveLength(2);
  });
});
