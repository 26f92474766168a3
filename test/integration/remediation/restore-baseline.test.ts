// Known-good baselines end to end on the real apiserver, a real Redis and the real workers (chat is
// a recording surface): a healthy run keeps a baseline, a selector edit by a named field manager
// breaks the Service, the next run leads with that change (field, manager, time) and offers the
// restore plan, and approving it through the ordinary plan path brings the old selector back.
import { join } from 'node:path';
import type { RedisClient } from '../../../src/queue/redis';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import type { Service } from '../../../src/domain/kube-types';
import { type Config, loadConfig } from '../../../src/config';
import { verdictOf } from '../../../src/domain/report';
import { type DecisionDeps, decidePlan } from '../../../src/remediation/decide-plan';
import { Producer } from '../../../src/queue/queues';
import { RecordingSurface, type SurfaceCall } from '../../../src/cli/console-surface';
import { type RemediationHarness, startRemediationHarness } from '../../support/remediation-harness';
import { SCENARIO_DIR } from '../../support/scenarios';
import { clusterDataKey } from '../../../src/store/keys';

jest.setTimeout(180_000);

const CLUSTER = 'lab';
const CHANNEL = 'C0NETOPS';
const [REQUESTER, BOB] = ['UREQUEST1', 'UBOBBOBB1'];
const SVC_PATH = '/api/v1/namespaces/triton/services/mysql';

describe('what changed since it last worked, on the real cluster', () => {
  let config: Config;
  let surface: RecordingSurface;
  let harness: RemediationHarness | undefined;
  let producer: Producer;
  let redis: RedisClient;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let deps: DecisionDeps;
  let runs = 0;

  const diagnoseRun = async () => {
    const { jobId } = await producer.enqueueDiagnose({ cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: REQUESTER, channel: CHANNEL }, `baseline-${++runs}`);
    return (await surface.waitFor((c) => c.method === 'publishReport' && c.runId === jobId)) as Extract<SurfaceCall, { method: 'publishReport' }>;
  };
  const selector = async (): Promise<Record<string, string> | undefined> => (await kubelet.rest.request<Service>('GET', SVC_PATH)).spec?.selector;

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    config = loadConfig({
      REDIS_URL: process.env.REDIS_URL,
      NETDOCTOR_CLUSTER: CLUSTER,
      NETDOCTOR_QUEUE_PREFIX: `t${process.pid}baseline`,
      NETDOCTOR_APPROVERS: [REQUESTER, BOB].join(','),
      NETDOCTOR_PLAN_KEY: 'integration-test-plan-key-0123456789abcdef',
      NETDOCTOR_IDENTITY_MAP: `${BOB}=alice`,
    });
    surface = new RecordingSurface();
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'healthy'), { kubelet });
    // A replica serving the same port: the selector check alone cannot tell which pods the Service meant.
    const mysql = await kubelet.rest.request<{ spec: { nodeName: string; containers: unknown[] } }>('GET', '/api/v1/namespaces/triton/pods/mysql');
    await kubelet.rest.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mysql-replica', namespace: 'triton', labels: { name: 'mysql-replica' } }, spec: { nodeName: mysql.spec.nodeName, containers: mysql.spec.containers } });
    await kubelet.markRunning('triton', 'mysql-replica');
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-baseline-svc' }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-baseline-svc' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nd-baseline-svc' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);

    harness = await startRemediationHarness({ config, surface, cluster: CLUSTER, readKubeconfig: admin, writeKubeconfig: admin });
    ({ producer, redis, deps } = harness);
  });

  afterAll(async () => {
    await harness?.close();
    // The unload force-deletes the pods it loaded; this one the test added (no real kubelet finishes a graceful delete).
    await kubelet?.rest.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mysql-replica', namespace: 'triton' } }, { gracePeriodSeconds: 0 }).catch(() => undefined);
    await scenario?.unload();
    await kubelet?.stop();
  });

  it('keeps a baseline of the healthy run, leads the broken one with the change, and restores it on approval', async () => {
    const healthy = await diagnoseRun();
    expect(verdictOf(healthy.report)).toBe('healthy');
    expect(await redis.llen(clusterDataKey(config.queuePrefix, CLUSTER, 'baselines', 'triton'))).toBe(1);

    await kubelet.rest.request('PATCH', `${SVC_PATH}?fieldManager=kubectl-edit`, { spec: { selector: { name: 'db' } } }, 'application/merge-patch+json');
    const broken = await diagnoseRun();
    const first = broken.report.findings[0]!;
    expect(first.subject).toMatchObject({ kind: 'Service', namespace: 'triton', name: 'mysql' });
    expect(first.evidence[0]!.text).toMatch(/^spec\.selector changed from name=mysql to name=db by kubectl-edit at \d{4}-\d\d-\d\d \d\d:\d\d UTC, (under a minute|\d+ min) after the last healthy run$/);
    const plan = first.plan!;
    expect(plan).toMatchObject({ risk: 'high', summary: expect.stringMatching(/^Restore service\/mysql -n triton spec\.selector to the last healthy values/) });
    const proposal = broken.proposals[plan.id]!;
    expect(proposal.status).toBe('proposed');
    expect(proposal.diff).toMatch(/^- +name: db$/m);
    expect(proposal.diff).toMatch(/^\+ +name: mysql$/m);
    expect(await redis.llen(clusterDataKey(config.queuePrefix, CLUSTER, 'baselines', 'triton'))).toBe(1); // a broken run is no baseline

    const decision = await decidePlan(deps, { action: 'approve', planId: plan.id, cluster: CLUSTER, user: BOB, userGroups: [], message: { channel: CHANNEL, messageTs: `${broken.parentTs}1`, parentTs: broken.parentTs } });
    expect(decision).toMatchObject({ accepted: true });
    const done = (await surface.waitFor((c) => c.method === 'showPlanState' && c.view.planId === plan.id && /fixed|not fixed|unverified/.test(c.view.detail ?? ''))) as Extract<SurfaceCall, { method: 'showPlanState' }>;
    expect(done.view.detail).toMatch(/fixed — service-no-endpoints no longer fires on service\/mysql -n triton/);
    expect(await selector()).toEqual({ name: 'mysql' });

    const after = await diagnoseRun();
    expect(after.report.findings.filter((f) => f.check === 'service-no-endpoints')).toEqual([]);
  });
});
