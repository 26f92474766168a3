// netdoctor on a real three-master Redis Cluster (REDIS_CLUSTER_NODES): every Lua script, MULTI
// and pipeline netdoctor runs outside BullMQ, and BullMQ's own (queue, deduplication, workers,
// job scheduler), must find its keys in one hash slot or Redis refuses with CROSSSLOT. The stores
// are driven through each of their multi-key paths, the queue runs a diagnosis and a digest end
// to end, the remediation flow (propose, approve, one PATCH on the real apiserver, verify,
// rollback) runs end to end, and every key in the Cluster carries one of netdoctor's hash tags.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { RawObject } from '../../../src/domain/kube-types';
import { decidePlan } from '../../../src/remediation/decide-plan';
import { type Config, loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { RecordingSurface, type SurfaceCall } from '../../../src/cli/console-surface';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { type RedisClient, checkRedis, redisClient } from '../../../src/queue/redis';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { redisDeliveryDedupe } from '../../../src/slack/app';
import { AuditLog, auditKey } from '../../../src/store/audit-log';
import { sharedKey } from '../../../src/store/keys';
import { redisNamespaceDirectory } from '../../../src/store/namespace-directory';
import { PlanLedger } from '../../../src/store/plan-ledger';
import { startCountingProxy } from '../../support/counting-proxy';
import { eventually } from '../../support/eventually';
import { RedisClusterLab } from '../../support/redis-ha';
import { type RemediationHarness, startRemediationHarness } from '../../support/remediation-harness';
import { rollOutDaemonSet } from '../../support/rollout';
import { SCENARIO_DIR, listScenarios } from '../../support/scenarios';

jest.setTimeout(180_000);

const CLUSTER = 'lab';
const CHANNEL = 'C0NETOPS';
const scenario = listScenarios().find((s) => s.name === 'triton-kube-proxy-config') ?? listScenarios().find((s) => s.expect.rootCause)!;

let lab: RedisClusterLab;
let config: Config;
let client: RedisClient;
let producer: Producer | undefined;
let workers: RunningWorkers | undefined;
const surface = new RecordingSurface();

beforeAll(async () => {
  lab = await RedisClusterLab.start();
  config = loadConfig({
    REDIS_CLUSTER_NODES: lab.nodeList,
    NETDOCTOR_QUEUE_PREFIX: `ndcl${randomUUID().slice(0, 6)}`,
    NETDOCTOR_CLUSTER: CLUSTER,
    NETDOCTOR_DIGEST_CHANNEL: CHANNEL,
  });
  client = redisClient(config.redis, 'worker');
  workers = await startWorkers({ config, surface, log: silentLogger, readerFor: () => new DumpReader(scenario.dir) });
  producer = await Producer.connect(producerOptions(config));
});

/** The hash tag each key in the Cluster starts with, read from every master directly. */
async function tagsInCluster(): Promise<string[]> {
  const keys: string[] = [];
  for (const node of lab.nodes) {
    const direct = new Redis({ port: node.port, host: '127.0.0.1' });
    try {
      keys.push(...(await direct.keys('*')));
    } finally {
      direct.disconnect();
    }
  }
  return [...new Set(keys.map((k) => /^\{[^}]*\}/.exec(k)?.[0] ?? `untagged: ${k}`))].sort();
}

afterAll(async () => {
  await workers?.close();
  await producer?.close();
  await client?.quit();
  await lab?.stop();
});

describe('on a three-master Redis Cluster', () => {
  it('passes the start-up check (noeviction, version) through the Cluster client', async () => {
    expect(config.redis.mode).toBe('cluster');
    await expect(checkRedis(config.redis)).resolves.toMatchObject({ policy: 'noeviction' });
  });

  it('runs a diagnosis end to end: enqueue with deduplication, worker, report and plans stored in one MULTI', async () => {
    const request = { cluster: CLUSTER, namespace: scenario.expect.namespace, workflow: 'namespace-triage', requestedBy: 'U0ALICE01', channel: CHANNEL };
    const first = await producer!.enqueueDiagnose(request, 'req-1');
    const second = await producer!.enqueueDiagnose(request, 'req-2');
    const published = (await surface.waitFor((c) => c.method === 'publishReport' && c.runId === first.jobId)) as Extract<SurfaceCall, { method: 'publishReport' }>;
    const report = await producer!.loadReport(CLUSTER, first.jobId);
    expect(report?.findings.length).toBe(published.report.findings.length);
    for (const plan of published.report.findings.flatMap((f) => (f.plan ? [f.plan] : []))) {
      expect((await producer!.loadPlan(CLUSTER, plan.id))?.plan.id).toBe(plan.id);
    }
    // The identical request joined the run in flight (BullMQ's deduplication script) or, if the first had finished, ran on its own.
    if (second.joined) expect(second.jobId).toBe(first.jobId);
    else await surface.waitFor((c) => c.method === 'publishReport' && c.runId === second.jobId);
  });

  it('runs the plan ledger\'s compare-and-set scripts and the audit stream', async () => {
    const ledger = new PlanLedger(client, config.queuePrefix, 600);
    const now = new Date();
    const entry = { planId: 'plan-00000000000000aa', cluster: CLUSTER, diffHash: 'h', diff: '- a\n+ b', targets: [], requestedBy: 'U0ALICE01', channel: CHANNEL, dryRunAt: now.toISOString() };
    expect((await ledger.propose(entry, now)).state).toBe('proposed');
    expect(await ledger.clusterOf(entry.planId)).toBe(CLUSTER);
    expect(await ledger.transition(CLUSTER, entry.planId, ['proposed'], 'approved', { decidedBy: 'U0BOB0001' }, now)).toMatchObject({ ok: true });
    expect(await ledger.transition(CLUSTER, entry.planId, ['proposed'], 'approved', {}, now)).toEqual({ ok: false, state: 'approved' });
    expect(await ledger.annotate(CLUSTER, entry.planId, { messageTs: '1700000000.000100' }, now)).toMatchObject({ state: 'approved' });
    const audit = new AuditLog(client, auditKey(config.queuePrefix), silentLogger, 100);
    await audit.append({ at: now.toISOString(), event: 'approved', cluster: CLUSTER, planId: entry.planId, actor: 'U0BOB0001' });
    expect((await audit.recent(1)).map((e) => e.event)).toEqual(['approved']);
  });

  it('runs the run store\'s claims and the digest history MULTI; a digest runs end to end', async () => {
    const store = producer!.store;
    expect(await store.claimOnce(CLUSTER, 'notice-1')).toBe(true);
    expect(await store.claimOnce(CLUSTER, 'notice-1')).toBe(false);
    expect(await store.claimDigestDay(CLUSTER, '2026-01-01', 'job-a')).toBe('claimed');
    expect(await store.claimDigestDay(CLUSTER, '2026-01-01', 'job-b')).toBe('taken');
    await store.releaseDigestDay(CLUSTER, '2026-01-01', 'job-a');
    const { jobId } = await producer!.triggerDigestNow(CLUSTER, { channel: CHANNEL });
    await surface.waitFor((c) => c.method === 'publishDigest');
    const history = await eventually(async () => {
      const h = await producer!.digestHistory(CLUSTER);
      expect(h.length).toBeGreaterThan(0); // appended right after the post
      return h;
    });
    await store.appendDigest(CLUSTER, history.at(-1)!, 5); // same day: the MULTI replaces it
    expect(await producer!.digestHistory(CLUSTER)).toHaveLength(history.length);
    expect(jobId).toMatch(/^digest-manual-/);
    // The scheduler (upsertJobScheduler) lives in the digest queue's slot too.
    expect((await producer!.queueStatus(CLUSTER)).nextDigestAt).toBeDefined();
  });

  it('runs the Slack delivery dedupe pipeline and the namespace directory', async () => {
    const dedupe = redisDeliveryDedupe(client, sharedKey(config.queuePrefix, 'slack'));
    expect(await dedupe.firstSeen(['http:a', 'trigger:b', 'trigger:c'])).toBe(true);
    expect(await dedupe.firstSeen(['http:a', 'trigger:d'])).toBe(false);
    const directory = redisNamespaceDirectory(client, config.queuePrefix);
    await directory.publish(CLUSTER, ['b', 'a'], new Date());
    expect((await directory.known(CLUSTER))?.namespaces).toEqual(['a', 'b']);
  });

  it('queues an approved remediation in the cluster\'s slot', async () => {
    const { jobId } = await producer!.enqueueRemediate({ cluster: CLUSTER, planId: 'plan-00000000000000aa', action: 'apply', approvedBy: 'U0BOB0001', channel: CHANNEL }, 'approval-1');
    const queue = await producer!.queue(CLUSTER, 'remediate');
    expect(await queue.getJob(jobId)).toBeDefined();
  });

  it('left every key under one of two hash tags: the cluster\'s (queues and data) or the shared one', async () => {
    expect(await tagsInCluster()).toEqual([`{${config.queuePrefix}:${CLUSTER}}`, `{${config.queuePrefix}}`].sort());
  });

  // The same Cluster, a queue prefix of its own, workers that read and write the real test apiserver.
  describe('the remediation flow on the real apiserver', () => {
    const [REQUESTER, BOB] = ['UREQUEST1', 'UBOBBOBB1'];
    const DS_PATH = '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy';
    const RBAC_NAME = 'nd-redis-cluster-ds';
    const dir = mkdtempSync(join(tmpdir(), 'nd-redis-cluster-'));
    const flowSurface = new RecordingSurface();
    let flowConfig: Config;
    let proxy: Awaited<ReturnType<typeof startCountingProxy>> | undefined;
    let kubelet: ScriptedKubelet | undefined;
    let loaded: LoadedScenario | undefined;
    let harness: RemediationHarness | undefined;

    const readDs = (): Promise<RawObject> => kubelet!.rest.request<RawObject>('GET', DS_PATH);
    const command = (ds: RawObject): string[] => (ds.spec as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!.command;
    const planState = (planId: string, state: string, detail = /./) =>
      flowSurface.waitFor((c) => c.method === 'showPlanState' && c.view.planId === planId && c.view.state === state && detail.test(c.view.detail ?? state));

    beforeAll(async () => {
      const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
      flowConfig = loadConfig({
        REDIS_CLUSTER_NODES: lab.nodeList,
        NETDOCTOR_QUEUE_PREFIX: `ndrm${randomUUID().slice(0, 6)}`,
        NETDOCTOR_CLUSTER: CLUSTER,
        NETDOCTOR_APPROVERS: [REQUESTER, BOB].join(','),
        NETDOCTOR_PLAN_KEY: 'integration-test-plan-key-0123456789abcdef',
        NETDOCTOR_IDENTITY_MAP: `${BOB}=alice`,
      });
      proxy = await startCountingProxy(admin);
      const proxyKubeconfig = join(dir, 'proxy.kubeconfig');
      writeFileSync(proxyKubeconfig, proxy.kubeconfig);
      kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
      loaded = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
      // The approver's mapped Kubernetes user must be allowed the patch (SubjectAccessReview before the write).
      await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: RBAC_NAME }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
      await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: RBAC_NAME }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RBAC_NAME }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);
      harness = await startRemediationHarness({ config: flowConfig, surface: flowSurface, cluster: CLUSTER, readKubeconfig: admin, writeKubeconfig: proxyKubeconfig });
    });

    afterAll(async () => {
      await harness?.close();
      await loaded?.unload();
      await kubelet?.stop();
      await proxy?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('diagnoses, proposes the kube-proxy plan, applies it once on Approve, verifies "fixed", and rolls back', async () => {
      const { producer, deps } = harness!;
      expect(flowConfig.redis.mode).toBe('cluster');
      const { jobId } = await producer.enqueueDiagnose({ cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: REQUESTER, channel: CHANNEL }, 'flow-1');
      const published = (await flowSurface.waitFor((c) => c.method === 'publishReport' && c.runId === jobId)) as Extract<SurfaceCall, { method: 'publishReport' }>;
      const root = published.report.findings.find((f) => f.rootCause)!;
      expect(root.subject).toMatchObject({ kind: 'DaemonSet', name: 'kube-proxy' });
      const planId = root.plan!.id;
      const { parentTs } = published;
      expect(published.proposals[planId]).toMatchObject({ status: 'proposed', diff: expect.stringMatching(/^\+ .*--config=\/var\/lib\/kube-proxy\/config\.conf$/m) });
      const click = (action: 'approve' | 'rollback') =>
        decidePlan(deps, { action, planId, cluster: CLUSTER, user: BOB, userGroups: [], message: { channel: CHANNEL, messageTs: `${parentTs}1`, parentTs } });

      const generation = (await readDs()).metadata!.generation as number;
      expect(await click('approve')).toMatchObject({ accepted: true });
      // The DaemonSet controller is off in the test cluster: play its rollout once the patch landed.
      await eventually(async () => expect((await readDs()).metadata!.generation).toBeGreaterThan(generation), 60_000, 100);
      expect(command(await readDs())).toEqual(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)']);
      await rollOutDaemonSet(kubelet!, 'kube-system', 'kube-proxy');
      expect(await planState(planId, 'applied', /fixed —/)).toMatchObject({ view: { rollbackAvailable: true } });
      expect(proxy!.mutations().map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([`PATCH ${DS_PATH}`]);

      expect(await click('rollback')).toMatchObject({ accepted: true });
      await planState(planId, 'rolled-back');
      expect(command(await readDs())).toContain('--config=/var/lib/kube-proxy/configuration.conf');
      expect(proxy!.mutations().map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([`PATCH ${DS_PATH}`, `PATCH ${DS_PATH}`]);
      // The audit stream saw each step in order; the Rollback click is audited as an approval (of the rollback).
      const events = (await deps.audit.recent(10)).filter((e) => e.planId === planId).map((e) => `${e.event} by ${e.actor}`).reverse();
      expect(events).toEqual(['approved', 'applied', 'verified', 'approved', 'rolled-back'].map((event) => `${event} by ${BOB}`));
    });

    it('left every key of the flow under its prefix\'s two hash tags', async () => {
      const tags = await tagsInCluster();
      expect(tags.filter((t) => t.includes(flowConfig.queuePrefix) || t.startsWith('untagged'))).toEqual([`{${flowConfig.queuePrefix}:${CLUSTER}}`, `{${flowConfig.queuePrefix}}`].sort());
    });
  });
});
