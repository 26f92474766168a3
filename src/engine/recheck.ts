import { CHECKS } from '../checks';
import type { BaselineStore } from '../domain/baseline';
import type { ReaderFactory } from '../domain/cluster-view';
import type { Finding } from '../domain/finding';
import { sameRef } from '../domain/object-ref';
import type { Plan } from '../domain/plan';
import type { Clock, Logger } from '../domain/run-context';
import { diagnose } from './diagnose';
import type { Workflow } from './workflow';

export interface RecheckDeps {
  cluster: string;
  readerFor: ReaderFactory;
  log: Logger;
  clock: Clock;
  /** Known-good baselines: a restore plan is proposed from them, so proposing again needs them too. */
  baselines?: BaselineStore;
}

/** What a plan's originating check finds on the plan's subject now, on a fresh read (none when the check is gone from the catalog). */
async function findingsNow(deps: RecheckDeps, plan: Plan, namespace: string | undefined): Promise<Finding[]> {
  // Read-only: a one-check run that finds nothing is no known-good state of the namespace.
  const baselines: BaselineStore | undefined = deps.baselines && { latest: (c, n) => deps.baselines!.latest(c, n), save: () => Promise.resolve(false) };
  const check = CHECKS.find((c) => c.id === plan.verify.check);
  if (!check) return [];
  const workflow: Workflow = { name: `verify-${check.id}`, scope: namespace ? 'namespace' : 'cluster', checks: [check] };
  const reader = await deps.readerFor(deps.cluster);
  try {
    const report = await diagnose({ runId: `verify-${plan.id}`, log: deps.log, clock: deps.clock }, reader, workflow, { cluster: deps.cluster, namespace }, baselines);
    return report.findings.filter((f) => f.severity !== 'info' && sameRef(f.subject, plan.verify.subject));
  } finally {
    reader.close?.();
  }
}

/** Re-runs a plan's originating check on a fresh read: the summaries of what still fires on the plan's subject. */
export async function recheckPlan(deps: RecheckDeps, plan: Plan, namespace: string | undefined): Promise<string[]> {
  return (await findingsNow(deps, plan, namespace)).map((f) => f.summary);
}

/**
 * Re-runs the check that proposed a plan on a fresh read: the plans it proposes now for the same
 * subject. The remediate worker applies a stored plan only when it is among them, so a plan is
 * never applied to a cluster that no longer calls for it.
 */
export async function proposeAgain(deps: RecheckDeps, plan: Plan, namespace: string | undefined): Promise<Plan[]> {
  return (await findingsNow(deps, plan, namespace)).flatMap((f) => (f.plan ? [f.plan] : []));
}
