import type { Check, CheckContext } from '../domain/check';
import type { ClusterView, NamespacedList, ReadError, ReadScope } from '../domain/cluster-view';
import { type Kind, isKind } from '../domain/kube-types';
import { projectionFor } from './engine-reads';
import { type Projection, projectionOf } from '../domain/projection';
import { NetdoctorError } from '../domain/errors';
import { type CheckRun, REPORT_API_VERSION, type Report } from '../domain/report';
import type { Baseline, BaselineStore, ChangesSince, FieldChange } from '../domain/baseline';
import type { Finding } from '../domain/finding';
import type { ObjectRef } from '../domain/object-ref';
import type { RunContext } from '../domain/run-context';
import { attachChanges } from './attach-changes';
import type { DraftOf } from './link-findings';
import { pinPreconditions } from './pin-preconditions';
import { redactFindings, redactText } from './redact';

// The steps of a run that a namespace run and a cluster-wide one (namespace by namespace) share.

/** The checks' reads outside the namespaces a run covers, each kind and namespace once. */
export function extraLists(checks: readonly Check[]): NamespacedList[] {
  const seen = new Map<string, NamespacedList>();
  for (const read of checks.flatMap((c) => c.alsoReads ?? [])) seen.set(`${read.kind}/${read.namespace}`, { kind: read.kind, namespace: read.namespace });
  return [...seen.values()];
}

/**
 * What a run of these checks reads: the kinds, the fields kept of them (most of an object's bytes are fields nobody
 * reads), the kinds read in every namespace (and what is kept of them outside the run's namespaces) and the single
 * lists read outside the run's namespaces.
 */
export function readsOf(
  checks: readonly Check[],
): Pick<ReadScope, 'kinds' | 'fields' | 'everywhere' | 'everywhereFields' | 'alsoLists'> & { everywhere: Kind[]; everywhereFields: Projection; alsoLists: NamespacedList[] } {
  const everywhere = [...new Set<Kind>(checks.flatMap((c) => c.needsEverywhere ?? []))].sort();
  return {
    kinds: [...new Set<Kind>(checks.flatMap((c) => c.needs))].sort(),
    fields: projectionFor(checks),
    everywhere,
    everywhereFields: everywhereProjection(checks, everywhere),
    alsoLists: extraLists(checks),
  };
}

/** Per kind read everywhere, the fields of the checks that read it there (the engine reads only a run's own namespaces). */
export function everywhereProjection(checks: readonly Check[], everywhere: readonly Kind[]): Projection {
  return Object.fromEntries(
    everywhere.map((kind) => [kind, projectionOf([kind], checks.filter((c) => c.needsEverywhere?.includes(kind)).map((c) => c.reads))[kind]!]),
  );
}

/** Each check over the view in isolation: a failing check is reported, the run goes on. */
export function runChecks(
  ctx: RunContext,
  workflowChecks: readonly Check[],
  checkCtx: CheckContext,
  skip: (check: Check) => boolean = () => false,
): { drafts: DraftOf[]; checks: CheckRun[] } {
  const drafts: DraftOf[] = [];
  // The order is the workflow's (it breaks ties between equally severe causes), skipped checks included.
  const checks: CheckRun[] = workflowChecks.flatMap((check, order): CheckRun[] => {
    if (skip(check)) return [];
    try {
      const found = check.run(checkCtx);
      const undeclared = found.find((d) => !check.codes.includes(d.code));
      // A code outside the declared list would break every consumer keyed on codes: the check fails instead.
      if (undeclared) throw new Error(`finding code "${undeclared.code}" is not among the check's declared codes`);
      for (const draft of found) drafts.push({ check: check.id, order, draft: draft.plan ? { ...draft, plan: pinPreconditions(draft.plan, checkCtx.view) } : draft });
      return [{ id: check.id, status: 'ok' }];
    } catch (e) {
      ctx.log.warn({ check: check.id, ...(checkCtx.namespace ? { namespace: checkCtx.namespace } : {}), err: e }, 'check failed');
      return [{ id: check.id, status: 'failed', error: (e as Error).message }];
    }
  });
  return { drafts, checks };
}

/** The newest healthy baseline, or none: a store that fails (Redis flushed, down) only loses history. */
export async function lastHealthy(ctx: RunContext, baselines: BaselineStore, cluster: string, namespace: string): Promise<Baseline | undefined> {
  try {
    return await baselines.latest(cluster, namespace);
  } catch (err) {
    if (err instanceof NetdoctorError) throw err; // bad input (a --baseline DIR without the namespace), not lost history
    ctx.log.warn({ err }, 'could not load the last healthy baseline; diagnosing without it');
    return undefined;
  }
}

/** What changed since the last healthy run, on the findings it touches and (the rest) listed once. */
export function withChanges(
  findings: Finding[],
  previous: Baseline,
  current: Baseline,
  changes: FieldChange[],
  resourceVersionOf: (ref: ObjectRef) => string | undefined,
  secrets: readonly string[],
): { findings: Finding[]; changes: ChangesSince } {
  const attached = attachChanges(findings, changes, previous, current, resourceVersionOf);
  // Values shown in the report go through the same redaction as findings (the plans carry raw values and are checked by redactFindings).
  const unexplained = attached.unexplained.map(({ from, to, ...c }) => ({
    ...c,
    ...(from !== undefined ? { from: redactText(from, secrets) } : {}),
    ...(to !== undefined ? { to: redactText(to, secrets) } : {}),
  }));
  return { findings: attached.findings, changes: { since: previous.takenAt, unexplained } };
}

/** API calls and bytes a reader has made so far: a run's statistics are the difference. */
export interface ReaderCounters {
  calls: number;
  bytes?: number;
}

export const countersOf = (reader: { apiCalls: number; bytesRead?: number }): ReaderCounters => ({ calls: reader.apiCalls, ...(reader.bytesRead !== undefined ? { bytes: reader.bytesRead } : {}) });

/** What a run found, before it becomes a report. */
export interface RunOutcome {
  target: { cluster?: string; namespace?: string };
  workflow: string;
  started: Date;
  observedAt?: Date;
  /** Linked findings, credentials not yet redacted. */
  findings: Finding[];
  changes?: ChangesSince;
  checks: CheckRun[];
  readErrors: ReadError[];
  objects: number;
  /** The credential values seen in the run's objects. */
  secrets: readonly string[];
}

/** The report of a run: credentials never leave the engine, so every renderer, store, audit and Slack message is built from it. */
export function reportOf(ctx: RunContext, reader: { apiCalls: number; bytesRead?: number }, before: ReaderCounters, run: RunOutcome): Report {
  const { cluster, namespace } = run.target;
  return {
    apiVersion: REPORT_API_VERSION,
    target: { ...(cluster ? { cluster } : {}), ...(namespace ? { namespace } : {}) },
    workflow: run.workflow,
    generatedAt: run.started.toISOString(),
    ...(run.observedAt ? { observedAt: run.observedAt.toISOString() } : {}),
    findings: redactFindings(run.findings, run.secrets),
    checks: run.checks.map((c) => (c.error ? { ...c, error: redactText(c.error, run.secrets) } : c)),
    readErrors: run.readErrors,
    ...(run.changes ? { changes: run.changes } : {}),
    stats: {
      apiCalls: reader.apiCalls - before.calls,
      durationMs: ctx.clock().getTime() - run.started.getTime(),
      objects: run.objects,
      ...(reader.bytesRead !== undefined && before.bytes !== undefined ? { readBytes: reader.bytesRead - before.bytes } : {}),
    },
  };
}

/** The resourceVersion of an object in the view (a restore plan's precondition). */
export const resourceVersionIn =
  (view: ClusterView) =>
  (ref: ObjectRef): string | undefined =>
    isKind(ref.kind) ? view.get(ref.kind, ref.namespace, ref.name)?.metadata?.resourceVersion : undefined;
