import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { PLAN_ACTIONS, type PlanProposal } from '../../../src/domain/ports';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { LIMITS, messageChars, planProposalBlocks, planStateBlocks, rootCauseMessage, textObjects, withPlanState } from '../../../src/slack/blocks';
import { SCENARIO_DIR } from '../../support/scenarios';

const HOSTILE = '<!channel> <@U123> <http://evil|click> ``` & done';

async function kubeProxyReport() {
  const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
  return diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(join(SCENARIO_DIR, 'triton-kube-proxy-config')), workflow, { namespace: 'triton' });
}

const actionsOf = (blocks: { type: string; elements?: unknown[] }[]) =>
  blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements as { action_id: string; value: string }[]);

describe('plan blocks', () => {
  const proposal: PlanProposal = { planId: 'plan-0123456789abcdef', status: 'proposed', diff: `--- a\n+++ a\n@@ -1,1 +1,1 @@\n-x: ${HOSTILE}\n+x: fixed`, expiresAt: '2026-11-25T10:15:00Z' };

  it('shows the dry-run diff with Approve / Reject carrying only the plan id, escaped', () => {
    const blocks = planProposalBlocks(proposal);
    expect(actionsOf(blocks)).toEqual([
      expect.objectContaining({ action_id: PLAN_ACTIONS.approve, value: proposal.planId }),
      expect.objectContaining({ action_id: PLAN_ACTIONS.reject, value: proposal.planId }),
    ]);
    const text = textObjects(blocks).join('\n');
    expect(text).not.toMatch(/<!channel>|<@U123>|<http:\/\/evil/);
    expect(text).toContain('&lt;!channel&gt;');
  });

  it('has no buttons when the plan is not applicable or approval is off', () => {
    expect(actionsOf(planProposalBlocks({ ...proposal, status: 'not-applicable', reason: `403 ${HOSTILE}` }))).toEqual([]);
    expect(actionsOf(planProposalBlocks({ ...proposal, status: 'disabled', reason: 'no approvers' }))).toEqual([]);
  });

  it('keeps the buttons inside the limits even when the evidence is huge', async () => {
    const report = await kubeProxyReport();
    const root = report.findings.find((f) => f.rootCause)!;
    const bloated = { ...root, evidence: Array.from({ length: 30 }, (_, i) => ({ type: 'log' as const, text: `${HOSTILE} ${'x'.repeat(2_500)} ${i}` })) };
    const message = rootCauseMessage(report, bloated, 0, { planBlocks: planProposalBlocks({ ...proposal, planId: root.plan!.id }) });
    expect(actionsOf(message.blocks).map((a) => a.action_id)).toEqual([PLAN_ACTIONS.approve, PLAN_ACTIONS.reject]);
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    expect(messageChars(message)).toBeLessThanOrEqual(LIMITS.messageChars);
    expect(message.truncated).toBe(true);
  });

  it('replaces the plan blocks by the decision, with Rollback only after an apply', async () => {
    const report = await kubeProxyReport();
    const root = report.findings.find((f) => f.rootCause)!;
    const posted = rootCauseMessage(report, root, 0, { planBlocks: planProposalBlocks({ ...proposal, planId: root.plan!.id }) });
    const view = { planId: root.plan!.id, summary: root.plan!.summary, state: 'applied' as const, by: 'U0BOB0001', at: '2026-11-25T10:05:00Z', detail: `applied; fixed — ${HOSTILE}`, diff: '', rollbackAvailable: true };
    const decided = withPlanState(posted, view);
    expect(actionsOf(decided.blocks).map((a) => a.action_id)).toEqual([PLAN_ACTIONS.rollback]);
    expect(textOf(decided.blocks)).toContain('<@U0BOB0001>');
    expect(textOf(decided.blocks)).not.toMatch(/<!channel>/);
    expect(actionsOf(withPlanState(decided, { ...view, state: 'rolled-back', rollbackAvailable: false }).blocks)).toEqual([]);
    expect(actionsOf(planStateBlocks({ ...view, state: 'rejected', rollbackAvailable: false }))).toEqual([]);
  });
});

function textOf(blocks: Parameters<typeof textObjects>[0]): string {
  return textObjects(blocks).join('\n');
}
