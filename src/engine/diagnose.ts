import type { CheckContext } from '../domain/check';
import type { ClusterReader, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { type Report, verdictOf } from '../domain/report';
import type { BaselineStore } from '../domain/baseline';
import { changesSince } from './changes-since';
import { takeBaseline } from './take-baseline';
import type { RunContext } from '../domain/run-context';
import { linkFindings } from './link-findings';
import { secretValuesIn } from './redact';
import type { Workflow } from './workflow';
import { INFRA_NAMESPACES } from './infra-namespaces';
import { countersOf, extraLists, lastHealthy, readsOf, reportOf, resourceVersionIn, runChecks, withChanges } from './run-steps';
import { diagnoseEachNamespace } from './diagnose-cluster';

export { INFRA_NAMESPACES, extraLists };

export interface DiagnoseTarget {
  cluster?: string;
  /** Required for namespace-scoped workflows; ignored by cluster-wide ones. */
  namespace?: string;
}

async function scopeFor(reader: ClusterReader, workflow: Workflow, namespace: string, cluster: string | undefined): Promise<ReadScope> {
  const { kinds, fields, everywhere, everywhereFields, alsoLists } = readsOf(workflow.checks);
  const candidates = INFRA_NAMESPACES.filter((n) => n !== namespace);
  const exists = await Promise.all([namespace, ...candidates].map((n) => reader.namespaceExists(n)));
  if (!exists[0]) throw new NetdoctorError('unknown_namespace', `namespace "${namespace}" does not exist${cluster ? ` in cluster ${cluster}` : ''}`);
  return {
    namespace,
    alsoNamespaces: candidates.filter((_, i) => exists[i + 1]),
    kinds,
    fields,
    ...(everywhere.length > 0 ? { everywhere, everywhereFields } : {}),
    ...(alsoLists.length > 0 ? { alsoLists } : {}),
  };
}

/**
 * One run: read everything the workflow's checks need in one round, run each check in
 * isolation (a failing check is reported, the run goes on), link symptoms to root causes.
 * With `baselines`, a namespace run compares the networking fields with the last healthy run
 * (changes become evidence, restore plans where no exact one exists) and a healthy run is kept.
 * A cluster-wide workflow runs namespace by namespace (diagnose-cluster.ts).
 */
export async function diagnose(ctx: RunContext, reader: ClusterReader, workflow: Workflow, target: DiagnoseTarget, baselines?: BaselineStore): Promise<Report> {
  if (workflow.scope === 'cluster') return diagnoseEachNamespace(ctx, reader, workflow, target.cluster, baselines);
  const started = ctx.clock();
  const before = countersOf(reader);
  const namespace = target.namespace;
  if (!namespace) throw new NetdoctorError('bad_input', `workflow ${workflow.name} needs a namespace`);
  const view = await reader.read(await scopeFor(reader, workflow, namespace, target.cluster));
  ctx.log.debug({ readErrors: view.readErrors.length }, 'cluster read');

  // The cluster's clock, not ours: an offline dump is not 274 days old, a pod 5 s into a rollout is not stuck.
  const checkCtx: CheckContext = { view, namespace, now: view.observedAt ?? started };
  const { drafts, checks } = runChecks(ctx, workflow.checks, checkCtx);

  const secrets = secretValuesIn(view);
  const cluster = target.cluster ?? view.cluster ?? 'default';
  const previous = baselines ? await lastHealthy(ctx, baselines, cluster, namespace) : undefined;
  const current = baselines ? takeBaseline(view, namespace, checkCtx.now) : undefined;
  const findings = linkFindings(drafts);
  const linked = previous && current ? withChanges(findings, previous, current, changesSince(previous, current, view), resourceVersionIn(view), secrets) : { findings };
  const report = reportOf(ctx, reader, before, {
    target: { ...(target.cluster ? { cluster: target.cluster } : {}), namespace },
    workflow: workflow.name,
    started,
    ...(view.observedAt ? { observedAt: view.observedAt } : {}),
    findings: linked.findings,
    ...('changes' in linked ? { changes: linked.changes } : {}),
    checks,
    readErrors: [...view.readErrors],
    objects: view.objectCount,
    secrets,
  });
  // A namespace keeps its healthy states (what "changed since it last worked" compares with).
  if (baselines && current && verdictOf(report) === 'healthy') {
    await baselines.save(cluster, namespace, current).catch((err: unknown) => ctx.log.warn({ err }, 'could not keep the healthy baseline'));
  }
  return report;
}
