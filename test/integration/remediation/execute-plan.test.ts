// Remediation core against the real apiserver: server-side dry-run diff, SubjectAccessReview,
// conditional apply (refused when the target changed), no-op on a second apply, verification
// after a rollout, and rollback.
import { join } from 'node:path';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import type { KubeApi } from '../../../src/cluster/kube-api';
import { KubeWriter } from '../../../src/cluster/kube-writer';
import type { RawObject } from '../../../src/domain/kube-types';
import type { Plan } from '../../../src/domain/plan';
import { accessProblem } from '../../../src/remediation/approval';
import { applyPlan, dryRunPlan, rollbackPlan } from '../../../src/remediation/execute-plan';
import { verifyPlan } from '../../../src/remediation/verify';
import { rollOutDaemonSet } from '../../support/rollout';
import { SCENARIO_DIR } from '../../support/scenarios';
import { adminApi, diagnoseLive } from '../../support/live';

jest.setTimeout(120_000);

const DS = { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' };
/** The same DaemonSet as the test client addresses objects. */
const DS_OBJECT = { apiVersion: DS.apiVersion, kind: DS.kind, metadata: { name: DS.name, namespace: DS.namespace } };
const command = (ds: RawObject | undefined): string[] =>
  ((ds?.spec as { template: { spec: { containers: { command: string[] }[] } } } | undefined)?.template.spec.containers[0]?.command ?? []);

describe('remediation on the real apiserver (kube-proxy lab)', () => {
  let api: KubeApi;
  let writer: KubeWriter;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;

  const freshPlan = async (): Promise<Plan> => {
    const report = await diagnoseLive(api, 'triton');
    const root = report.findings.find((f) => f.rootCause);
    expect(root?.subject).toMatchObject({ kind: 'DaemonSet', name: 'kube-proxy' });
    return root!.plan!;
  };

  beforeAll(async () => {
    api = await adminApi();
    writer = new KubeWriter(api);
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: process.env.NETDOCTOR_TEST_KUBECONFIG, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
  });

  afterAll(async () => {
    await scenario?.unload();
    await kubelet?.stop();
    api?.close();
  });

  it('dry-runs the plan on the server, showing exactly the command change and persisting nothing', async () => {
    const plan = await freshPlan();
    const before = await writer.read(DS);
    const dry = await dryRunPlan(writer, plan);
    expect(dry.applicable).toBe(true);
    const changed = dry.diffs[0]!.diff.split('\n').filter((l) => /^[-+] /.test(l));
    expect(changed).toEqual([expect.stringMatching(/^- .*--config=\/var\/lib\/kube-proxy\/configuration\.conf$/), expect.stringMatching(/^\+ .*--config=\/var\/lib\/kube-proxy\/config\.conf$/)]);
    expect((await writer.read(DS))?.metadata).toEqual(before?.metadata);
  });

  it('asks the apiserver whether the approver may do it (SubjectAccessReview)', async () => {
    const plan = await freshPlan();
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-test-ds-patcher' }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-test-ds-patcher' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nd-test-ds-patcher' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);
    expect(await accessProblem(writer, { user: 'alice', groups: [] }, plan)).toBeUndefined();
    expect(await accessProblem(writer, { user: 'mallory', groups: [] }, plan)).toMatch(/Kubernetes user mallory may not patch daemonset\/kube-proxy -n kube-system/);
  });

  it("refuses to apply when the target's spec changed since the plan, and changes nothing", async () => {
    const plan = await freshPlan();
    expect(plan.operations[0]).toMatchObject({ generation: expect.any(Number) });
    await kubelet.rest.mergePatch(DS_OBJECT, { spec: { template: { metadata: { annotations: { touched: 'by-a-human' } } } } });
    const outcome = await applyPlan(writer, plan);
    expect(outcome).toMatchObject({ status: 'conflict', reason: expect.stringMatching(/changed since the diagnosis \(its spec changed: generation \d+ → \d+\)/) });
    expect(command(await writer.read(DS))).toContain('--config=/var/lib/kube-proxy/configuration.conf');
  });

  it("still applies when only the status changed since the plan (a crash-looping DaemonSet's counts move at every restart)", async () => {
    const plan = await freshPlan();
    const before = await writer.read(DS);
    const status = (before?.status ?? {}) as { numberUnavailable?: number };
    await kubelet.rest.mergePatch(DS_OBJECT, { status: { numberUnavailable: (status.numberUnavailable ?? 0) + 1 } }, 'status');
    const churned = await writer.read(DS);
    expect(churned?.metadata?.resourceVersion).not.toBe(before?.metadata?.resourceVersion);
    expect((await dryRunPlan(writer, plan)).applicable).toBe(true);
    expect((await applyPlan(writer, plan)).status).toBe('applied');
    expect(command(await writer.read(DS))).toContain('--config=/var/lib/kube-proxy/config.conf');
    // Put the lab back for the next test: the broken command again.
    await kubelet.rest.request('PATCH', await kubelet.rest.objectPath(DS_OBJECT), [{ op: 'replace', path: '/spec/template/spec/containers/0/command', value: command(before) }], 'application/json-patch+json');
  });

  it('applies the fresh plan, verifies it after the rollout, is a no-op the second time, and rolls back', async () => {
    const plan = await freshPlan();
    const outcome = await applyPlan(writer, plan);
    expect(outcome.status).toBe('applied');
    const after = await writer.read(DS);
    expect(command(after)).toEqual(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)']);
    expect((after?.metadata as { managedFields: { manager: string }[] }).managedFields.map((m) => m.manager)).toContain('netdoctor');

    await rollOutDaemonSet(kubelet, 'kube-system', 'kube-proxy');
    const recheck = async (): Promise<string[]> =>
      (await diagnoseLive(api, 'triton')).findings.filter((f) => f.check === plan.verify.check && f.severity !== 'info').map((f) => f.summary);
    expect(await verifyPlan(writer, plan, { timeoutMs: 30_000, pollMs: 200, recheck })).toMatchObject({ status: 'fixed' });

    expect(await applyPlan(writer, plan)).toMatchObject({ status: 'noop' });

    if (outcome.status !== 'applied') throw new Error('unreachable');
    const rollback = rollbackPlan(plan, outcome.changes);
    expect(await dryRunPlan(writer, rollback)).toMatchObject({ applicable: true });
    expect(await applyPlan(writer, rollback)).toMatchObject({ status: 'applied' });
    expect(command(await writer.read(DS))).toContain('--config=/var/lib/kube-proxy/configuration.conf');
  });
});
