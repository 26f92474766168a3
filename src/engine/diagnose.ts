import type { Check, CheckContext } from '../domain/check';
import type { ClusterReader, NamespacedList, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import type { Kind } from '../domain/kube-types';
import { REPORT_API_VERSION, type CheckRun, type Report, verdictOf } from '../domain/report';
import { type Baseline, type BaselineStore, type ChangesSince, CLUSTER_WIDE } from '../domain/baseline';
import type { ClusterView } from '../domain/cluster-view';
import type { Finding } from '../domain/finding';
import { attachChanges } from './attach-changes';
import { changesSince } from './changes-since';
import { takeBaseline } from './take-baseline';
import type { RunContext } from '../domain/run-context';
import { type DraftOf, linkFindings } from './link-findings';
import { redactFindings, redactText, secretValuesIn } from './redact';
import type { Workflow } from './workflow';
import { INFRA_NAMESPACES } from './infra-namespaces';
import { pinPreconditions } from './pin-preconditions';
import { projectionFor } from './engine-reads';

export { INFRA_NAMESPACES };

export interface DiagnoseTarget {
  cluster?: string;
  /** Required for namespace-scoped workflows; ignored by cluster-wide ones. */
  namespace?: string;
}

async function scopeFor(reader: ClusterReader, workflow: Workflow, target: DiagnoseTarget): Promise<ReadScope> {
  const kinds = [...new Set<Kind>(workflow.checks.flatMap((c) => c.needs))].sort();
  // Only what the checks and the engine read outlives the read: most of an object's bytes are fields nobody reads.
  const fields = projectionFor(workflow.checks);
  if (workflow.scope === 'cluster') return { alsoNamespaces: [], kinds, fields };
  const alsoLists = extraLists(workflow.checks);
  const everywhere = [...new Set<Kind>(workflow.checks.flatMap((c) => c.needsEverywhere ?? []))].sort();
  const candidates = INFRA_NAMESPACES.filter((n) => n !== target.namespace);
  const exists = await Promise.all([target.namespace!, ...candidates].map((n) => reader.namespaceExists(n)));
  if (!exists[0]) {
    throw new NetdoctorError('unknown_namespace', `namespace "${target.namespace}" does not exist${target.cluster ? ` in cluster ${target.cluster}` : ''}`);
  }
  return {
    namespace: target.namespace,
    alsoNamespaces: candidates.filter((_, i) => exists[i + 1]),
    kinds,
    fields,
    ...(everywhere.length > 0 ? { everywhere } : {}),
    ...(alsoLists.length > 0 ? { alsoLists } : {}),
  };
}

/** The checks' reads outside the namespaces a run covers, each kind and namespace once. */
export function extraLists(checks: readonly Check[]): NamespacedList[] {
  const seen = new Map<string, NamespacedList>();
  for (const read of checks.flatMap((c) => c.alsoReads ?? [])) seen.set(`${read.kind}/${read.namespace}`, { kind: read.kind, namespace: read.namespace });
  return [...seen.values()];
}

/** The newest healthy baseline, or none: a store that fails (Redis flushed, down) only loses history. */
async function lastHealthy(ctx: RunContext, baselines: BaselineStore, cluster: string, namespace: string): Promise<Baseline | undefined> {
  try {
    return await baselines.latest(cluster, namespace);
  } catch (err) {
    if (err instanceof NetdoctorError) throw err; // bad input (a --baseline DIR without the namespace), not lost history
    ctx.log.warn({ err }, 'could not load the last healthy baseline; diagnosing without it');
    return undefined;
  }
}

/** What changed since the last healthy run, on the findings it touches and (the rest) listed once. */
function withChanges(findings: Finding[], previous: Baseline | undefined, current: Baseline | undefined, view: ClusterView, secrets: readonly string[]): { findings: Finding[]; changes?: ChangesSince } {
  if (!previous || !current) return { findings };
  const attached = attachChanges(findings, changesSince(previous, current, view), previous, current, view);
  // Values shown in the report go through the same redaction as findings (the plans carry raw values and are checked by redactFindings).
  const unexplained = attached.unexplained.map(({ from, to, ...c }) => ({
    ...c,
    ...(from !== undefined ? { from: redactText(from, secrets) } : {}),
    ...(to !== undefined ? { to: redactText(to, secrets) } : {}),
  }));
  return { findings: attached.findings, changes: { since: previous.takenAt, unexplained } };
}

/**
 * One run: read everything the workflow's checks need in one round, run each check in
 * isolation (a failing check is reported, the run goes on), link symptoms to root causes.
 * With `baselines`, a namespace run compares the networking fields with the last healthy run
 * (changes become evidence, restore plans where no exact one exists) and a healthy run is kept;
 * a cluster-wide run compares with the previous cluster-wide one and is always kept.
 */
export async function diagnose(ctx: RunContext, reader: ClusterReader, workflow: Workflow, target: DiagnoseTarget, baselines?: BaselineStore): Promise<Report> {
  const started = ctx.clock();
  const callsBefore = reader.apiCalls;
  const bytesBefore = reader.bytesRead;
  if (workflow.scope === 'namespace' && !target.namespace) throw new NetdoctorError('bad_input', `workflow ${workflow.name} needs a namespace`);
  const namespace = workflow.scope === 'namespace' ? target.namespace : undefined;
  const view = await reader.read(await scopeFor(reader, workflow, target));
  ctx.log.debug({ readErrors: view.readErrors.length }, 'cluster read');

  // The cluster's clock, not ours: an offline dump is not 274 days old, a pod 5 s into a rollout is not stuck.
  const checkCtx: CheckContext = { view, namespace, now: view.observedAt ?? started };
  const drafts: DraftOf[] = [];
  const checks: CheckRun[] = workflow.checks.map((check, order) => {
    try {
      const found = check.run(checkCtx);
      const undeclared = found.find((d) => !check.codes.includes(d.code));
      // A code outside the declared list would break every consumer keyed on codes: the check fails instead.
      if (undeclared) throw new Error(`finding code "${undeclared.code}" is not among the check's declared codes`);
      for (const draft of found) drafts.push({ check: check.id, order, draft: draft.plan ? { ...draft, plan: pinPreconditions(draft.plan, view) } : draft });
      return { id: check.id, status: 'ok' };
    } catch (e) {
      ctx.log.warn({ check: check.id, err: e }, 'check failed');
      return { id: check.id, status: 'failed', error: (e as Error).message };
    }
  });

  const secrets = secretValuesIn(view);
  const historyKey = baselines ? { cluster: target.cluster ?? view.cluster ?? 'default', namespace: namespace ?? CLUSTER_WIDE } : undefined;
  const previous = historyKey ? await lastHealthy(ctx, baselines!, historyKey.cluster, historyKey.namespace) : undefined;
  const current = historyKey ? takeBaseline(view, namespace, checkCtx.now) : undefined;
  const linked = withChanges(linkFindings(drafts), previous, current, view, secrets);
  const report: Report = {
    apiVersion: REPORT_API_VERSION,
    target: { ...(target.cluster ? { cluster: target.cluster } : {}), ...(namespace ? { namespace } : {}) },
    workflow: workflow.name,
    generatedAt: started.toISOString(),
    ...(view.observedAt ? { observedAt: view.observedAt.toISOString() } : {}),
    // Credentials never leave the engine: every renderer, store, audit and Slack message is built from this.
    findings: redactFindings(linked.findings, secrets),
    checks: checks.map((c) => (c.error ? { ...c, error: redactText(c.error, secrets) } : c)),
    readErrors: [...view.readErrors],
    ...(linked.changes ? { changes: linked.changes } : {}),
    stats: {
      apiCalls: reader.apiCalls - callsBefore,
      durationMs: ctx.clock().getTime() - started.getTime(),
      objects: view.objectCount,
      ...(reader.bytesRead !== undefined && bytesBefore !== undefined ? { readBytes: reader.bytesRead - bytesBefore } : {}),
    },
  };
  // A namespace keeps its healthy states; a cluster-wide run (the daily digest) keeps every day's, so it shows what changed since yesterday.
  if (historyKey && current && (!namespace || verdictOf(report) === 'healthy')) {
    await baselines!.save(historyKey.cluster, historyKey.namespace, current).catch((err: unknown) => ctx.log.warn({ err }, 'could not keep the healthy baseline'));
  }
  return report;
}
