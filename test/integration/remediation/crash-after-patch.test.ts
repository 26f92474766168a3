// A remediate worker SIGKILLed right after its PATCH reached the apiserver (issue 6): the real
// control plane, a real Redis, the worker in a child process writing through a counting proxy.
// The proxy kills the child as the apiserver's 200 for the DaemonSet PATCH arrives, before the
// child sees it. A second worker then finds the job stalled; with maxStalledCount 0 BullMQ fails
// it instead of running it again. Counted at the proxy: exactly one mutating request, ever.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Job, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { AuditLog, auditKey, refusedClicksKey } from '../../../src/store/audit-log';
import { KubeApi } from '../../../src/cluster/kube-api';
import { loadKubeConfig } from '../../../src/cluster/kubeconfig';
import { KubeWriter } from '../../../src/cluster/kube-writer';
import { LiveReader } from '../../../src/cluster/live-reader';
import type { RawObject } from '../../../src/domain/kube-types';
import { type Config, loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { STALLED_REASON } from '../../../src/queue/diagnose-worker';
import { queueAddress } from '../../../src/queue/jobs';
import { type DecisionDeps, decidePlan } from '../../../src/remediation/decide-plan';
import { PlanLedger } from '../../../src/store/plan-ledger';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { RecordingSurface, type SurfaceCall } from '../../../src/cli/console-surface';
import { workerConnection } from '../../../src/queue/redis';
import { policyFromConfig } from '../../../src/cli/approval-policy';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { type ProxiedRequest, startCountingProxy } from '../../support/counting-proxy';
import { SCENARIO_DIR } from '../../support/scenarios';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..', '..');
const CLUSTER = 'lab';
const CHANNEL = 'C0NETOPS';
const REQUESTER = 'UREQUEST1';
const BOB = 'UBOBBOBB1';
const DS_PATH = '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy';
const RBAC_NAME = 'nd-crash-after-patch-ds';
const FIXED_FLAG = '--config=/var/lib/kube-proxy/config.conf';
/** Bounds every wait, so a broken run fails with a name instead of hanging (no timing is asserted). */
const DEADLINE_MS = 90_000;

async function within<T>(what: string, p: Promise<T>, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The remediation-capable worker in test/support/remediate-worker-child.ts; its surface calls are collected. */
class ChildWorker {
  readonly calls: SurfaceCall[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private readonly child: ChildProcess;
  private ready = false;
  private waiters: { match: (c: SurfaceCall | 'READY') => boolean; resolve: (c: SurfaceCall | 'READY') => void }[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [join(ROOT, 'test/support/ts-register.js'), join(ROOT, 'test/support/remediate-worker-child.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let seen: SurfaceCall | 'READY' | undefined;
      if (line === 'READY') {
        this.ready = true;
        seen = 'READY';
      } else if (line.startsWith('CALL ')) this.calls.push((seen = JSON.parse(line.slice(5)) as SurfaceCall));
      if (!seen) return;
      const s = seen;
      for (const w of this.waiters.filter((x) => x.match(s))) w.resolve(s);
      this.waiters = this.waiters.filter((x) => !x.match(s));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first line (READY or a surface call) that matches, past or future; rejects if the child exits first. */
  waitFor<T extends SurfaceCall | 'READY'>(match: (c: SurfaceCall | 'READY') => boolean): Promise<T> {
    const seen = this.ready && match('READY') ? 'READY' : this.calls.find(match);
    if (seen) return Promise.resolve(seen as T);
    return Promise.race([
      new Promise<T>((resolve) => this.waiters.push({ match, resolve: resolve as (c: SurfaceCall | 'READY') => void })),
      this.exited.then((e) => Promise.reject(new Error(`worker child exited (${e.code ?? e.signal}) first`))),
    ]);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

describe('a remediate worker SIGKILLed right after its PATCH (real cluster, worker in a child process)', () => {
  let config: Config;
  let childEnv: Record<string, string>;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let producer: Producer;
  let redis: Redis;
  let events: QueueEvents;
  let deps: DecisionDeps & { audit: AuditLog };
  let decisionSurface: RecordingSurface;
  let rescueSurface: RecordingSurface;
  let rescuer: RunningWorkers | undefined;
  let proxyKubeconfig: string;
  const children: ChildWorker[] = [];
  const enqueued: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'nd-crash-patch-'));
  /** Set while a test wants to act the moment the apiserver has accepted the DaemonSet PATCH. */
  let onDsPatched: ((r: ProxiedRequest) => void) | undefined;

  const isDsPatch = (r: ProxiedRequest): boolean => r.method === 'PATCH' && r.path.split('?')[0] === DS_PATH && !/[?&]dryRun=All/.test(r.path);
  const readDs = (): Promise<RawObject> => kubelet.rest.request<RawObject>('GET', DS_PATH);
  const command = (ds: RawObject): string[] => (ds.spec as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!.command;
  const generation = (ds: RawObject): number => (ds.metadata as { generation: number }).generation;

  const writerFor = async () => {
    const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ file: proxyKubeconfig, env: {} }));
    return Object.assign(new KubeWriter(api), { close: () => api.close() });
  };

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    childEnv = {
      REDIS_URL: process.env.REDIS_URL!,
      NETDOCTOR_CLUSTER: CLUSTER,
      NETDOCTOR_QUEUE_PREFIX: `t${process.pid}crashpatch`,
      NETDOCTOR_APPROVERS: [REQUESTER, BOB].join(','),
      NETDOCTOR_PLAN_KEY: 'integration-test-plan-key-0123456789abcdef',
      NETDOCTOR_IDENTITY_MAP: `${REQUESTER}=alice,${BOB}=alice`,
      NETDOCTOR_SHUTDOWN_TIMEOUT_SECONDS: '1',
    };
    config = loadConfig(childEnv);
    proxy = await startCountingProxy(admin, { onResponse: (r) => (isDsPatch(r) && r.status >= 200 && r.status < 300 ? onDsPatched?.(r) : undefined) });
    proxyKubeconfig = join(dir, 'proxy.kubeconfig');
    writeFileSync(proxyKubeconfig, proxy.kubeconfig);
    Object.assign(childEnv, { ND_READER_KUBECONFIG: admin, ND_WRITER_KUBECONFIG: proxyKubeconfig });
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
    // The approver's Kubernetes identity (alice) may patch DaemonSets: the SubjectAccessReview passes.
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: RBAC_NAME }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] });
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: RBAC_NAME }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RBAC_NAME }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] });

    producer = await Producer.connect(producerOptions(config));
    redis = new Redis(config.redisUrl);
    const at = queueAddress(config.queuePrefix, CLUSTER, 'remediate');
    events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
    await events.waitUntilReady();
    decisionSurface = new RecordingSurface();
    rescueSurface = new RecordingSurface({ tsPrefix: '1900000000' });
    deps = {
      ledger: new PlanLedger(redis, config.queuePrefix, config.reportTtlSeconds),
      loadPlan: (cluster, id) => producer.loadPlan(cluster, id),
      enqueue: async (job, approvalId) => {
        const added = await producer.enqueueRemediate(job, approvalId);
        enqueued.push(added.jobId);
        return added;
      },
      surface: decisionSurface,
      audit: new AuditLog(redis, auditKey(config.queuePrefix), silentLogger),
      refusals: new AuditLog(redis, refusedClicksKey(config.queuePrefix), silentLogger),
      policy: policyFromConfig(config),
      clock: () => new Date(),
      log: silentLogger,
    };
  });

  afterAll(async () => {
    onDsPatched = undefined;
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await rescuer?.close();
    await events?.close();
    await producer?.close();
    if (redis && config) {
      const keys = await redis.keys(`*${config.queuePrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    await scenario?.unload();
    await kubelet?.rest.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: RBAC_NAME } }).catch(() => undefined);
    await kubelet?.rest.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: RBAC_NAME } }).catch(() => undefined);
    await kubelet?.stop();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('yields exactly one mutating request: the stalled job fails, is never re-applied, and the approver is told', async () => {
    // 1. The child diagnoses /netdoctor triton and proposes the kube-proxy fix (dry-run only).
    const child = new ChildWorker(childEnv);
    children.push(child);
    await within('child worker ready', child.waitFor((c) => c === 'READY'));
    const { jobId: runId } = await producer.enqueueDiagnose({ cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: REQUESTER, channel: CHANNEL }, 'req-crash-after-patch');
    const published = await within('report published', child.waitFor<Extract<SurfaceCall, { method: 'publishReport' }>>((c) => c !== 'READY' && c.method === 'publishReport' && c.runId === runId));
    const root = (await producer.loadReport(CLUSTER, runId))!.findings.find((f) => f.rootCause)!;
    expect(root.subject).toMatchObject({ kind: 'DaemonSet', name: 'kube-proxy' });
    const planId = root.plan!.id;
    expect(published.proposals[planId]).toMatchObject({ status: 'proposed' });
    expect(proxy.mutations()).toEqual([]);
    const before = await readDs();
    expect(command(before)).not.toContain(FIXED_FLAG);

    // 2. Bob approves in this process; the child takes the job. The proxy SIGKILLs the child as
    //    the apiserver's 2xx for the PATCH arrives, before forwarding it: the write happened, the
    //    worker never learnt so.
    let requestsAtKill = -1;
    onDsPatched = () => {
      requestsAtKill = proxy.requests.length;
      child.kill('SIGKILL');
    };
    const parentTs = published.parentTs;
    const decision = await decidePlan(deps, { action: 'approve', planId, cluster: CLUSTER, user: BOB, userGroups: [], message: { channel: CHANNEL, messageTs: `${parentTs}1`, parentTs } });
    expect(decision).toMatchObject({ accepted: true });
    expect(await within('child killed after the PATCH', child.exited)).toMatchObject({ signal: 'SIGKILL' });
    onDsPatched = undefined;
    expect(enqueued).toHaveLength(1);
    const queue = await producer.queue(CLUSTER, 'remediate');
    const job = (await queue.getJob(enqueued[0]!)) as Job;
    expect(await job.getState()).toBe('active'); // held by the dead worker's lock
    expect(proxy.requests.filter(isDsPatch)).toEqual([expect.objectContaining({ status: 200 })]);
    expect(generation(await readDs())).toBe(generation(before) + 1);
    // The child died before recording anything: the plan is still `approved`, nothing posted.
    expect((await deps.ledger.get(CLUSTER, planId))?.state).toBe('approved');
    expect(child.calls.filter((c) => c.method === 'showPlanState' || c.method === 'postToThread')).toEqual([]);

    // 3. A second worker, same queues and the same writer through the proxy: it finds the job
    //    stalled once the dead lock expires, and BullMQ fails it rather than running it again.
    rescuer = await startWorkers({
      config,
      surface: rescueSurface,
      log: silentLogger,
      readerFor: async () => {
        const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ file: process.env.NETDOCTOR_TEST_KUBECONFIG!, env: {} }));
        return Object.assign(new LiveReader(api, { cluster: CLUSTER }), { close: () => api.close() });
      },
      remediation: { surface: rescueSurface, policy: policyFromConfig(config), writerFor },
      tuning: { lockDuration: 1500, stalledInterval: 500, backoffMs: 50 },
    });
    await expect(within('remediate job finished', job.waitUntilFinished(events))).rejects.toThrow(STALLED_REASON);

    // The user is told in the plan message and the thread that the apply was interrupted.
    const shown = (await within('plan message updated', rescueSurface.waitFor((c) => c.method === 'showPlanState' && c.view.planId === planId))) as Extract<SurfaceCall, { method: 'showPlanState' }>;
    expect(shown.ref).toEqual({ channel: CHANNEL, messageTs: `${parentTs}1`, parentTs });
    expect(shown.view).toMatchObject({ state: 'approved', by: BOB, rollbackAvailable: false, detail: expect.stringMatching(/interrupted/) });
    expect(shown.view.detail).toMatch(/daemonset\/kube-proxy -n kube-system/);
    const told = (await within('thread reply', rescueSurface.waitFor((c) => c.method === 'postToThread' && c.parentTs === parentTs))) as Extract<SurfaceCall, { method: 'postToThread' }>;
    expect(told).toMatchObject({ channel: CHANNEL, mention: BOB, text: expect.stringMatching(/interrupted/) });

    // 4. Close the second worker (it drains anything in flight), then count.
    await rescuer.close();
    rescuer = undefined;
    expect(proxy.mutations().map((r) => `${r.method} ${r.path.split('?')[0]} ${r.status}`)).toEqual([`PATCH ${DS_PATH} 200`]);
    expect(proxy.requests.length).toBe(requestsAtKill); // the second worker sent nothing at all
    const after = await readDs();
    expect(generation(after)).toBe(generation(before) + 1);
    expect(command(after)).toEqual(['/usr/local/bin/kube-proxy', FIXED_FLAG, '--hostname-override=$(NODE_NAME)']);
    expect(command(after).filter((a) => a === FIXED_FLAG)).toHaveLength(1);
    expect((await deps.ledger.get(CLUSTER, planId))?.state).toBe('approved');

    const failed = (await queue.getJob(job.id!))!;
    expect(await failed.getState()).toBe('failed');
    expect(failed.failedReason).toBe(STALLED_REASON);
    expect(failed.returnvalue ?? null).toBeNull();
    expect(await queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed')).toEqual({ completed: 0, failed: 1, active: 0, waiting: 0, delayed: 0 });

    // Told once, and nowhere claimed as applied; the audit trail records the interrupted apply.
    expect(rescueSurface.of('showPlanState')).toHaveLength(1);
    expect(rescueSurface.of('postToThread')).toHaveLength(1);
    const audit = (await deps.audit.recent(10)).filter((e) => e.planId === planId);
    expect(audit.map((e) => e.event).reverse()).toEqual(['approved', 'failed']);
    expect(audit[0]).toMatchObject({ actor: BOB, result: expect.stringMatching(/interrupted/) });
  });
});
