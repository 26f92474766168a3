import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { Check } from '../../../src/domain/check';
import type { ClusterReader, ClusterView } from '../../../src/domain/cluster-view';
import { KINDS } from '../../../src/domain/kube-types';
import { keeps, project, projectionOf } from '../../../src/domain/projection';
import type { Report } from '../../../src/domain/report';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { ENGINE_READS, projectionFor } from '../../../src/engine/engine-reads';
import { INFRA_NAMESPACES } from '../../../src/engine/infra-namespaces';
import { extraLists } from '../../../src/engine/run-steps';
import { loadWorkflows } from '../../../src/engine/workflow';
import { FieldRecorder, describeRead } from '../../support/field-recorder';
import { MemoryBaselines } from '../../support/memory-ports';
import { listAllScenarios } from '../../support/scenarios';

const scenarios = listAllScenarios();
const workflows = loadWorkflows(CHECKS);
const ctx = { runId: 'fields', log: silentLogger, clock: () => new Date('2026-03-01T07:00:00Z') };

/** The same reader without the projection: every object whole, as before fields were declared. */
const wholeObjects = (reader: ClusterReader): ClusterReader => ({
  read: (scope) => reader.read({ ...scope, fields: undefined, everywhereFields: undefined }),
  namespaceExists: (ns) => reader.namespaceExists(ns),
  apiCalls: 0,
});

/** A report without what differs between two runs of the same cluster (times, sizes). */
const comparable = (r: Report): unknown => ({ ...r, generatedAt: undefined, stats: undefined });

describe('project', () => {
  const tree = projectionOf(['Pod'], [{ Pod: ['spec.containers.ports', 'status.phase', 'metadata.labels'] }]).Pod!;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { big: 'x'.repeat(1000) } },
    spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }], env: [{ name: 'X', value: 'y' }] }, { name: 'b' }], volumes: [{ name: 'v' }], affinity: {} },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };

  it('keeps the declared fields, every array item, names and kinds; drops the rest', () => {
    expect(project(pod, tree)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
      spec: { containers: [{ ports: [{ containerPort: 80 }] }, {}] },
      status: { phase: 'Running' },
    });
  });

  it('keeps the object’s own key order and leaves the object it copies alone', () => {
    const before = JSON.stringify(pod);
    expect(Object.keys(project(pod, tree))).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(JSON.stringify(pod)).toBe(before);
  });

  it('keeps a primitive where a subtree was declared (a field of the wrong type is the check’s to judge)', () => {
    expect(project({ spec: { containers: 'junk' } }, tree)).toEqual({ spec: { containers: 'junk' } });
  });

  it('serves walking through an object, reading a value under a kept path; not listing a partly kept object’s keys', () => {
    expect(keeps(tree, ['spec', 'containers'], 'node')).toBe(true);
    expect(keeps(tree, ['spec', 'containers', 'ports', 'containerPort'], 'leaf')).toBe(true);
    expect(keeps(tree, ['metadata', 'labels', 'app'], 'whole')).toBe(true);
    expect(keeps(tree, ['spec', 'containers'], 'whole')).toBe(false);
    expect(keeps(tree, ['spec', 'nodeName'], 'leaf')).toBe(false);
  });
});

describe('the recorder', () => {
  it('reports a field a check reads but does not declare', async () => {
    const sneaky: Check = { id: 'sneaky', title: 'reads more than it says', codes: [], needs: ['Pod'], reads: { Pod: ['status.phase'] }, run: ({ view }) => (view.list('Pod').some((p) => p.spec?.nodeName === 'x' || p.status?.phase === 'y') ? [] : []) };
    const recorder = new FieldRecorder();
    const view = recorder.view(await new DumpReader(scenarios[0]!.dir).read({ alsoNamespaces: [], kinds: [...KINDS] }));
    sneaky.run({ view, now: new Date() });
    expect(recorder.missing([sneaky.reads]).map(describeRead)).toEqual(['Pod spec (node)', 'Pod spec.nodeName (leaf)']);
  });
});

describe('declared fields', () => {
  it.each(CHECKS.map((c) => [c.id, c] as const))('%s declares fields only of kinds it reads', (_id, check) => {
    const readable = new Set([...check.needs, ...(check.alsoReads ?? []).map((r) => r.kind)]);
    expect(Object.keys(check.reads).filter((k) => !readable.has(k as never))).toEqual([]);
  });

  // Every check on every scenario, on its namespace and cluster-wide, with its findings serialized: all it read is declared.
  const wholeViews = new Map<string, ClusterView>();
  const wholeView = async (dir: string): Promise<ClusterView> => {
    if (!wholeViews.has(dir)) wholeViews.set(dir, await new DumpReader(dir).read({ alsoNamespaces: [], kinds: [...KINDS] }));
    return wholeViews.get(dir)!;
  };

  it.each(CHECKS.map((c) => [c.id, c] as const))('%s reads nothing it does not declare, on any scenario', async (_id, check) => {
    const missing = new Set<string>();
    for (const scenario of scenarios) {
      const whole = await wholeView(scenario.dir);
      for (const namespace of [scenario.expect.namespace, undefined]) {
        const recorder = new FieldRecorder();
        JSON.stringify(check.run({ view: recorder.view(whole), namespace, now: whole.observedAt ?? new Date() }));
        for (const read of recorder.missing([check.reads])) missing.add(`${describeRead(read)} on ${scenario.name}`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  // Of other namespaces' objects (held for checks that read a kind everywhere), readers keep only what those checks declare.
  const everywhere = [...new Set(CHECKS.flatMap((c) => c.needsEverywhere ?? []))];
  const alsoLists = extraLists(CHECKS);
  const namespaceViews = new Map<string, ClusterView>();
  const namespaceView = async (dir: string, namespace: string): Promise<ClusterView> => {
    const scope = { namespace, alsoNamespaces: INFRA_NAMESPACES.filter((n) => n !== namespace), kinds: [...KINDS], everywhere, alsoLists };
    if (!namespaceViews.has(dir)) namespaceViews.set(dir, await new DumpReader(dir).read(scope));
    return namespaceViews.get(dir)!;
  };
  it.each(CHECKS.map((c) => [c.id, c] as const))('%s reads of other namespaces’ objects only what it declares it reads everywhere', async (_id, check) => {
    const kept = projectionOf(everywhere, check.needsEverywhere ? [Object.fromEntries(check.needsEverywhere.map((k) => [k, check.reads[k] ?? []]))] : []);
    const outside = new Set<string>();
    for (const scenario of scenarios) {
      const namespace = scenario.expect.namespace;
      const own = new Set([namespace, ...INFRA_NAMESPACES]);
      const view = await namespaceView(scenario.dir, namespace);
      const recorder = new FieldRecorder();
      JSON.stringify(check.run({ view: recorder.view(view), namespace, now: view.observedAt ?? new Date() }));
      for (const read of recorder.reads) {
        if (read.namespace === undefined || own.has(read.namespace) || alsoLists.some((l) => l.kind === read.kind && l.namespace === read.namespace)) continue;
        // A check that does not read the kind everywhere may look at names only (to skip what is not its namespace's).
        if (!keeps(kept[read.kind] ?? projectionOf([read.kind], [])[read.kind], read.path, read.mode)) outside.add(`${describeRead(read)} in ${read.namespace} on ${scenario.name}`);
      }
    }
    expect([...outside]).toEqual([]);
  });

  // A plan is re-checked before it is applied by its check alone, so each check must find the same on its own projection.
  it.each(CHECKS.map((c) => [c.id, c] as const))('%s alone, on only its fields and the engine’s, finds what it finds on whole objects', async (_id, check) => {
    const fields = projectionFor([check]);
    for (const scenario of scenarios) {
      const reader = new DumpReader(scenario.dir);
      const whole = await wholeView(scenario.dir);
      const slim = await reader.read({ alsoNamespaces: [], kinds: [...KINDS], fields });
      for (const namespace of [scenario.expect.namespace, undefined]) {
        const now = whole.observedAt ?? new Date();
        expect(check.run({ view: slim, namespace, now })).toEqual(check.run({ view: whole, namespace, now }));
      }
    }
  });

  // The whole run (checks, links, plans, redaction, baselines and changes, the serialized report): nothing beyond the checks' and the engine's fields.
  it.each(scenarios.map((s) => [s.name, s] as const))('a run on %s reads only declared fields, and finds the same with whole objects', async (_name, scenario) => {
    for (const name of ['namespace-triage', 'cluster-health']) {
      const workflow = workflows.get(name)!;
      const target = { cluster: 'lab', namespace: scenario.expect.namespace };
      const recorder = new FieldRecorder();
      const baselines = new MemoryBaselines();
      // Twice: the second run compares with the first one's baseline.
      let projected: Report | undefined;
      for (let run = 0; run < 2; run++) projected = await diagnose(ctx, recorder.reader(new DumpReader(scenario.dir)), workflow, target, baselines);
      JSON.stringify(projected);
      expect(recorder.missing([ENGINE_READS, ...workflow.checks.map((c) => c.reads)]).map(describeRead)).toEqual([]);

      const reference = new MemoryBaselines();
      let whole: Report | undefined;
      for (let run = 0; run < 2; run++) whole = await diagnose(ctx, wholeObjects(new DumpReader(scenario.dir)), workflow, target, reference);
      expect(comparable(projected!)).toEqual(comparable(whole!));
    }
  });
});
