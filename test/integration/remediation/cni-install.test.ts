// CNI-01 install plan against the real apiserver: the repo scenario cni-install-manifest (weave-net
// DaemonSet deleted, the operators' weave manifest in ConfigMap kube-system/netdoctor-cni-manifest)
// is loaded, diagnosed live, and its plan dry-run, applied (creates: ServiceAccount, ClusterRole,
// ClusterRoleBinding, DaemonSet) and rolled back (deletes exactly what it created) — as the admin,
// and as a ServiceAccount holding the shipped roles (the cni-installer opt-in is what allows it).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { KubeApi } from '../../../src/cluster/kube-api';
import { KubeWriter } from '../../../src/cluster/kube-writer';
import type { ObjectRef } from '../../../src/domain/object-ref';
import type { Plan } from '../../../src/domain/plan';
import { accessProblem } from '../../../src/remediation/approval';
import { applyPlan, dryRunPlan, rollbackPlan } from '../../../src/remediation/execute-plan';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';
import { adminApi, diagnoseLive } from '../../support/live';

jest.setTimeout(120_000);

const RBAC = 'rbac.authorization.k8s.io/v1';
const SA: ObjectRef = { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'kube-system', name: 'weave-net' };
const CR: ObjectRef = { apiVersion: RBAC, kind: 'ClusterRole', name: 'weave-net' };
const CRB: ObjectRef = { apiVersion: RBAC, kind: 'ClusterRoleBinding', name: 'weave-net' };
const DS: ObjectRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' };
const ALL = [SA, CR, CRB, DS];
const RBAC_DIR = resolve(__dirname, '..', '..', '..', 'deploy', 'rbac');

/**
 * A KubeApi authenticated as a ServiceAccount bound to the shipped roles (reader, remediator,
 * cni-installer from deploy/rbac, renamed for this run), and how to remove them again.
 */
async function botApi(admin: KubeApi, files: string[]): Promise<{ api: KubeApi; remove: () => Promise<void> }> {
  const ns = `nd-cni-bot-${process.pid}-${files.length}`;
  const post = (path: string, body: unknown) => admin.json<Record<string, unknown>>(path, { method: 'POST', body });
  const created: string[] = [];
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await post(`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'netdoctor' } });
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(join(RBAC_DIR, file), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; roleRef?: { name: string }; subjects?: { namespace?: string }[] })) {
      doc.metadata.name = `${doc.metadata.name}-${process.pid}-${files.length}`;
      if (doc.roleRef) doc.roleRef.name = `${doc.roleRef.name}-${process.pid}-${files.length}`;
      for (const sub of doc.subjects ?? []) sub.namespace = ns;
      const plural = doc.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings';
      await post(`/apis/rbac.authorization.k8s.io/v1/${plural}`, doc);
      created.push(`/apis/rbac.authorization.k8s.io/v1/${plural}/${doc.metadata.name}`);
    }
  }
  const token = (await post(`/api/v1/namespaces/${ns}/serviceaccounts/netdoctor/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } })) as { status: { token: string } };
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.env.NETDOCTOR_TEST_KUBECONFIG!);
  const cluster = kc.getCurrentCluster()!;
  const botKc = new k8s.KubeConfig();
  botKc.loadFromOptions({
    clusters: [{ name: 'test', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: false }],
    users: [{ name: 'netdoctor', token: token.status.token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'netdoctor' }],
    currentContext: 'test',
  });
  const api = await KubeApi.fromKubeConfig(botKc);
  return {
    api,
    remove: async () => {
      api.close();
      for (const path of [...created, `/api/v1/namespaces/${ns}`]) await admin.request(path, { method: 'DELETE' }).catch(() => undefined);
    },
  };
}

describe('CNI install plan on the real apiserver (cni-install-manifest)', () => {
  let api: KubeApi;
  let writer: KubeWriter;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;

  const exists = async (): Promise<boolean[]> => Promise.all(ALL.map(async (r) => (await writer.read(r)) !== undefined));
  const cleanup = async (): Promise<void> => {
    for (const r of [...ALL].reverse()) if (await writer.read(r)) await writer.execute({ action: 'delete', target: { ...r, apiVersion: r.apiVersion! } }, false);
  };
  const freshPlan = async (): Promise<Plan> => {
    const report = await diagnoseLive(api, 'triton');
    const root = report.findings.find((f) => f.rootCause);
    expect(root).toMatchObject({ check: 'cni-not-running', subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' } });
    expect(root!.plan).not.toBeNull();
    return root!.plan!;
  };

  beforeAll(async () => {
    api = await adminApi();
    writer = new KubeWriter(api);
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: process.env.NETDOCTOR_TEST_KUBECONFIG, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(REPO_SCENARIO_DIR, 'cni-install-manifest'), { kubelet });
  });

  afterAll(async () => {
    if (writer) await cleanup().catch(() => undefined);
    await scenario?.unload();
    await kubelet?.stop();
    api?.close();
  });

  afterEach(async () => {
    await cleanup();
  });

  it('diagnoses live: the plan creates the manifest objects in order, high risk', async () => {
    const plan = await freshPlan();
    expect(plan.risk).toBe('high');
    expect(plan.operations.map((o) => `${o.action} ${o.target.kind}/${o.target.name}`)).toEqual([
      'create ServiceAccount/weave-net',
      'create ClusterRole/weave-net',
      'create ClusterRoleBinding/weave-net',
      'create DaemonSet/weave-net',
    ]);
    // The approver's identity is asked about every create (SubjectAccessReview on the new kinds).
    expect(await accessProblem(writer, { user: 'mallory', groups: [] }, plan)).toMatch(/Kubernetes user mallory may not create serviceaccount\/weave-net -n kube-system/);
  });

  it('dry-runs on the server: a diff of each created object, nothing persisted', async () => {
    const plan = await freshPlan();
    const dry = await dryRunPlan(writer, plan);
    expect(dry).toMatchObject({ applicable: true });
    expect(dry.diffs.map((d) => d.target.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
    for (const d of dry.diffs) expect(d.diff.split('\n').some((l) => /^\+ /.test(l))).toBe(true);
    expect(dry.diffs[3]!.diff).toContain('weaveworks/weave-kube:2.8.1');
    expect(dry.diffs[1]!.diff).toContain('networkpolicies');
    expect(await exists()).toEqual([false, false, false, false]);
  });

  it('applies (all four created by netdoctor), is a no-op the second time, and the rollback deletes them', async () => {
    const plan = await freshPlan();
    const outcome = await applyPlan(writer, plan);
    expect(outcome.status).toBe('applied');
    if (outcome.status !== 'applied') throw new Error('unreachable');
    expect(outcome.changes.map((c) => c.operation.target.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
    expect(await exists()).toEqual([true, true, true, true]);
    const ds = (await writer.read(DS))!;
    const meta = ds.metadata as { annotations: Record<string, string>; managedFields: { manager: string }[] };
    expect(meta.annotations['netdoctor.io/installed-from']).toBe('kube-system/netdoctor-cni-manifest');
    expect(meta.managedFields.map((m) => m.manager)).toContain('netdoctor');

    // The DaemonSet is back: the check no longer reports it missing (nor proposes the install).
    const after = await diagnoseLive(api, 'triton');
    expect(after.findings.some((f) => f.check === 'cni-not-running' && /DaemonSet missing/.test(f.title))).toBe(false);
    expect(after.findings.some((f) => f.plan?.id === plan.id)).toBe(false);

    expect(await exists()).toEqual([true, true, true, true]);
    expect(await applyPlan(writer, plan)).toMatchObject({ status: 'noop' });
    expect(await exists()).toEqual([true, true, true, true]);

    const rollback = rollbackPlan(plan, outcome.changes);
    expect(rollback.operations.map((o) => `${o.action} ${o.target.kind}`)).toEqual(['delete DaemonSet', 'delete ClusterRoleBinding', 'delete ClusterRole', 'delete ServiceAccount']);
    expect(await dryRunPlan(writer, rollback)).toMatchObject({ applicable: true });
    expect(await exists()).toEqual([true, true, true, true]);
    expect(await applyPlan(writer, rollback)).toMatchObject({ status: 'applied' });
    expect(await exists()).toEqual([false, false, false, false]);
  });

  it("rolls back after the controllers wrote the created DaemonSet's status, and not once its spec was changed", async () => {
    const dsPath = '/apis/apps/v1/namespaces/kube-system/daemonsets/weave-net';
    const plan = await freshPlan();
    const outcome = await applyPlan(writer, plan);
    if (outcome.status !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(outcome)}`);
    // What the DaemonSet controller does right after the create (its resourceVersion moves).
    await api.request(`${dsPath}/status`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { status: { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberMisscheduled: 0, numberReady: 0, observedGeneration: 1 } } });
    expect(await applyPlan(writer, rollbackPlan(plan, outcome.changes))).toMatchObject({ status: 'applied' });
    expect(await exists()).toEqual([false, false, false, false]);

    // Someone edits the installed agent's spec: the rollback would delete their change, so it is refused and nothing is deleted.
    const again = await applyPlan(writer, await freshPlan());
    if (again.status !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(again)}`);
    await api.request(dsPath, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } } } });
    expect(await applyPlan(writer, rollbackPlan(plan, again.changes))).toMatchObject({ status: 'conflict', reason: expect.stringContaining('generation 1 → 2') });
    expect(await exists()).toEqual([true, true, true, true]);
    await cleanup();
  });

  it('as the bot with the shipped roles (reader + remediator + cni-installer): dry-run, apply and rollback are allowed', async () => {
    const plan = await freshPlan();
    const bot = await botApi(api, ['reader.yaml', 'remediation/remediator.yaml', 'remediation/cni-install/cni-installer.yaml']);
    try {
      const botWriter = new KubeWriter(bot.api);
      // The binding's dry run cannot see the ClusterRole the plan creates just before it: checked at apply.
      const dry = await dryRunPlan(botWriter, plan);
      expect([dry.applicable, dry.reason, dry.diffs.length]).toEqual([true, undefined, 4]);
      const outcome = await applyPlan(botWriter, plan);
      if (outcome.status !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(outcome)}`);
      expect(await exists()).toEqual([true, true, true, true]);
      expect(await applyPlan(botWriter, rollbackPlan(plan, outcome.changes))).toMatchObject({ status: 'applied' });
      expect(await exists()).toEqual([false, false, false, false]);
    } finally {
      await bot.remove();
    }
  });

  it('as the bot without the cni-install opt-in (reader + remediator): the dry run is refused, nothing is created', async () => {
    const plan = await freshPlan();
    const bot = await botApi(api, ['reader.yaml', 'remediation/remediator.yaml']);
    try {
      expect(await dryRunPlan(new KubeWriter(bot.api), plan)).toMatchObject({ applicable: false, reason: expect.stringMatching(/^serviceaccount\/weave-net -n kube-system: .*forbidden/) });
      expect(await exists()).toEqual([false, false, false, false]);
    } finally {
      await bot.remove();
    }
  });

  it('leaves an object that already exists unchanged alone (not created, not rolled back)', async () => {
    const plan = await freshPlan();
    await writer.execute(plan.operations[0]!, false); // the ServiceAccount, as an operator would have left it
    expect(await dryRunPlan(writer, plan)).toMatchObject({ applicable: true });
    const outcome = await applyPlan(writer, plan);
    if (outcome.status !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(outcome)}`);
    expect(outcome.changes.map((c) => c.operation.target.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
    expect(await applyPlan(writer, rollbackPlan(plan, outcome.changes))).toMatchObject({ status: 'applied' });
    expect(await exists()).toEqual([true, false, false, false]);
  });

  it('refuses when an object of the manifest exists with other content, creating nothing', async () => {
    const plan = await freshPlan();
    await writer.execute({ action: 'create', target: { ...CR, apiVersion: RBAC }, body: { apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: 'weave-net' }, rules: [] } }, false);
    expect(await dryRunPlan(writer, plan)).toMatchObject({ applicable: false, reason: expect.stringMatching(/clusterrole\/weave-net: already exists/) });
    expect(await applyPlan(writer, plan)).toMatchObject({ status: 'conflict', reason: expect.stringMatching(/clusterrole\/weave-net already exists/) });
    expect(await exists()).toEqual([false, true, false, false]);
  });
});
