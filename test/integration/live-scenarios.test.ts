// Every shared scenario, loaded into the real apiserver, diagnosed through the LIVE view (logs
// through pods/log from the scripted kubelet) must give the same first root cause as its dump;
// and `netdoctor snapshot` of the loaded scenario must diagnose identically (round trip).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../cluster/kubelet';
import { loadScenario, type LoadedObject } from '../cluster/load-scenario';
import { main } from '../../src/cli/main';
import { CHECKS } from '../../src/checks';
import { DumpReader } from '../../src/cluster/dump-reader';
import { LiveReader } from '../../src/cluster/live-reader';
import { loadWorkflows } from '../../src/engine/workflow';
import type { KubeApi } from '../../src/cluster/kube-api';
import type { ObjectRef } from '../../src/domain/object-ref';
import type { Report } from '../../src/domain/report';
import { silentLogger } from '../../src/domain/run-context';
import { INFRA_NAMESPACES, diagnose } from '../../src/engine/diagnose';
import { adminApi, diagnoseLive, namespaceTriage } from '../support/live';
import { listAllScenarios, scenarioMismatch } from '../support/scenarios';

jest.setTimeout(180_000);

/**
 * Whether a finding's subject may be the scenario's: cluster-scoped (a ClusterRole the scenario
 * lacks is a subject too), or in the infrastructure namespaces or one the scenario loaded into.
 * Other test files' namespaces, on the same apiserver at the same time, are not.
 */
function scenarioSubjects(objects: LoadedObject[]): (subject: ObjectRef) => boolean {
  const namespaces = new Set([...INFRA_NAMESPACES, ...objects.flatMap((o) => (o.namespace ? [o.namespace] : []))]);
  return (s) => !s.namespace || namespaces.has(s.namespace);
}

const rootSummary = (r: Report) => r.findings.filter((f) => f.rootCause).map((f) => ({ check: f.check, subject: f.subject, severity: f.severity }));

describe.each(listAllScenarios().map((s) => [s.name, s] as const))('scenario %s on the real apiserver', (_name, scenario) => {
  let api: KubeApi;
  let kubelet: ScriptedKubelet;
  let unload: (() => Promise<void>) | undefined;
  let namespaces: string[] = [];
  let loadedObjects: LoadedObject[] = [];
  let live: Report;
  const out = mkdtempSync(join(tmpdir(), 'nd-snapshot-'));

  beforeAll(async () => {
    api = await adminApi();
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: process.env.NETDOCTOR_TEST_KUBECONFIG, tls: kubeletTlsFromPkiDir() });
    const loaded = await loadScenario(scenario.dir, { kubelet });
    unload = () => loaded.unload();
    namespaces = loaded.namespaces;
    loadedObjects = loaded.objects;
    live = await diagnoseLive(api, scenario.expect.namespace);
  });

  afterAll(async () => {
    await unload?.();
    await kubelet?.stop();
    api?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('finds the expected root cause through the live view', () => {
    expect(live.checks.filter((c) => c.status === 'failed')).toEqual([]);
    expect(live.readErrors).toEqual([]);
    expect(scenarioMismatch(live, scenario.expect)).toBeUndefined();
  });

  it('ranks the same root causes as the dump does', async () => {
    const fromDump = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(scenario.dir), namespaceTriage(), {
      namespace: scenario.expect.namespace,
    });
    expect(rootSummary(live)).toEqual(rootSummary(fromDump));
  });

  it('the digest, read namespace by namespace through the live LISTs, ranks the root causes the dump does', async () => {
    const clusterHealth = loadWorkflows(CHECKS).get('cluster-health')!;
    const ctx = { runId: 't', log: silentLogger, clock: () => new Date() };
    const [fromLive, fromDump] = await Promise.all([diagnose(ctx, new LiveReader(api), clusterHealth, {}), diagnose(ctx, new DumpReader(scenario.dir), clusterHealth, {})]);
    expect(fromLive.readErrors).toEqual([]);
    // The digest reads the whole cluster, which other test files share: their namespaces' findings are left out.
    const ofScenario = scenarioSubjects(loadedObjects);
    expect(rootSummary(fromLive).filter((f) => ofScenario(f.subject))).toEqual(rootSummary(fromDump));
  });

  it("measures ages on the apiserver's clock (its Date header, whole seconds), not the bot's", () => {
    expect(live.observedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    expect(Math.abs(Date.parse(live.observedAt!) - Date.now())).toBeLessThan(180_000);
  });

  it('reads with a bounded number of API calls (no per-object reads)', () => {
    // One LIST per kind and namespace read (the target and the infra namespaces the scenario has,
    // e.g. kube-flannel), the namespace checks, and a few log reads.
    const kinds = new Set(namespaceTriage().checks.flatMap((c) => c.needs)).size;
    const namespacesRead = 1 + INFRA_NAMESPACES.filter((n) => n !== scenario.expect.namespace && (n === 'kube-system' || namespaces.includes(n))).length;
    expect(live.stats.apiCalls).toBeLessThan(kinds * namespacesRead + INFRA_NAMESPACES.length + 1 + 10);
  });

  it('round-trips through `netdoctor snapshot`', async () => {
    let err = '';
    const code = await main(['snapshot', scenario.expect.namespace, '--out', out, '--kubeconfig', process.env.NETDOCTOR_TEST_KUBECONFIG!], {
      stdout: () => undefined,
      stderr: (s) => (err += s),
      env: {},
      isTTY: false,
    });
    expect({ code, err }).toEqual({ code: 0, err: expect.stringMatching(/^wrote \d+ objects in \d+ files? and \d+ logs/) });
    const again = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(out), namespaceTriage(), {
      namespace: scenario.expect.namespace,
    });
    expect(rootSummary(again)).toEqual(rootSummary(live));
  });
});
