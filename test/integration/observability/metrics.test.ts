// The admin server with real dependencies: a live diagnosis on the real test apiserver is
// recorded and scraped from /metrics; /readyz probes the real Redis and apiserver.
import * as k8s from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { CHECKS } from '../../../src/checks';
import { KubeApi } from '../../../src/cluster/kube-api';
import { LiveReader } from '../../../src/cluster/live-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { type AdminServer, clusterReachable, redisPing, startAdminServer } from '../../../src/observability/health';
import { createMetrics } from '../../../src/observability/metrics';

jest.setTimeout(60_000);

describe('admin server on real dependencies', () => {
  let api: KubeApi;
  let redis: Redis;
  let server: AdminServer;
  const metrics = createMetrics({ defaultLabels: { component: 'worker' } });

  beforeAll(async () => {
    const kubeconfig = process.env.NETDOCTOR_TEST_KUBECONFIG;
    if (!kubeconfig || !process.env.REDIS_URL) throw new Error('NETDOCTOR_TEST_KUBECONFIG/REDIS_URL not set: run through the integration jest project (globalSetup)');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    api = await KubeApi.fromKubeConfig(kc);
    redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
    server = await startAdminServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      readiness: { redis: redisPing(redis), cluster: clusterReachable(() => api.request('/version')) },
    });
  });

  afterAll(async () => {
    await server?.close();
    redis?.disconnect();
    api?.close();
  });

  it('/metrics carries a live diagnosis of kube-system: outcome, duration, API calls, findings by check', async () => {
    const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
    const report = await diagnose({ runId: 'metrics-live', log: silentLogger, clock: () => new Date() }, new LiveReader(api, { cluster: 'test' }), workflow, {
      cluster: 'test',
      namespace: 'kube-system',
    });
    expect(report.stats.apiCalls).toBeGreaterThan(0);
    // At least the namespace object's JSON came back for every call.
    expect(report.stats.readBytes).toBeGreaterThan(report.stats.apiCalls * 100);
    metrics.recordDiagnosis(report);

    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const line = (name: string, labels: string) => text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    expect(line('netdoctor_diagnoses_total', 'workflow="namespace-triage",cluster="test"')).toMatch(/outcome="(healthy|degraded|broken)".* 1$/);
    expect(line('netdoctor_diagnosis_api_calls_sum', 'workflow="namespace-triage"')).toMatch(new RegExp(` ${report.stats.apiCalls}$`));
    expect(line('netdoctor_diagnosis_duration_seconds_count', 'workflow="namespace-triage"')).toMatch(/ 1$/);
    for (const f of report.findings) expect(line('netdoctor_findings_total', `check="${f.check}"`)).toBeDefined();
  });

  it('/readyz is 200 with Redis and the apiserver reachable', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready', checks: { redis: { ok: true }, cluster: { ok: true } } });
    expect(res.status).toBe(200);
  });
});
