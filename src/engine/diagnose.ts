import type { CheckContext } from '../domain/check';
import type { ClusterReader, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import type { Kind } from '../domain/kube-types';
import { REPORT_API_VERSION, type CheckRun, type Report } from '../domain/report';
import type { RunContext } from '../domain/run-context';
import { type DraftOf, linkFindings } from './link-findings';
import type { Workflow } from './workflow';

/**
 * Namespaces whose objects every namespace run reads too, when they exist: the cluster's network
 * plumbing (kube-proxy, CoreDNS, CNI agents: flannel and calico install into their own).
 */
export const INFRA_NAMESPACES = ['kube-system', 'kube-flannel', 'calico-system', 'tigera-operator'];

export interface DiagnoseTarget {
  cluster?: string;
  /** Required for namespace-scoped workflows; ignored by cluster-wide ones. */
  namespace?: string;
}

async function scopeFor(reader: ClusterReader, workflow: Workflow, target: DiagnoseTarget): Promise<ReadScope> {
  const kinds = [...new Set<Kind>(workflow.checks.flatMap((c) => c.needs))].sort();
  if (workflow.scope === 'cluster') return { alsoNamespaces: [], kinds };
  const candidates = INFRA_NAMESPACES.filter((n) => n !== target.namespace);
  const exists = await Promise.all([target.namespace!, ...candidates].map((n) => reader.namespaceExists(n)));
  if (!exists[0]) {
    throw new NetdoctorError('unknown_namespace', `namespace "${target.namespace}" does not exist${target.cluster ? ` in cluster ${target.cluster}` : ''}`);
  }
  return { namespace: target.namespace, alsoNamespaces: candidates.filter((_, i) => exists[i + 1]), kinds };
}

/**
 * One run: read everything the workflow's checks need in one round, run each check in
 * isolation (a failing check is reported, the run goes on), link symptoms to root causes.
 */
export async function diagnose(ctx: RunContext, reader: ClusterReader, workflow: Workflow, target: DiagnoseTarget): Promise<Report> {
  const started = ctx.clock();
  const callsBefore = reader.apiCalls;
  if (workflow.scope === 'namespace' && !target.namespace) throw new NetdoctorError('bad_input', `workflow ${workflow.name} needs a namespace`);
  const namespace = workflow.scope === 'namespace' ? target.namespace : undefined;
  const view = await reader.read(await scopeFor(reader, workflow, target));
  ctx.log.debug({ readErrors: view.readErrors.length }, 'cluster read');

  const checkCtx: CheckContext = { view, namespace, now: started };
  const drafts: DraftOf[] = [];
  const checks: CheckRun[] = workflow.checks.map((check, order) => {
    try {
      for (const draft of check.run(checkCtx)) drafts.push({ check: check.id, order, draft });
      return { id: check.id, status: 'ok' };
    } catch (e) {
      ctx.log.warn({ check: check.id, err: e }, 'check failed');
      return { id: check.id, status: 'failed', error: (e as Error).message };
    }
  });

  const report: Report = {
    apiVersion: REPORT_API_VERSION,
    target: { ...(target.cluster ? { cluster: target.cluster } : {}), ...(namespace ? { namespace } : {}) },
    workflow: workflow.name,
    generatedAt: started.toISOString(),
    findings: linkFindings(drafts),
    checks,
    readErrors: [...view.readErrors],
    stats: {
      apiCalls: reader.apiCalls - callsBefore,
      durationMs: ctx.clock().getTime() - started.getTime(),
      objects: view.objectCount,
    },
  };
  return report;
}
