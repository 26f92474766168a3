import type { AuditEntry, PlanEntry } from '../../../src/domain/stores';
import { planHistory, renderRunPage } from '../../../src/report-page/run-page';
import { hostileReport } from '../../support/hostile-report';

const planId = hostileReport.findings[0]!.plan!.id;
// The audit stream holds every cluster's and every plan's entries, newest first.
const audit: AuditEntry[] = [
  { at: '2026-11-30T10:09:00Z', event: 'rolled-back', cluster: 'lab', planId, actor: 'U0APPROVE', targets: [{ ref: 'Service/triton/web', resourceVersionBefore: '43', resourceVersionAfter: '44' }] },
  { at: '2026-11-30T10:03:00Z', event: 'verified', cluster: 'lab', planId, verdict: 'fixed' },
  { at: '2026-11-30T10:02:30Z', event: 'approved', cluster: 'other', planId, actor: 'U0OTHERCL' },
  { at: '2026-11-30T10:02:10Z', event: 'approved', cluster: 'lab', planId: 'plan-0000000000000000', actor: 'U0OTHERPL' },
  { at: '2026-11-30T10:02:03Z', event: 'applied', cluster: 'lab', planId, result: 'applied', targets: [{ ref: 'Service/triton/web', resourceVersionBefore: '42', resourceVersionAfter: '43' }] },
  { at: '2026-11-30T10:02:00Z', event: 'approved', cluster: 'lab', planId, actor: 'U0APPROVE' },
  { at: '2026-11-30T10:00:01Z', event: 'proposed', cluster: 'lab', planId, requestedBy: 'U0REQUEST' },
];

describe('a run page from the stores', () => {
  it('keeps the audit entries of this cluster and plan, oldest first, with who and what happened', () => {
    expect(planHistory(audit, 'lab', planId)).toEqual([
      { at: '2026-11-30T10:00:01Z', event: 'proposed', actor: 'U0REQUEST' },
      { at: '2026-11-30T10:02:00Z', event: 'approved', actor: 'U0APPROVE' },
      { at: '2026-11-30T10:02:03Z', event: 'applied', detail: 'applied; Service/triton/web 42 → 43' },
      { at: '2026-11-30T10:03:00Z', event: 'verified', detail: 'fixed' },
      { at: '2026-11-30T10:09:00Z', event: 'rolled-back', actor: 'U0APPROVE', detail: 'Service/triton/web 43 → 44' },
    ]);
  });

  it('renders the stored report with the plan\'s state, dry-run diff and history; nothing for an unknown run', async () => {
    const entry = { planId, cluster: 'lab', state: 'rolled-back', diff: '-  targetPort: 8081\n+  targetPort: 8080' } as PlanEntry;
    const stores = {
      runs: { loadReport: async (cluster: string, runId: string) => (cluster === 'lab' && runId === 'run-1' ? hostileReport : undefined) },
      ledger: { get: async (cluster: string, id: string) => (cluster === 'lab' && id === planId ? entry : undefined) },
      audit: { recent: async () => audit },
    };
    const page = (await renderRunPage(stores, 'lab', 'run-1'))!;
    expect(page).toContain('state <strong>rolled-back</strong>');
    expect(page).toContain('<span class="add">+  targetPort: 8080</span>');
    expect(page).toContain('<td>rolled-back</td><td>U0APPROVE</td>');
    expect(page).not.toContain('U0OTHERCL');
    expect(page).not.toContain('U0OTHERPL');
    expect(await renderRunPage(stores, 'lab', 'run-2')).toBeUndefined();
    expect(await renderRunPage(stores, 'other', 'run-1')).toBeUndefined();
  });
});
