// The cluster-wide run (the digest) reads and checks one namespace at a time. It must find what one
// pass of the checks over the whole cluster finds, on every scenario, and keep the same baseline.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { changeLine } from '../../../src/domain/baseline';
import type { ClusterView, EachNamespaceScope, NamespaceObjects, ReadScope } from '../../../src/domain/cluster-view';
import type { Finding } from '../../../src/domain/finding';
import { refKey } from '../../../src/domain/object-ref';
import { silentLogger } from '../../../src/domain/run-context';
import { changesSince } from '../../../src/engine/changes-since';
import { diagnose } from '../../../src/engine/diagnose';
import { projectionFor } from '../../../src/engine/engine-reads';
import { linkFindings } from '../../../src/engine/link-findings';
import { eachNamespaceOf, layeredView } from '../../../src/engine/namespace-views';
import { INFRA_NAMESPACES } from '../../../src/engine/infra-namespaces';
import { extraLists, runChecks } from '../../../src/engine/run-steps';
import { takeBaseline } from '../../../src/engine/take-baseline';
import { loadWorkflows } from '../../../src/engine/workflow';
import { MemoryBaselines } from '../../support/memory-ports';
import { listAllScenarios } from '../../support/scenarios';
import { viewOf } from '../../support/view';

const workflow = loadWorkflows(CHECKS).get('cluster-health')!;
const ctx = { runId: 'each-namespace', log: silentLogger, clock: () => new Date('2026-03-01T07:00:00Z') };
const kinds = [...new Set(workflow.checks.flatMap((c) => c.needs))];

/** One pass of every check over the whole cluster (what a cluster-wide run did before it went namespace by namespace). */
async function wholeCluster(reader: DumpReader): Promise<{ findings: Finding[]; view: ClusterView }> {
  const view = await reader.read({ alsoNamespaces: [], kinds, fields: projectionFor(workflow.checks) });
  return { findings: linkFindings(runChecks(ctx, workflow.checks, { view, now: view.observedAt ?? ctx.clock() }).drafts), view };
}

const shape = (f: Finding): string => `${f.id} ${f.code} root=${f.rootCause} under=${f.causedBy}`;

describe('cluster-wide run, namespace by namespace', () => {
  it.each(listAllScenarios().map((s) => [s.name, s.dir]))('%s: the faults one pass over the whole cluster finds, each explaining as much', async (_name, dir) => {
    const reader = new DumpReader(dir);
    const report = await diagnose(ctx, reader, workflow, {});
    const whole = await wholeCluster(reader);
    const found = new Map(report.findings.map((f) => [f.id, f]));
    // intent-drift compares a namespace with its declared intent: only a namespace's run has one, so it adds to a digest.
    expect(report.findings.filter((f) => f.check !== 'intent-drift').map(shape)).toEqual(expect.arrayContaining(whole.findings.map(shape)));
    expect(report.findings.filter((f) => f.check !== 'intent-drift').length).toBe(whole.findings.length);
    for (const f of whole.findings) expect(found.get(f.id)!.explains.map(refKey)).toEqual(expect.arrayContaining(f.explains.map(refKey)));
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
  });

  it.each(listAllScenarios().map((s) => [s.name, s.dir]))('%s: keeps the baseline of the whole cluster', async (_name, dir) => {
    const baselines = new MemoryBaselines();
    const reader = new DumpReader(dir);
    await diagnose(ctx, reader, workflow, { cluster: 'lab' }, baselines);
    const kept = baselines.kept.get('lab/*')![0]!;
    const whole = takeBaseline((await wholeCluster(reader)).view, undefined, ctx.clock());
    const byRef = (objects: typeof kept.objects) => Object.fromEntries(objects.map((o) => [refKey(o.ref), o.fields]));
    expect(byRef(kept.objects)).toEqual(byRef(whole.objects));
  });

  it('tells every change since the last digest, in any namespace, in the shared part and of namespaces gone', async () => {
    const scenarios = new Map(listAllScenarios().map((s) => [s.name, s.dir]));
    const [before, after] = [new DumpReader(scenarios.get('repo/env-service-other-namespace')!), new DumpReader(scenarios.get('repo/svc-selector')!)];
    const baselines = new MemoryBaselines();
    await diagnose(ctx, before, workflow, { cluster: 'lab' }, baselines);
    const report = await diagnose(ctx, after, workflow, { cluster: 'lab' }, baselines);
    const whole = await wholeCluster(after);
    const expected = changesSince(takeBaseline((await wholeCluster(before)).view, undefined, ctx.clock()), takeBaseline(whole.view, undefined, ctx.clock()), whole.view);
    // env-service-other-namespace has a namespace `data` that svc-selector has not: its objects are gone.
    expect(expected.filter((c) => c.ref.namespace === 'data' && c.from === 'present').length).toBeGreaterThan(0);
    expect(expected.some((c) => c.path !== '')).toBe(true);
    const since = report.changes!.since;
    // Each change is told once: listed as unexplained, or as evidence on the finding it touches.
    const told = [...report.changes!.unexplained.map((c) => changeLine(c, since)), ...report.findings.flatMap((f) => f.evidence.filter((e) => e.type === 'change').map((e) => e.text))];
    expect(told.sort()).toEqual(expected.map((c) => changeLine(c, since)).sort());
  });

  it('closes the namespaces\' lists, started beside the shared read, when the shared read fails', async () => {
    /** A reader whose shared read (the infrastructure namespaces) fails while its namespace stream has begun. */
    class SharedReadFails extends DumpReader {
      streamed = 0;
      streamClosed = false;
      override async read(scope: ReadScope): Promise<ClusterView> {
        if (scope.namespace !== undefined) throw new Error('the apiserver went away');
        return super.read(scope);
      }
      async *eachNamespace(scope: EachNamespaceScope): AsyncGenerator<NamespaceObjects> {
        try {
          const view = await super.read({ alsoNamespaces: [], kinds: scope.kinds });
          for (const namespace of ['data', 'triton']) {
            this.streamed++;
            yield { namespace, view };
          }
        } finally {
          this.streamClosed = true;
        }
      }
    }
    const reader = new SharedReadFails(listAllScenarios().find((s) => s.name === 'repo/env-service-other-namespace')!.dir);
    await expect(diagnose(ctx, reader, workflow, {})).rejects.toThrow('the apiserver went away');
    expect(reader.streamed).toBe(1);
    expect(reader.streamClosed).toBe(true);
  });

  it('offers to reclaim memory after each namespace it streams, where only that namespace is held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-reclaim-'));
    const pod = (namespace: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace }, spec: { containers: [{ name: 'web', image: 'web' }] } });
    writeFileSync(join(dir, 'objects.yaml'), ['kube-system', 'blue', 'green', 'red'].map((ns) => JSON.stringify(pod(ns))).join('\n---\n'));
    const streamed: string[] = [];
    const reclaimedAfter: string[] = [];
    const sliced = new DumpReader(dir);
    class Streams extends DumpReader {
      async *eachNamespace(scope: EachNamespaceScope): AsyncGenerator<NamespaceObjects> {
        for await (const ns of eachNamespaceOf(sliced, scope)) {
          streamed.push(ns.namespace);
          yield ns;
        }
      }
    }
    await diagnose({ ...ctx, reclaimMemory: () => reclaimedAfter.push(streamed.at(-1)!) }, new Streams(dir), workflow, {});
    rmSync(dir, { recursive: true, force: true });
    expect(streamed).toEqual(['blue', 'green', 'red']);
    expect(reclaimedAfter).toEqual(streamed);
  });
});

describe('infraOnly checks', () => {
  const infraOnly = CHECKS.filter((c) => c.infraOnly);
  const fields = projectionFor(CHECKS);
  const everywhere = [...new Set(CHECKS.flatMap((c) => c.needsEverywhere ?? []))];
  const alsoLists = extraLists(CHECKS);
  const everyKind = [...new Set(CHECKS.flatMap((c) => c.needs))];

  it('are the checks of kube-proxy, CoreDNS and Nodes', () => {
    expect(infraOnly.map((c) => c.id).sort()).toEqual(
      ['coredns-bind', 'coredns-corefile', 'coredns-loop', 'coredns-rbac', 'coredns-upstream', 'kube-dns-service', 'kube-proxy-config-path', 'kube-proxy-config-values', 'kube-proxy-crashing', 'kube-proxy-kubeconfig', 'node-duplicate-ip'],
    );
  });

  // What lets the digest run them once: in every namespace of every scenario, a check of the infrastructure alone
  // finds exactly what it finds with the infrastructure namespaces only (and no target namespace of its own).
  it.each(listAllScenarios().map((s) => [s.name, s.dir]))('%s: find in each namespace what they find in the infrastructure alone', async (_name, dir) => {
    const reader = new DumpReader(dir);
    const infraRead = { alsoNamespaces: INFRA_NAMESPACES.slice(1), kinds: everyKind, fields, everywhere, alsoLists };
    const shared = await reader.read({ namespace: INFRA_NAMESPACES[0], ...infraRead });
    const namespaces = new Set((await reader.read({ alsoNamespaces: [], kinds: everyKind })).list('Pod').map((p) => p.metadata?.namespace ?? ''));
    const now = shared.observedAt ?? ctx.clock();
    for (const namespace of [...namespaces].filter((n) => !INFRA_NAMESPACES.includes(n))) {
      const full = await reader.read({ namespace, ...infraRead, alsoNamespaces: INFRA_NAMESPACES });
      for (const check of infraOnly) expect([check.id, check.run({ view: full, namespace, now })]).toEqual([check.id, check.run({ view: shared, namespace: INFRA_NAMESPACES[0], now })]);
    }
  });
});

describe('layeredView', () => {
  const docs = (objects: object[]): string => objects.map((o) => JSON.stringify(o)).join('\n---\n');
  // Services are read everywhere: slim in the shared read, whole in their namespace's own.
  const shared = viewOf(docs([
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a', name: 'x' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'b', name: 'api' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'b', name: 'gone' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'b-2', name: 'a' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'c', name: 'x' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'kube-system', name: 'coredns' } },
    { apiVersion: 'v1', kind: 'Event', metadata: { namespace: 'default', name: 'e1' }, involvedObject: { kind: 'Node', name: 'n1' }, lastTimestamp: '2026-03-01T06:00:00Z' },
  ]));
  const local = viewOf(docs([
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'b', name: 'api', resourceVersion: '7' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'b', name: 'web', resourceVersion: '8' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'b', name: 'web' } },
    { apiVersion: 'v1', kind: 'Event', metadata: { namespace: 'b', name: 'e2' }, involvedObject: { kind: 'Node', name: 'n1' }, lastTimestamp: '2026-03-01T05:00:00Z' },
  ]));
  const view = layeredView(shared, local, { namespace: 'b', kinds: ['Service'] });
  const names = (objects: readonly { metadata?: { namespace?: string; name?: string; resourceVersion?: string } }[]): string[] =>
    objects.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}${o.metadata?.resourceVersion ? `@${o.metadata.resourceVersion}` : ''}`);

  it('answers with both parts, in the view order', () => {
    expect(names(view.list('Pod'))).toEqual(['b/web', 'kube-system/coredns']);
    expect(names(view.list('Pod', 'b'))).toEqual(['b/web']);
    expect(view.get('Pod', 'b', 'web')).toBeDefined();
    expect(view.get('Pod', 'kube-system', 'coredns')).toBeDefined();
    expect(view.events({ kind: 'Node', name: 'n1' }).map((e) => e.metadata?.name)).toEqual(['e2', 'e1']);
    expect(view.objectCount).toBe(11);
  });

  it('takes the namespace’s own objects of the kinds read everywhere from its own read alone', () => {
    // b/gone was deleted between the two reads: the namespace's own read is the one that counts.
    // In the view's order (localeCompare sorts `b-2/…` before `b/…`).
    expect(names(view.list('Service'))).toEqual(['a/x', 'b-2/a', 'b/api@7', 'b/web@8', 'c/x']);
    expect(names(view.list('Service', 'b'))).toEqual(['b/api@7', 'b/web@8']);
    expect(names(view.list('Service', 'c'))).toEqual(['c/x']);
    expect(view.get('Service', 'b', 'api')?.metadata?.resourceVersion).toBe('7');
    expect(view.get('Service', 'b', 'gone')).toBeUndefined();
    expect(view.get('Service', 'a', 'x')).toBeDefined();
  });
});
