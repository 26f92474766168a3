import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { PlanProposal } from '../../../src/domain/ports';
import { PLAN_ACTIONS } from '../../../src/slack/ids';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { type Block, LIMITS, messageChars, planProposalBlocks, planStateBlocks, planTarget, rootCauseMessage, textObjects, withPlanState } from '../../../src/slack/blocks';
import { EXAMPLES_DIR } from '../../support/scenarios';

const HOSTILE = '<!channel> <@U123> <http://evil|click> ``` & done';
const WRITES: readonly string[] = [PLAN_ACTIONS.approve, PLAN_ACTIONS.rollback];

async function kubeProxyReport() {
  const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
  return diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(join(EXAMPLES_DIR, 'kube-proxy-lab')), workflow, { cluster: 'prod', namespace: 'triton' });
}

type Button = { action_id: string; value: string; style?: string; confirm?: { title: { text: string }; text: { text: string } } };
const actionsOf = (blocks: Block[]): Button[] =>
  blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as Button[]) : b.type === 'section' && b.accessory ? [b.accessory as Button] : []));

describe('plan blocks', () => {
  const proposal: PlanProposal = { planId: 'plan-0123456789abcdef', status: 'proposed', diff: `--- a\n+++ a\n@@ -1,3 +1,3 @@\n spec:\n-  x: ${HOSTILE}\n+  x: fixed`, expiresAt: '2026-11-25T10:15:00Z' };
  const target = { cluster: 'prod', changes: ['patch DaemonSet kube-proxy in namespace kube-system'] };

  it('shows the dry-run diff, indented, with Approve (primary, confirmed) / Reject (plain) carrying only the plan id, escaped', () => {
    const blocks = planProposalBlocks(proposal, target);
    const [approve, reject] = actionsOf(blocks);
    expect(approve).toMatchObject({ action_id: PLAN_ACTIONS.approve, value: proposal.planId, style: 'primary' });
    expect(`${approve!.confirm!.title.text} ${approve!.confirm!.text.text}`).toMatch(/prod.*patch DaemonSet kube-proxy in namespace kube-system/);
    expect(reject).toEqual(expect.objectContaining({ action_id: PLAN_ACTIONS.reject, value: proposal.planId }));
    expect(reject!.style).toBeUndefined();
    const text = textObjects(blocks).join('\n');
    expect(text).toContain('\n-  x: &lt;!channel&gt;');
    expect(text).toContain('\n+  x: fixed');
    expect(text).not.toMatch(/<!channel>|<@U123>|<http:\/\/evil/);
    expect(text).not.toContain(proposal.planId);
    expect(text).not.toMatch(/other than the requester/);
  });

  it('has no buttons when the plan is not applicable or approval is off', () => {
    expect(actionsOf(planProposalBlocks({ ...proposal, status: 'not-applicable', reason: `403 ${HOSTILE}` }, target))).toEqual([]);
    expect(actionsOf(planProposalBlocks({ ...proposal, status: 'disabled', reason: 'no approvers' }, target))).toEqual([]);
  });

  it('shows the fix once: the dry-run diff with buttons, or, without the remediation flow, the unguarded command', async () => {
    const report = await kubeProxyReport();
    const root = report.findings.find((f) => f.rootCause)!;
    const fences = (blocks: Block[]): string[] => textObjects(blocks).join('\n').split('```').filter((_, i) => i % 2 === 1);
    const proposed = rootCauseMessage(report, root, 0, { proposal: { ...proposal, planId: root.plan!.id }, cluster: 'prod' });
    expect(fences(proposed.blocks)).toEqual([expect.stringContaining('+  x: fixed')]);
    const byHand = rootCauseMessage(report, root, 0);
    expect(fences(byHand.blocks)).toEqual([expect.stringMatching(/^\nkubectl patch daemonset kube-proxy -n kube-system --type=json -p '\[\{"op":"replace",[^\n]*\n$/)]);
    expect(fences(byHand.blocks).join()).not.toContain('"op":"test"');
  });

  it('keeps the buttons inside the limits even when the evidence is huge', async () => {
    const report = await kubeProxyReport();
    const root = report.findings.find((f) => f.rootCause)!;
    const bloated = { ...root, evidence: Array.from({ length: 30 }, (_, i) => ({ type: 'log' as const, text: `${HOSTILE} ${'x'.repeat(2_500)} ${i}` })) };
    const message = rootCauseMessage(report, bloated, 0, { proposal: { ...proposal, planId: root.plan!.id, diff: 'y\n'.repeat(3_000) }, cluster: 'prod' });
    expect(actionsOf(message.blocks).map((a) => a.action_id)).toEqual([PLAN_ACTIONS.approve, PLAN_ACTIONS.reject]);
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    expect(messageChars(message)).toBeLessThanOrEqual(LIMITS.messageChars);
    expect(message.truncated).toBe(true);
  });

  it('puts the decision under the headline, keeps the diff, and offers a confirmed Rollback only after an apply', async () => {
    const report = await kubeProxyReport();
    const root = report.findings.find((f) => f.rootCause)!;
    const posted = rootCauseMessage(report, root, 0, { proposal: { ...proposal, planId: root.plan!.id }, cluster: 'prod' });
    const view = { planId: root.plan!.id, summary: root.plan!.summary, state: 'applied' as const, verdict: 'fixed' as const, by: 'U0BOB0001', at: '2026-11-25T10:05:00Z', detail: `applied; fixed — ${HOSTILE}`, diff: '', rollbackAvailable: true };
    const decided = withPlanState(posted, view, planTarget(root.plan!, 'prod'));
    expect(textObjects([decided.blocks[1]!])[0]).toMatch(/^:white_check_mark: \*fixed\* by <@U0BOB0001>, verified · <!date\^\d+\^/);
    expect(textObjects(decided.blocks).join('\n')).toContain('+  x: fixed');
    const [rollback, ...others] = actionsOf(decided.blocks);
    expect(others).toEqual([]);
    expect(rollback).toMatchObject({ action_id: PLAN_ACTIONS.rollback, confirm: { text: { text: expect.stringContaining('DaemonSet kube-proxy in namespace kube-system on cluster prod') } } });
    expect(textObjects(decided.blocks).join('\n')).not.toMatch(/<!channel>/);
    // A verified fix is its outcome line; any other outcome shows the details, escaped.
    expect(textObjects(decided.blocks).join('\n')).not.toContain('applied; fixed');
    expect(textObjects(planStateBlocks({ ...view, verdict: 'not-fixed' })).join('\n')).toContain('applied; fixed — &lt;!channel&gt;');
    const rolledBack = withPlanState(decided, { ...view, state: 'rolled-back', rollbackAvailable: false });
    expect(actionsOf(rolledBack.blocks)).toEqual([]);
    expect(rolledBack.blocks.filter((b) => b.block_id?.includes('state'))).toHaveLength(1);
    expect(actionsOf(planStateBlocks({ ...view, state: 'rejected', rollbackAvailable: false }))).toEqual([]);
  });

  it('asks for a confirmation on every button that writes', async () => {
    const report = await kubeProxyReport();
    const root = report.findings.find((f) => f.rootCause)!;
    const posted = rootCauseMessage(report, root, 0, { proposal: { ...proposal, planId: root.plan!.id }, cluster: 'prod' });
    const view = { planId: root.plan!.id, summary: '', state: 'applied' as const, at: '2026-11-25T10:05:00Z', diff: '', rollbackAvailable: true };
    const all = [...actionsOf(posted.blocks), ...actionsOf(withPlanState(posted, view).blocks)];
    expect(all.filter((b) => WRITES.includes(b.action_id)).map((b) => [b.action_id, Boolean(b.confirm?.text.text)])).toEqual([
      [PLAN_ACTIONS.approve, true],
      [PLAN_ACTIONS.rollback, true],
    ]);
  });
});
