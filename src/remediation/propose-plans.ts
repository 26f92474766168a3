import { createHash } from 'node:crypto';
import type { WriterFactory } from '../domain/cluster-writer';
import type { PlanStore } from '../domain/stores';
import type { DiagnoseRequest, PlanProposal } from '../domain/ports';
import type { Report } from '../domain/report';
import type { Clock, Logger } from '../domain/run-context';
import { type ApprovalPolicy, disabledReason, remediationEnabled } from './approval';
import { dryRunPlan } from './execute-plan';

export interface ProposerDeps {
  writerFor: WriterFactory;
  ledger: PlanStore;
  policy: ApprovalPolicy;
  clock: Clock;
  log: Logger;
}

export function diffHash(diff: string): string {
  return createHash('sha256').update(diff).digest('hex').slice(0, 16);
}

/**
 * Dry-runs every plan of a report on the live cluster and records it as proposed (or not
 * applicable, with the server's reason). Safe to repeat for a retried job: the ledger keeps
 * the first proposal.
 */
export async function proposePlans(deps: ProposerDeps, request: DiagnoseRequest, report: Report): Promise<Record<string, PlanProposal>> {
  const planned = report.findings.filter((f) => f.plan);
  if (planned.length === 0) return {};
  const proposals: Record<string, PlanProposal> = {};
  if (!remediationEnabled(deps.policy)) {
    for (const f of planned) proposals[f.plan!.id] = { planId: f.plan!.id, status: 'disabled', reason: disabledReason(deps.policy), diff: '' };
    return proposals;
  }
  const sealer = deps.policy.sealer;
  const writer = await deps.writerFor(request.cluster);
  try {
    for (const finding of planned) {
      const plan = finding.plan!;
      const dry = await dryRunPlan(writer, plan);
      const diff = dry.diffs.map((d) => d.diff).filter(Boolean).join('\n');
      const now = deps.clock();
      const bound = {
        cluster: request.cluster,
        ...(report.target.namespace ? { namespace: report.target.namespace } : {}),
        plan,
        requestedBy: request.requestedBy,
        channel: request.channel,
        ...(request.parentTs ? { parentTs: request.parentTs } : {}),
        dryRunAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + deps.policy.validityMs).toISOString(),
        diffHash: diffHash(diff),
      };
      const { plan: _plan, namespace: _namespace, ...fields } = bound;
      const base = { planId: plan.id, ...fields, diff, targets: plan.operations.map((o) => o.target), seal: sealer.sealProposal(bound) };
      if (!dry.applicable) {
        await deps.ledger.propose(base, now, 'not-applicable');
        proposals[plan.id] = { planId: plan.id, status: 'not-applicable', reason: dry.reason ?? 'the dry run failed', diff };
        continue;
      }
      const entry = await deps.ledger.propose(base, now);
      proposals[plan.id] = entry.state === 'proposed'
        ? { planId: plan.id, status: 'proposed', diff: entry.diff, expiresAt: entry.expiresAt ?? bound.expiresAt }
        : { planId: plan.id, status: 'not-applicable', reason: `already ${entry.state}`, diff: entry.diff };
    }
  } finally {
    writer.close?.();
  }
  deps.log.info({ plans: planned.length }, 'plans dry-run and proposed');
  return proposals;
}
