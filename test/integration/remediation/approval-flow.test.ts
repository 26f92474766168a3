// Approve-before-apply end to end on the real apiserver, a real Redis and the real workers
// (chat is a recording surface; the Slack rendering of the same calls is tested with Bolt):
// refusals change nothing, three racing clicks yield one PATCH, the fix is verified after the
// rollout, audited, and rolled back. Every request the bot's writer sends goes through a
// counting proxy, so "changed nothing" and "exactly one mutation" are counted, not assumed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClient } from '../../../src/queue/redis';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { AuditLog } from '../../../src/store/audit-log';
import type { RawObject } from '../../../src/domain/kube-types';
import { type Config, loadConfig } from '../../../src/config';
import type { PlanProposal } from '../../../src/domain/ports';
import { type Decision, type DecisionDeps, decidePlan } from '../../../src/remediation/decide-plan';
import { Producer } from '../../../src/queue/queues';
import { RecordingSurface, type SurfaceCall } from '../../../src/cli/console-surface';
import { type RemediationHarness, startRemediationHarness } from '../../support/remediation-harness';
import { createMetrics } from '../../../src/observability/metrics';
import { startCountingProxy } from '../../support/counting-proxy';
import { rollOutDaemonSet } from '../../support/rollout';
import { SCENARIO_DIR } from '../../support/scenarios';
import { clusterDataKey } from '../../../src/store/keys';

jest.setTimeout(180_000);

const CLUSTER = 'lab';
const CHANNEL = 'C0NETOPS';
const REQUESTER = 'UREQUEST1';
const [BOB, CAROL, MALLORY, NOBODY] = ['UBOBBOBB1', 'UCAROLCA1', 'UMALLORY1', 'UNOBODY01'];
const DS_PATH = '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy';

describe('approve-before-apply on the real cluster', () => {
  let config: Config;
  let surface: RecordingSurface;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let harness: RemediationHarness | undefined;
  let producer: Producer;
  let redis: RedisClient;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let deps: DecisionDeps & { audit: AuditLog };
  const metrics = createMetrics({ defaultMetrics: false });
  const dir = mkdtempSync(join(tmpdir(), 'nd-approval-'));
  let runs = 0;

  const readDs = async (): Promise<RawObject> => kubelet.rest.request<RawObject>('GET', DS_PATH);
  const command = (ds: RawObject): string[] => (ds.spec as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!.command;
  const patches = (): number => proxy.mutations().filter((r) => r.method === 'PATCH').length;

  /** /netdoctor triton: the published report's kube-proxy plan, its proposal and the thread. */
  async function diagnoseAndPropose(): Promise<{ planId: string; parentTs: string; proposal: PlanProposal }> {
    const { jobId } = await producer.enqueueDiagnose({ cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: REQUESTER, channel: CHANNEL }, `req-${++runs}`);
    const call = (await surface.waitFor((c) => c.method === 'publishReport' && c.runId === jobId)) as Extract<SurfaceCall, { method: 'publishReport' }>;
    const root = call.report.findings.find((f) => f.rootCause)!;
    expect(root.subject).toMatchObject({ kind: 'DaemonSet', name: 'kube-proxy' });
    return { planId: root.plan!.id, parentTs: call.parentTs, proposal: call.proposals[root.plan!.id]! };
  }

  const click = (user: string, action: 'approve' | 'reject' | 'rollback', planId: string, parentTs: string, clock?: () => Date): Promise<Decision> =>
    decidePlan(clock ? { ...deps, clock } : deps, { action, planId, cluster: CLUSTER, user, userGroups: [], message: { channel: CHANNEL, messageTs: `${parentTs}1`, parentTs } });

  const planState = (planId: string, state: string) => surface.waitFor((c) => c.method === 'showPlanState' && c.view.planId === planId && c.view.state === state) as Promise<Extract<SurfaceCall, { method: 'showPlanState' }>>;

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    config = loadConfig({
      REDIS_URL: process.env.REDIS_URL,
      NETDOCTOR_CLUSTER: CLUSTER,
      NETDOCTOR_QUEUE_PREFIX: `t${process.pid}approval`,
      NETDOCTOR_APPROVERS: [REQUESTER, BOB, CAROL, MALLORY].join(','),
      NETDOCTOR_PLAN_KEY: 'integration-test-plan-key-0123456789abcdef',
      NETDOCTOR_IDENTITY_MAP: `${REQUESTER}=alice,${BOB}=alice,${CAROL}=alice,${MALLORY}=mallory`,
    });
    surface = new RecordingSurface();
    proxy = await startCountingProxy(admin);
    const proxyKubeconfig = join(dir, 'proxy.kubeconfig');
    writeFileSync(proxyKubeconfig, proxy.kubeconfig);
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
    // alice may patch DaemonSets; mallory is an approver in Slack but has no such right in the cluster.
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-approval-ds' }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-approval-ds' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nd-approval-ds' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);

    harness = await startRemediationHarness({ config, surface, metrics, cluster: CLUSTER, readKubeconfig: admin, writeKubeconfig: proxyKubeconfig });
    ({ producer, redis, deps } = harness);
  });

  afterAll(async () => {
    await harness?.close();
    await scenario?.unload();
    await kubelet?.stop();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proposes the plan with the server-side dry-run diff', async () => {
    const { proposal } = await diagnoseAndPropose();
    expect(proposal.status).toBe('proposed');
    expect(proposal.diff).toMatch(/^- .*--config=\/var\/lib\/kube-proxy\/configuration\.conf$/m);
    expect(proposal.diff).toMatch(/^\+ .*--config=\/var\/lib\/kube-proxy\/config\.conf$/m);
    expect(proposal.expiresAt).toBeDefined();
    expect(proxy.mutations()).toEqual([]);
  });

  it('refuses self-approval, non-approvers, unknown plan ids and expired plans, changing nothing', async () => {
    const { planId, parentTs } = await diagnoseAndPropose();
    const before = await readDs();
    expect(await click(REQUESTER, 'approve', planId, parentTs)).toMatchObject({ accepted: false, message: expect.stringMatching(/cannot approve its fix/) });
    expect(await click(NOBODY, 'approve', planId, parentTs)).toMatchObject({ accepted: false, message: expect.stringMatching(/not a configured approver/) });
    expect(await click(BOB, 'approve', 'plan-ffffffffffffffff', parentTs)).toMatchObject({ accepted: false, message: expect.stringMatching(/unknown or expired/) });
    const later = () => new Date(Date.now() + 16 * 60_000);
    expect(await click(BOB, 'approve', planId, parentTs, later)).toMatchObject({ accepted: false, message: expect.stringMatching(/expired/) });
    await planState(planId, 'expired');
    // Each refusal is the clicker's alone (the front end shows the returned message ephemerally): nothing in the thread.
    expect(surface.of('postToThread').filter((c) => c.parentTs === parentTs)).toEqual([]);
    expect((await readDs()).metadata).toEqual(before.metadata);
    expect(proxy.mutations()).toEqual([]);
  });

  it('lets the cluster refuse an approver its RBAC does not allow (SubjectAccessReview)', async () => {
    const { planId, proposal } = await diagnoseAndPropose();
    expect(proposal.status).toBe('proposed'); // the expired plan is proposed afresh by a new diagnosis
    const { parentTs } = surface.of('publishReport').at(-1)!;
    expect(await click(MALLORY, 'approve', planId, parentTs)).toMatchObject({ accepted: true });
    const denied = await planState(planId, 'denied');
    expect(denied.view.detail).toMatch(/Kubernetes user mallory may not patch daemonset\/kube-proxy/);
    expect(proxy.mutations()).toEqual([]);
  });

  it('refuses a plan altered in Redis after it was proposed: nothing is written (the seal is checked before any write)', async () => {
    const { planId, parentTs } = await diagnoseAndPropose();
    const key = clusterDataKey(config.queuePrefix, CLUSTER, 'plan', planId);
    const stored = JSON.parse((await redis.get(key))!) as { plan: { operations: { patch: unknown }[] } };
    // Someone with write access to Redis points the approved fix at another command line.
    stored.plan.operations[0]!.patch = JSON.parse(JSON.stringify(stored.plan.operations[0]!.patch).replace('/var/lib/kube-proxy/config.conf', '/tmp/evil.conf')) as unknown;
    await redis.set(key, JSON.stringify(stored), 'KEEPTTL');
    expect(await click(BOB, 'approve', planId, parentTs)).toMatchObject({ accepted: true });
    const denied = await surface.waitFor((c) => c.method === 'showPlanState' && c.view.planId === planId && c.view.state === 'denied' && /altered in Redis/.test(c.view.detail ?? ''));
    expect(denied).toMatchObject({ view: { detail: expect.stringMatching(/^refused: the stored plan does not match what netdoctor proposed \(it was altered in Redis\); nothing was changed$/) } });
    expect((await deps.audit.recent(1))[0]).toMatchObject({ event: 'denied', planId, kubeIdentity: 'alice' });
    expect(command(await readDs())).toContain('--config=/var/lib/kube-proxy/configuration.conf');
    expect(proxy.mutations()).toEqual([]);
  });

  it("refuses to apply when the DaemonSet's spec changed between diagnosis and approval", async () => {
    const { planId, parentTs } = await diagnoseAndPropose();
    await kubelet.rest.mergePatch({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'kube-proxy', namespace: 'kube-system' } }, { spec: { template: { metadata: { annotations: { 'touched-by': 'a-human' } } } } });
    expect(await click(BOB, 'approve', planId, parentTs)).toMatchObject({ accepted: true });
    const conflict = await planState(planId, 'conflict');
    expect(conflict.view.detail).toMatch(/the cluster changed since the plan/);
    expect(command(await readDs())).toContain('--config=/var/lib/kube-proxy/configuration.conf');
    expect(proxy.mutations()).toEqual([]);
  });

  it('applies once for three racing clicks by two approvers, verifies "fixed" after the rollout, audits, and rolls back', async () => {
    const { planId, parentTs } = await diagnoseAndPropose();
    const generation = (await readDs()).metadata!.generation as number;
    const decisions = await Promise.all([click(BOB, 'approve', planId, parentTs), click(CAROL, 'approve', planId, parentTs), click(BOB, 'approve', planId, parentTs)]);
    expect(decisions.filter((d) => d.accepted)).toHaveLength(1);

    // The DaemonSet controller is off in the test cluster: play its rollout once the patch landed.
    for (let i = 0; (await readDs()).metadata!.generation === generation; i++) {
      if (i > 600) throw new Error('the approved plan was never applied');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(command(await readDs())).toEqual(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)']);
    await rollOutDaemonSet(kubelet, 'kube-system', 'kube-proxy');
    const fixed = await surface.waitFor((c) => c.method === 'showPlanState' && c.view.planId === planId && /fixed —/.test(c.view.detail ?? ''));
    expect(fixed).toMatchObject({ view: { state: 'applied', rollbackAvailable: true } });
    expect(proxy.mutations().map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([`PATCH ${DS_PATH}`]);

    const audit = await deps.audit.recent(10);
    expect(audit.filter((e) => e.planId === planId).map((e) => e.event).reverse()).toEqual(['approved', 'applied', 'verified']);
    expect(audit.find((e) => e.event === 'applied' && e.planId === planId)?.targets?.[0]).toMatchObject({ ref: 'daemonset/kube-proxy -n kube-system', resourceVersionBefore: expect.any(String), resourceVersionAfter: expect.any(String) });

    expect(await click(CAROL, 'rollback', planId, parentTs)).toMatchObject({ accepted: true });
    await planState(planId, 'rolled-back');
    expect(command(await readDs())).toContain('--config=/var/lib/kube-proxy/configuration.conf');
    expect(proxy.mutations().filter((r) => r.method === 'PATCH')).toHaveLength(2);
    expect(patches()).toBe(2);

    const series = await metrics.registry.metrics();
    // unauthorized: mallory's approval and the plan altered in Redis.
    for (const [outcome, count] of [['unauthorized', 2], ['stale', 1], ['applied', 1], ['rolled_back', 1]] as const) {
      expect(series).toMatch(new RegExp(`^netdoctor_remediations_total\\{[^}]*outcome="${outcome}"[^}]*\\} ${count}$`, 'm'));
    }
  });
});
