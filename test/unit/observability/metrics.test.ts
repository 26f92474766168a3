import { join } from 'node:path';
import { Registry } from 'prom-client';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { Report } from '../../../src/domain/report';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { type AdminServer, redisPing, slackAuth, startAdminServer } from '../../../src/observability/health';
import type { Queue } from 'bullmq';
import { type Metrics, type SampledQueue, createMetrics, queueSampler } from '../../../src/observability/metrics';
import { EXAMPLES_DIR } from '../../support/scenarios';

const LAB = join(EXAMPLES_DIR, 'kube-proxy-lab');

async function get(server: AdminServer, path: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

/** The value of one sample line, e.g. sample(text, 'netdoctor_diagnoses_total', {workflow: 'x'}). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('admin server /metrics after a real diagnosis', () => {
  let metrics: Metrics;
  let server: AdminServer;
  let report: Report;
  let redisUp = true;

  beforeAll(async () => {
    const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
    report = await diagnose({ runId: 'metrics', log: silentLogger, clock: () => new Date() }, new DumpReader(LAB), workflow, {
      cluster: 'triton',
      namespace: 'triton',
    });
    metrics = createMetrics({ registry: new Registry(), defaultLabels: { component: 'worker' } });
    metrics.recordDiagnosis(report);
    metrics.recordDiagnosisError('namespace-triage', 'triton');
    metrics.recordRemediation('applied', 'kube-proxy-config-path');
    metrics.recordSlackError('chat.postMessage', 'ratelimited');
    metrics.recordJobWait('netdoctor:triton:diagnose', 1_000, 3_500);
    metrics.setQueueDepth('netdoctor:triton:remediate', 'waiting', 1);
    metrics.observeQueues(async () => [
      { queue: 'netdoctor:triton:diagnose', counts: { waiting: 3, active: 1, delayed: 0, failed: 2 }, oldestWaitingAgeSeconds: 42 },
    ]);
    server = await startAdminServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      readiness: {
        redis: redisPing({ ping: async () => (redisUp ? 'PONG' : Promise.reject(new Error('connect ECONNREFUSED'))) }),
        slack: slackAuth({ auth: { test: async () => ({ ok: true }) } }),
      },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('the scenario produced a broken verdict with a kube-proxy root cause', () => {
    expect(report.findings.some((f) => f.rootCause && f.severity === 'critical')).toBe(true);
  });

  it('exposes diagnoses, duration, API calls and findings by check', async () => {
    const res = await get(server, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    const t = res.body;
    expect(sample(t, 'netdoctor_diagnoses_total', { workflow: 'namespace-triage', cluster: 'triton', outcome: 'broken', component: 'worker' })).toBe(1);
    expect(sample(t, 'netdoctor_diagnoses_total', { workflow: 'namespace-triage', cluster: 'triton', outcome: 'error' })).toBe(1);
    expect(sample(t, 'netdoctor_diagnosis_duration_seconds_count', { workflow: 'namespace-triage' })).toBe(1);
    expect(sample(t, 'netdoctor_diagnosis_duration_seconds_sum', { workflow: 'namespace-triage' })).toBe(report.stats.durationMs / 1000);
    expect(sample(t, 'netdoctor_diagnosis_api_calls_count', { workflow: 'namespace-triage' })).toBe(1);
    expect(sample(t, 'netdoctor_diagnosis_api_calls_sum', { workflow: 'namespace-triage' })).toBe(report.stats.apiCalls);
    const byCheck = new Map<string, number>();
    for (const f of report.findings) byCheck.set(`${f.code}/${f.check}/${f.severity}/${f.rootCause}`, (byCheck.get(`${f.code}/${f.check}/${f.severity}/${f.rootCause}`) ?? 0) + 1);
    expect(byCheck.size).toBeGreaterThan(0);
    for (const [key, n] of byCheck) {
      const [code, check, severity, rootCause] = key.split('/') as [string, string, string, string];
      expect(sample(t, 'netdoctor_findings_total', { code, check, severity, root_cause: rootCause })).toBe(n);
    }
  });

  it('exposes remediations, queue depth and job age, Slack errors and process metrics', async () => {
    const t = (await get(server, '/metrics')).body;
    expect(sample(t, 'netdoctor_remediations_total', { outcome: 'applied', check: 'kube-proxy-config-path' })).toBe(1);
    expect(sample(t, 'netdoctor_slack_api_errors_total', { method: 'chat.postMessage', error: 'ratelimited' })).toBe(1);
    expect(sample(t, 'netdoctor_queue_jobs', { queue: 'netdoctor:triton:diagnose', state: 'waiting' })).toBe(3);
    expect(sample(t, 'netdoctor_queue_jobs', { queue: 'netdoctor:triton:diagnose', state: 'failed' })).toBe(2);
    expect(sample(t, 'netdoctor_queue_jobs', { queue: 'netdoctor:triton:remediate', state: 'waiting' })).toBe(1);
    expect(sample(t, 'netdoctor_queue_oldest_waiting_job_age_seconds', { queue: 'netdoctor:triton:diagnose' })).toBe(42);
    expect(sample(t, 'netdoctor_queue_job_wait_seconds_sum', { queue: 'netdoctor:triton:diagnose' })).toBe(2.5);
    expect(sample(t, 'process_cpu_seconds_total')).toBeDefined();
  });

  it('queueSampler reads BullMQ-shaped queues: counts by state and the oldest waiting job\'s age', async () => {
    // Compile-time: a real BullMQ Queue is a SampledQueue.
    const compatible: Queue extends SampledQueue ? true : never = true;
    expect(compatible).toBe(true);
    const asked: string[][] = [];
    const queue: SampledQueue = {
      name: 'netdoctor:triton:diagnose',
      getJobCounts: async (...types) => (asked.push(types), { waiting: 4, active: 1, delayed: 0, failed: 0, paused: 0, prioritized: 0, 'waiting-children': 0 }),
      getWaiting: async (start, end) => (start === 0 && end === 0 ? [{ timestamp: 10_000 }] : []),
    };
    const empty: SampledQueue = { name: 'netdoctor:triton:digest', getJobCounts: async () => ({ waiting: 0 }), getWaiting: async () => [] };
    const m = createMetrics({ defaultMetrics: false });
    m.observeQueues(queueSampler([queue, empty], () => 70_000));
    const text = await m.registry.metrics();
    expect(asked[0]).toEqual(expect.arrayContaining(['waiting', 'active', 'delayed', 'failed']));
    expect(sample(text, 'netdoctor_queue_jobs', { queue: 'netdoctor:triton:diagnose', state: 'waiting' })).toBe(4);
    expect(sample(text, 'netdoctor_queue_jobs', { queue: 'netdoctor:triton:diagnose', state: 'active' })).toBe(1);
    expect(sample(text, 'netdoctor_queue_oldest_waiting_job_age_seconds', { queue: 'netdoctor:triton:diagnose' })).toBe(60);
    expect(sample(text, 'netdoctor_queue_oldest_waiting_job_age_seconds', { queue: 'netdoctor:triton:digest' })).toBe(0);
  });

  it('a failing queue sampler does not break the scrape', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeQueues(async () => Promise.reject(new Error('redis down')));
    const text = await m.registry.metrics();
    expect(sample(text, 'netdoctor_queue_sampler_errors_total')).toBeGreaterThan(0);
  });

  it('/healthz is 200; /readyz is 200 with every probe ok, 503 naming the failing probe, 503 once shutting down', async () => {
    expect((await get(server, '/healthz')).status).toBe(200);
    const ok = await get(server, '/readyz');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ status: 'ready', checks: { redis: { ok: true }, slack: { ok: true } } });

    redisUp = false;
    const down = await get(server, '/readyz');
    expect(down.status).toBe(503);
    // Which probe failed, not its error text: /readyz has no auth (issue 16 item 7).
    expect(JSON.parse(down.body).checks.redis).toEqual({ ok: false });
    expect(down.body).not.toContain('ECONNREFUSED');
    redisUp = true;

    expect((await get(server, '/readyz')).status).toBe(200);
    server.markShuttingDown();
    const stopping = await get(server, '/readyz');
    expect(stopping.status).toBe(503);
    expect(JSON.parse(stopping.body).checks.shutdown.ok).toBe(false);
    expect((await get(server, '/healthz')).status).toBe(200);
    expect((await get(server, '/nope')).status).toBe(404);
  });

  it('slackAuth caches auth.test for its TTL and reports Slack\'s error code', async () => {
    let calls = 0;
    let now = 0;
    const probe = slackAuth({ auth: { test: async () => (calls++, { ok: false, error: 'invalid_auth' }) } }, 60_000, () => now);
    await expect(probe()).rejects.toThrow('slack auth.test: invalid_auth');
    await expect(probe()).rejects.toThrow('invalid_auth');
    expect(calls).toBe(1);
    now = 60_000;
    await expect(probe()).rejects.toThrow('invalid_auth');
    expect(calls).toBe(2);
  });
});
