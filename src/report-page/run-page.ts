import type { PlanRecord } from '../render/html/report-page';
import { renderReportPage } from '../render/html/report-page';
import type { AuditEntry } from '../domain/stores';
import type { AuditLog } from '../store/audit-log';
import type { PlanLedger } from '../store/plan-ledger';
import type { RunStore } from '../store/run-store';

export interface RunPageStores {
  runs: Pick<RunStore, 'loadReport'>;
  ledger: Pick<PlanLedger, 'get'>;
  audit: Pick<AuditLog, 'recent'>;
  /** How many of the newest audit entries to search for the run's plans. @defaultValue 10000 (the stream's retention) */
  auditWindow?: number;
}

function eventDetail(e: AuditEntry): string | undefined {
  const parts = [
    e.result,
    e.verdict,
    e.reason,
    ...(e.targets ?? []).map((t) => `${t.ref}${t.resourceVersionBefore ? ` ${t.resourceVersionBefore} → ${t.resourceVersionAfter ?? '?'}` : ''}`),
  ].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The audit entries of one plan, oldest first, as the page's history rows. */
export function planHistory(entries: readonly AuditEntry[], cluster: string, planId: string): PlanRecord['events'] {
  return entries
    .filter((e) => e.cluster === cluster && e.planId === planId)
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((e) => {
      const actor = e.actor ?? (e.event === 'proposed' ? e.requestedBy : undefined);
      const detail = eventDetail(e);
      return { at: e.at, event: e.event, ...(actor ? { actor } : {}), ...(detail ? { detail } : {}) };
    });
}

/** One run's page from the stores: the report, and for each of its plans the dry-run diff, state and history. */
export async function renderRunPage(stores: RunPageStores, cluster: string, runId: string): Promise<string | undefined> {
  const report = await stores.runs.loadReport(cluster, runId);
  if (!report) return undefined;
  const planIds = report.findings.flatMap((f) => (f.plan ? [f.plan.id] : []));
  const audit = planIds.length > 0 ? await stores.audit.recent(stores.auditWindow ?? 10_000) : [];
  const plans: Record<string, PlanRecord> = {};
  for (const planId of planIds) {
    const entry = await stores.ledger.get(cluster, planId);
    plans[planId] = { ...(entry ? { state: entry.state, diff: entry.diff } : {}), events: planHistory(audit, cluster, planId) };
  }
  return renderReportPage({ report, runId, plans });
}
