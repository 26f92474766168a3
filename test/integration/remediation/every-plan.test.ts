// Every plan any scenario produces, on the real apiserver: loaded, diagnosed live, dry-run,
// applied, and then the check that proposed it no longer fires on its subject (the real
// endpoint controllers recompute Services' endpoints); finally rolled back.
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { loadScenario } from '../../cluster/load-scenario';
import type { KubeApi } from '../../../src/cluster/kube-api';
import { KubeWriter } from '../../../src/cluster/kube-writer';
import { sameRef } from '../../../src/domain/object-ref';
import type { Plan } from '../../../src/domain/plan';
import { applyPlan, dryRunPlan, rollbackPlan } from '../../../src/remediation/execute-plan';
import { adminApi, diagnoseLive } from '../../support/live';
import { type Scenario, listAllScenarios } from '../../support/scenarios';

jest.setTimeout(180_000);

/** Scenarios whose first root cause carries a plan (known from their expectations: a fix is expected). */
const withPlans = listAllScenarios().filter((s) => s.expect.rootCause?.fixContains);

async function stillFiring(api: KubeApi, scenario: Scenario, plan: Plan): Promise<string[]> {
  const report = await diagnoseLive(api, scenario.expect.namespace);
  return report.findings.filter((f) => f.check === plan.verify.check && f.severity !== 'info' && sameRef(f.subject, plan.verify.subject)).map((f) => f.summary);
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.each(withPlans.map((s) => [s.name, s] as const))('the plan of %s on the real apiserver', (_name, scenario) => {
  let api: KubeApi;
  let kubelet: ScriptedKubelet;
  let unload: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    api = await adminApi();
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: process.env.NETDOCTOR_TEST_KUBECONFIG, tls: kubeletTlsFromPkiDir() });
    const loaded = await loadScenario(scenario.dir, { kubelet });
    unload = () => loaded.unload();
  });

  afterAll(async () => {
    await unload?.();
    await kubelet?.stop();
    api?.close();
  });

  it('dry-runs, applies, stops the check firing, and rolls back', async () => {
    const writer = new KubeWriter(api);
    const report = await diagnoseLive(api, scenario.expect.namespace);
    const plan = report.findings.find((f) => f.rootCause)?.plan;
    expect(plan).toBeTruthy();
    expect(await dryRunPlan(writer, plan!)).toMatchObject({ applicable: true });
    const outcome = await applyPlan(writer, plan!);
    expect(outcome.status).toBe('applied');
    // A created agent DaemonSet needs its pods, and the DaemonSet controller is off in the test
    // cluster (dump pods must keep their names): that verdict is covered where the rollout is played.
    const createsAgent = plan!.operations.some((o) => o.action === 'create' && o.target.kind === 'DaemonSet');
    if (!createsAgent) expect(await eventually(() => stillFiring(api, scenario, plan!), (v) => v.length === 0)).toEqual([]);
    if (outcome.status !== 'applied') return;
    expect(await applyPlan(writer, rollbackPlan(plan!, outcome.changes))).toMatchObject({ status: 'applied' });
    expect(await stillFiring(api, scenario, plan!)).not.toEqual([]);
  });
});
