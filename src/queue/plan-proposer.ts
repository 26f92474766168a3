import { createHash } from 'node:crypto';
import type { KubeWriter } from '../cluster/kube-writer';
import type { DiagnoseRequest, PlanProposal } from '../domain/ports';
import type { Report } from '../domain/report';
import type { Clock, Logger } from '../domain/run-context';
import { type ApprovalPolicy, remediationEnabled } from '../remediation/approval';
import { dryRunPlan } from '../remediation/execute-plan';
import type { PlanLedger } from './plan-ledger';

/** A writer for one cluster; `close` (when present) is called when done with it. */
export type LeasedWriter = KubeWriter & { close?(): void };
export type WriterFactory = (cluster: string) => Promise<LeasedWriter> | LeasedWriter;

export interface ProposerDeps {
  writerFor: WriterFactory;
  ledger: PlanLedger;
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
    for (const f of planned) proposals[f.plan!.id] = { planId: f.plan!.id, status: 'disabled', reason: 'remediation is disabled: no approvers are configured', diff: '' };
    return proposals;
  }
  const writer = await deps.writerFor(request.cluster);
  try {
    for (const finding of planned) {
      const plan = finding.plan!;
      const dry = await dryRunPlan(writer, plan);
      const diff = dry.diffs.map((d) => d.diff).filter(Boolean).join('\n');
      const now = deps.clock();
      const base = {
        planId: plan.id,
        cluster: request.cluster,
        requestedBy: request.requestedBy,
        channel: request.channel,
        ...(request.parentTs ? { parentTs: request.parentTs } : {}),
        dryRunAt: now.toISOString(),
        diffHash: diffHash(diff),
        diff,
        targets: plan.operations.map((o) => o.target),
      };
      if (!dry.applicable) {
        await deps.ledger.propose(base, now, 'not-applicable');
        proposals[plan.id] = { planId: plan.id, status: 'not-applicable', reason: dry.reason ?? 'the dry run failed', diff };
        continue;
      }
      const entry = await deps.ledger.propose(base, now);
      const expiresAt = new Date(Date.parse(entry.dryRunAt) + deps.policy.validityMs).toISOString();
      proposals[plan.id] = entry.state === 'proposed'
        ? { planId: plan.id, status: 'proposed', diff: entry.diff, expiresAt }
        : { planId: plan.id, status: 'not-applicable', reason: `already ${entry.state}`, diff: entry.diff };
    }
  } finally {
    writer.close?.();
  }
  deps.log.info({ plans: planned.length }, 'plans dry-run and proposed');
  return proposals;
}
