import { BASELINE_VERSION, type Baseline, type BaselineObject, type BaselineStore, CLUSTER_WIDE, type FieldChange } from '../domain/baseline';
import type { Check, CheckContext } from '../domain/check';
import type { ClusterReader, ClusterView, NamespacedList, ReadError } from '../domain/cluster-view';
import type { Evidence } from '../domain/finding';
import { type Kind, RESOURCES } from '../domain/kube-types';
import { type ObjectRef, refKey } from '../domain/object-ref';
import type { CheckRun, Report } from '../domain/report';
import type { RunContext } from '../domain/run-context';
import { changesSince } from './changes-since';
import { INFRA_NAMESPACES } from './infra-namespaces';
import { type DraftOf, linkFindings } from './link-findings';
import { eachNamespaceOf, layeredView } from './namespace-views';
import { longestFirst, secretValuesIn } from './redact';
import { countersOf, lastHealthy, readsOf, reportOf, resourceVersionIn, runChecks, withChanges } from './run-steps';
import { baselineOf, ownBaselineObjects, plumbingBaselineObjects } from './take-baseline';
import type { Workflow } from './workflow';

const evidenceKey = (e: Evidence): string => `${e.type}\n${e.text}\n${e.command ?? ''}`;
const perObject = (e: Evidence): boolean => e.type === 'event' || e.type === 'log';

/** Items in the order first added, each key once; adding is linear in what is added, not in what is held. */
class KeyedUnion<T> {
  readonly items = new Map<string, T>();
  constructor(private readonly key: (x: T) => string) {}
  add(xs: readonly T[] | undefined): void {
    for (const x of xs ?? []) {
      const key = this.key(x);
      if (!this.items.has(key)) this.items.set(key, x);
    }
  }
}

/** A fault's first draft and what later runs add to it. */
interface FaultDrafts {
  first: DraftOf;
  evidence: KeyedUnion<Evidence>;
  /** The commands (or texts) of the kept evidence that is not an event or log line. */
  commands: Set<string>;
  explains?: KeyedUnion<ObjectRef>;
  dependsOn?: KeyedUnion<ObjectRef>;
  merged: boolean;
}

/**
 * One draft per fault across namespace runs: each namespace's run sees the infrastructure's faults
 * (a CoreDNS crash, a missing CNI agent) with its own pods as the symptoms they explain. The first
 * run's draft is kept (the infrastructure namespaces run first: its summary and counts are theirs),
 * with the objects explained and depended on of all, the events and log lines each run adds about
 * its own objects, and a later run's other evidence only where it names a command the kept draft
 * has none for (a later run's summary of what the first saw would only repeat it).
 */
class DraftsByFault {
  private readonly faults = new Map<string, FaultDrafts>();

  add(run: readonly DraftOf[]): void {
    const inRun = new Map<string, number>();
    for (const d of run) {
      const fault = `${d.check}\n${d.draft.code}\n${refKey(d.draft.subject)}`;
      // Two drafts of one run on the same object stay two (their ids get #2); the n-th of each run merge.
      const n = (inRun.get(fault) ?? 0) + 1;
      inRun.set(fault, n);
      const key = `${fault}\n${n}`;
      let f = this.faults.get(key);
      if (!f) {
        f = { first: d, evidence: new KeyedUnion(evidenceKey), commands: new Set(), merged: false };
        this.faults.set(key, f);
      } else f.merged = true;
      for (const e of d.draft.evidence) {
        const command = e.command ?? e.text;
        if (perObject(e)) f.evidence.add([e]);
        else if (!f.commands.has(command) || f.first === d) {
          f.evidence.add([e]);
          f.commands.add(command);
        }
      }
      if (d.draft.explains) (f.explains ??= new KeyedUnion(refKey)).add(d.draft.explains);
      if (d.draft.dependsOn) (f.dependsOn ??= new KeyedUnion(refKey)).add(d.draft.dependsOn);
    }
  }

  all(): DraftOf[] {
    return [...this.faults.values()].map(({ first, evidence, explains, dependsOn, merged }) => !merged ? first : ({
      ...first,
      draft: {
        ...first.draft,
        evidence: [...evidence.items.values()],
        ...(explains ? { explains: [...explains.items.values()] } : {}),
        ...(dependsOn ? { dependsOn: [...dependsOn.items.values()] } : {}),
      },
    }));
  }
}

/** The baseline objects and changes of one part of the cluster (a namespace, or the shared part), against its part of the last baseline. */
function partChanges(previous: BaselineObject[], current: BaselineObject[], view: ClusterView): FieldChange[] {
  const asBaseline = (objects: BaselineObject[]): Baseline => ({ version: BASELINE_VERSION, namespace: CLUSTER_WIDE, takenAt: '', objects });
  return changesSince(asBaseline(previous), asBaseline(current), view);
}

/**
 * A cluster-wide run (the daily digest), namespace by namespace, so its memory does not grow with
 * the cluster. What every namespace shares is read once: the infrastructure namespaces, the
 * cluster-scoped kinds and the kinds checks read everywhere (of those, only the fields the checks
 * reading them everywhere declare). Then each namespace's own objects (the kinds read everywhere
 * too, with all the run's fields) are read in turn, checked as a namespace run checks them (beside
 * the shared part), and dropped before the next. What outlives a namespace: its findings, its
 * baseline's networking fields, and the changes since the last digest (with the resourceVersions a
 * restore plan needs).
 * A fault several namespaces' runs see (one CoreDNS fault from each) is one finding.
 */
export async function diagnoseEachNamespace(ctx: RunContext, reader: ClusterReader, workflow: Workflow, cluster: string | undefined, baselines?: BaselineStore): Promise<Report> {
  const started = ctx.clock();
  const before = countersOf(reader);
  const { kinds, fields, everywhere, everywhereFields, alsoLists } = readsOf(workflow.checks);
  const exists = await Promise.all(INFRA_NAMESPACES.map((n) => reader.namespaceExists(n)));
  const infra = INFRA_NAMESPACES.filter((_, i) => exists[i]);
  // Without any infrastructure namespace, kube-system is still read (its lists come back empty).
  const sharedNamespaces = infra.length > 0 ? infra : INFRA_NAMESPACES.slice(0, 1);
  const namespaced = kinds.filter((k) => RESOURCES[k].namespaced);
  const except: NamespacedList[] = [...namespaced.flatMap((kind) => sharedNamespaces.map((namespace) => ({ kind, namespace }))), ...alsoLists];
  const listErrors: ReadError[] = [];
  // The namespaces' lists start while the shared part is read: the apiserver works on both at once, as in one whole read.
  const namespaces = eachNamespaceOf(reader, { kinds: namespaced, except, fields, readErrors: listErrors });
  const first = namespaces.next();
  first.catch(() => undefined); // awaited once the shared part is checked
  try {
    const shared = await reader.read({
      namespace: sharedNamespaces[0],
      alsoNamespaces: sharedNamespaces.slice(1),
      kinds,
      fields,
      ...(everywhere.length > 0 ? { everywhere, everywhereFields } : {}),
      ...(alsoLists.length > 0 ? { alsoLists } : {}),
    });

    const clusterName = cluster ?? shared.cluster ?? 'default';
    const previous = baselines ? await lastHealthy(ctx, baselines, clusterName, CLUSTER_WIDE) : undefined;
    const previousByNamespace = new Map<string, BaselineObject[]>();
    for (const o of previous?.objects ?? []) {
      const part = previousByNamespace.get(o.ref.namespace ?? '');
      if (part) part.push(o);
      else previousByNamespace.set(o.ref.namespace ?? '', [o]);
    }

    const drafts = new DraftsByFault();
    const checkRuns = new Map<string, CheckRun>();
    const secrets = new Set(secretValuesIn(shared));
    const readErrors = new KeyedUnion<ReadError>((e) => JSON.stringify(e));
    readErrors.add(shared.readErrors);
    const baselineObjects: BaselineObject[] = [];
    const changes: FieldChange[] = [];
    const resourceVersions = new Map<string, string | undefined>();
    // The kinds read everywhere that a namespace's own read holds whole (all but the lists the shared read holds whole).
    const ownEverywhere = (namespace: string): Kind[] => everywhere.filter((kind) => !except.some((l) => l.kind === kind && l.namespace === namespace));
    // The shared read's slim copies of other namespaces' objects are counted with their namespaces.
    const slimCopies = everywhere.reduce((n, kind) => n + shared.list(kind).filter((o) => ownEverywhere(o.metadata?.namespace ?? '').includes(kind)).length, 0);
    let objects = shared.objectCount - slimCopies;
    let observedAt = shared.observedAt;

    const check = (namespace: string, view: ClusterView, skip?: (c: Check) => boolean): void => {
      // The cluster's clock at this namespace's read, not ours.
      const checkCtx: CheckContext = { view, namespace, now: view.observedAt ?? started };
      const run = runChecks(ctx, workflow.checks, checkCtx, skip);
      drafts.add(run.drafts);
      // A check that failed in any namespace is reported failed (with its first error).
      for (const c of run.checks) if (checkRuns.get(c.id)?.status !== 'failed') checkRuns.set(c.id, c);
    };
    const keepChanges = (previousPart: BaselineObject[], currentPart: BaselineObject[], view: ClusterView): void => {
      baselineObjects.push(...currentPart);
      if (!previous) return;
      const found = partChanges(previousPart, currentPart, view);
      const versionOf = resourceVersionIn(view);
      for (const c of found) resourceVersions.set(refKey(c.ref), versionOf(c.ref));
      changes.push(...found);
    };

    // Without an infrastructure namespace, the run of kube-system's (empty) namespace still checks the cluster-scoped kinds (Nodes).
    for (const namespace of sharedNamespaces) check(namespace, shared);
    // Checks of the infrastructure alone ran with the shared part; each namespace adds nothing to what they find.
    const visit = (namespace: string, view: ClusterView): void => {
      check(namespace, view, (c) => c.infraOnly === true);
      if (!baselines) return;
      keepChanges(previousByNamespace.get(namespace) ?? [], ownBaselineObjects(view, namespace), view);
      previousByNamespace.delete(namespace);
    };
    for (let next = await first; !next.done; next = await namespaces.next()) {
      const { namespace, view: local } = next.value;
      visit(namespace, layeredView(shared, local, { namespace, kinds: ownEverywhere(namespace) }));
      for (const s of secretValuesIn(local)) secrets.add(s);
      readErrors.add(local.readErrors);
      objects += local.objectCount;
      if (local.observedAt && (!observedAt || local.observedAt > observedAt)) observedAt = local.observedAt;
      ctx.reclaimMemory?.();
    }
    // What the lists could not read at all (a kind the bot may not list), told once they are done.
    readErrors.add(listErrors);
    // The shared part last: the infrastructure namespaces' own objects and the plumbing (whose fields win), against
    // the rest of the last baseline (which also holds the namespaces that are gone).
    if (baselines) {
      const sharedPart = [...sharedNamespaces.flatMap((ns) => ownBaselineObjects(shared, ns)), ...plumbingBaselineObjects(shared, undefined)];
      keepChanges([...previousByNamespace.values()].flat(), baselineOf(sharedPart, undefined, undefined, started).objects, shared);
    }
    const current = baselines ? baselineOf(baselineObjects, clusterName, undefined, observedAt ?? started) : undefined;

    const secretList = longestFirst(secrets);
    const findings = linkFindings(drafts.all());
    const linked = previous && current ? withChanges(findings, previous, current, changes, (ref) => resourceVersions.get(refKey(ref)), secretList) : { findings };
    const report = reportOf(ctx, reader, before, {
      target: cluster ? { cluster } : {},
      workflow: workflow.name,
      started,
      ...(observedAt ? { observedAt } : {}),
      findings: linked.findings,
      ...('changes' in linked ? { changes: linked.changes } : {}),
      checks: workflow.checks.map((c) => checkRuns.get(c.id) ?? { id: c.id, status: 'ok' }),
      readErrors: [...readErrors.items.values()],
      objects,
      secrets: secretList,
    });
    // Every day's cluster-wide state is kept, so the next digest shows what changed since.
    if (baselines && current) {
      await baselines.save(clusterName, CLUSTER_WIDE, current).catch((err: unknown) => ctx.log.warn({ err }, 'could not keep the cluster-wide baseline'));
    }
    return report;
  } finally {
    await namespaces.return(undefined);
  }
}
