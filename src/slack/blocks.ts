import type { types } from '@slack/bolt';
import type { Evidence, Finding } from '../domain/finding';
import { refLabel } from '../domain/object-ref';
import { changeLine } from '../domain/baseline';
import type { Plan, PlanState } from '../domain/plan';
import type { DiagnoseRequest, Digest, DigestItem, PlanProposal, PlanStateView, RunStage } from '../domain/ports';
import { type Report, type Verdict, verdictOf } from '../domain/report';
import { showControls } from '../render/control-chars';
import { operationCommand, unguarded } from '../render/plan-text';
import { code, codeBlockBody, mentionUser, slackDate, text } from './escape';
import { DIAGNOSE_ACTION, PLAN_ACTIONS } from './ids';

export type Block = types.KnownBlock;

/** A chat.postMessage / chat.update body: `text` is the notification fallback, always sent with blocks (B7). */
export interface SlackMessage {
  text: string;
  blocks: Block[];
  /** The colour of the bar beside the message (a Slack attachment's): the blocks are sent inside one attachment. */
  color?: string;
  /** Something was cut to fit Slack's limits: attach the full markdown report. */
  truncated?: boolean;
}

/**
 * Slack's limits with headroom (B11): 50 blocks and 3,000 chars per text object are the
 * documented limits; `msg_blocks_too_long` was seen at ~13k chars per message.
 */
export const LIMITS = { blocks: 40, textChars: 3000, messageChars: 10_000 } as const;
/** What a single text object may hold here: the limit less room for a cut marker. */
const TEXT_BUDGET = 2_900;
const LIST_ITEMS = 10;

/** Measures every text object of a message (what the limits apply to). */
export function textObjects(blocks: readonly Block[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'section') {
      if (b.text) out.push(b.text.text);
      for (const f of b.fields ?? []) out.push(f.text);
    } else if (b.type === 'context') {
      for (const e of b.elements) if ('text' in e && typeof e.text === 'string') out.push(e.text);
    } else if (b.type === 'header') out.push(b.text.text);
  }
  return out;
}

/** Total characters Slack counts against the message (blocks' text plus the fallback). */
export function messageChars(message: Pick<SlackMessage, 'blocks' | 'text'>): number {
  return textObjects(message.blocks).reduce((n, t) => n + t.length, 0) + message.text.length;
}

const section = (mrkdwn: string, blockId?: string): Block => ({ type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text: clip(mrkdwn, TEXT_BUDGET) } });
const context = (mrkdwn: string, blockId?: string): Block => ({ type: 'context', ...(blockId ? { block_id: blockId } : {}), elements: [{ type: 'mrkdwn', text: clip(mrkdwn, TEXT_BUDGET) }] });

/** Cuts already-escaped mrkdwn without splitting an entity; the marker says how much was cut. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const marker = `… (cut ${s.length - max} more characters)`;
  let cut = s.slice(0, max - marker.length);
  const amp = cut.lastIndexOf('&');
  if (amp > cut.lastIndexOf(';')) cut = cut.slice(0, amp);
  return cut + marker;
}

/** A ``` block of untrusted text within `max` chars; cut with a visible marker. */
function fencedExcerpt(raw: string, max: number): { mrkdwn: string; cut: boolean } {
  const body = codeBlockBody(raw.replace(/\s+$/, ''));
  const room = max - 8;
  if (body.length <= room) return { mrkdwn: '```\n' + body + '\n```', cut: false };
  const marker = `\n… cut: ${body.length} characters in all; the attached report has the full text`;
  let cut = body.slice(0, Math.max(0, room - marker.length));
  const amp = cut.lastIndexOf('&');
  if (amp > cut.lastIndexOf(';')) cut = cut.slice(0, amp);
  return { mrkdwn: '```\n' + cut + marker + '\n```', cut: true };
}

/** Adds blocks while the message stays within the limits; reports whether anything was left out. */
class Budget {
  readonly blocks: Block[] = [];
  private chars: number;
  dropped = false;

  constructor(
    private readonly fallback: string,
    /** Room kept for the closing marker block (and, until released, for blocks that must fit). */
    private reserve = 300,
  ) {
    this.chars = fallback.length;
  }

  add(block: Block): boolean {
    const size = textObjects([block]).reduce((n, t) => n + t.length, 0);
    if (this.blocks.length + 2 > LIMITS.blocks || this.chars + size + this.reserve > LIMITS.messageChars) {
      this.dropped = true;
      return false;
    }
    this.blocks.push(block);
    this.chars += size;
    return true;
  }

  /** Gives back room held for blocks that must fit (the plan's buttons), just before adding them. */
  release(chars: number): void {
    this.reserve = Math.max(300, this.reserve - chars);
  }

  room(): number {
    return Math.min(TEXT_BUDGET, LIMITS.messageChars - this.reserve - this.chars);
  }

  message(truncated: boolean, color?: string): SlackMessage {
    const blocks = [...this.blocks];
    if (this.dropped) blocks.push(context(':scissors: Some details did not fit in one Slack message; the full report is attached to this thread.'));
    return { text: this.fallback, blocks, truncated: truncated || this.dropped, ...(color ? { color } : {}) };
  }
}

const VERDICT_ICON: Record<Verdict, string> = {
  broken: ':red_circle:',
  degraded: ':large_yellow_circle:',
  incomplete: ':white_circle:',
  healthy: ':large_green_circle:',
};
/** The same icons as characters: notification text (the fallback) shows no emoji codes. */
const VERDICT_EMOJI: Record<Verdict, string> = { broken: '🔴', degraded: '🟡', incomplete: '⚪', healthy: '🟢' };
/** The bar beside the digest, red / amber / green as the verdict. */
const VERDICT_COLOR: Record<Verdict, string> = { broken: '#d72b3f', degraded: '#e8a317', incomplete: '#e8a317', healthy: '#2eb67d' };
const SEVERITY_ICON: Record<Finding['severity'], string> = { critical: ':red_circle:', warning: ':large_yellow_circle:', info: ':information_source:' };
const SEVERITY_EMOJI: Record<Finding['severity'], string> = { critical: '🔴', warning: '🟡', info: 'ℹ️' };
const STAGES: readonly RunStage[] = ['queued', 'reading', 'analysing', 'done'];
const STAGE_LABEL: Record<RunStage, string> = { queued: 'queued', reading: 'reading cluster', analysing: 'analysing', done: 'done', failed: 'failed' };
/** How many evidence items a reply shows; the rest are behind the report link. */
const EVIDENCE_SHOWN = 2;
/** How many symptoms a reply names; the rest are behind the report link. */
const SYMPTOMS_SHOWN = 5;

/** `3 symptoms`, `1 symptom`: no "(s)". */
function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

function target(request: Pick<DiagnoseRequest, 'cluster' | 'namespace'>): string {
  const where = request.namespace ? `namespace ${code(request.namespace)}` : 'all namespaces';
  return `${where} on cluster ${code(request.cluster)}`;
}

function plainTarget(request: Pick<DiagnoseRequest, 'cluster' | 'namespace'>): string {
  return text(`${request.namespace ? `namespace ${request.namespace}` : 'all namespaces'} on cluster ${request.cluster}`);
}

/** `triton@prod` (or the cluster alone for a cluster-wide run): what a notification starts with. */
function place(request: Pick<DiagnoseRequest, 'cluster' | 'namespace'>): string {
  return request.namespace ? `${request.namespace}@${request.cluster}` : request.cluster;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The parent message while a run is in flight, or when it failed (reason is untrusted text). */
export function progressMessage(request: DiagnoseRequest, stage: RunStage, reason?: string): SlackMessage {
  if (stage === 'failed') {
    const why = reason ? `\n${code(reason)}` : '';
    return {
      text: `Diagnosis of ${plainTarget(request)} failed`,
      blocks: [
        section(`:x: Diagnosis of ${target(request)} failed.${why}`),
        context(`Workflow ${code(request.workflow)} · requested by ${mentionUser(request.requestedBy)}`),
      ],
    };
  }
  const at = STAGES.indexOf(stage);
  const trail = STAGES.map((s, i) => (i === at ? `*${STAGE_LABEL[s]}*` : i < at ? `~${STAGE_LABEL[s]}~` : STAGE_LABEL[s])).join(' → ');
  return {
    text: `Diagnosing ${plainTarget(request)}…`,
    blocks: [
      section(`:stethoscope: Diagnosing ${target(request)}… requested by ${mentionUser(request.requestedBy)}`),
      context(`${trail} · workflow ${code(request.workflow)}`),
    ],
  };
}

/** Block ids of the summary's root-cause lines: a decision on a cause's fix re-renders its line. */
const CAUSE_BLOCK_PREFIX = 'netdoctor-cause';
const causeBlockId = (index: number): string => `${CAUSE_BLOCK_PREFIX}-${index}`;

/** What the first line and the notification say: the top root cause, or why there is none. */
function headline(report: Report, verdict: Verdict): string {
  const top = report.findings.find((f) => f.rootCause);
  if (top) return `${top.title}${report.findings.length > 1 ? ` (+${report.findings.length - 1} more)` : ''}`;
  if (verdict === 'incomplete') return 'incomplete: part of the cluster could not be read or checked';
  return report.findings.length > 0 ? plural(report.findings.length, 'finding') : 'no networking faults found';
}

/** The parent message once the run is done: the top cause first, one line per root cause, the report link. */
export function summaryMessage(report: Report, request: DiagnoseRequest, fullReportUrl?: string): SlackMessage {
  const verdict = verdictOf(report);
  const roots = report.findings.filter((f) => f.rootCause);
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const failed = report.checks.filter((c) => c.status === 'failed');
  const first = headline(report, verdict);
  const budget = new Budget(`${VERDICT_EMOJI[verdict]} ${text(place(request))}: ${text(first)}`);
  budget.add(section(`${VERDICT_ICON[verdict]} *${text(place(request))}: ${text(first)}*`));
  roots.slice(0, LIST_ITEMS).forEach((f, i) => {
    const symptoms = f.symptoms.filter((id) => byId.has(id)).length;
    const explains = symptoms > 0 ? ` · explains ${plural(symptoms, 'symptom')}` : '';
    // With one cause its title is the first line already.
    const what = roots.length === 1 ? '' : `${i + 1}. ${SEVERITY_ICON[f.severity]} *${text(f.title)}* `;
    budget.add(section(`${what}${code(refLabel(f.subject))}${explains}`, causeBlockId(i)));
  });
  if (roots.length > LIST_ITEMS) budget.add(section(`…and ${roots.length - LIST_ITEMS} more in the thread`));
  if (failed.length > 0 || report.readErrors.length > 0) {
    const lines = [
      ...failed.slice(0, LIST_ITEMS).map((c) => `• a check could not run (${code(c.id)}): ${code(c.error ?? 'unknown error')}`),
      ...report.readErrors.slice(0, LIST_ITEMS).map((r) => `• could not read ${code(r.kind)}${r.namespace ? ` in ${code(r.namespace)}` : ''}: ${code(r.message)}`),
    ];
    budget.add(section(`:warning: *Incomplete*\n${lines.join('\n')}`));
  }
  budget.add(
    context(
      [
        // Our own signed URL (no `|` or `>` in it): every piece of evidence, the graph, the whole diff, the decisions.
        ...(fullReportUrl ? [`:page_facing_up: <${fullReportUrl}|Full report>`] : []),
        roots.length > 0 ? 'details in the thread' : '',
        duration(report.stats.durationMs),
        // An offline dump costs no API calls: saying "0 API calls" would only puzzle.
        report.stats.apiCalls > 0 ? plural(report.stats.apiCalls, 'API call') : '',
        `requested by ${mentionUser(request.requestedBy)}`,
      ]
        .filter(Boolean)
        .join(' · '),
    ),
  );
  return budget.message(false);
}

/** The summary with each decided cause's outcome under its line (`outcomes` by root-cause index). */
export function summaryWithOutcomes(summary: SlackMessage, outcomes: Readonly<Record<number, PlanStateView>>): SlackMessage {
  const blocks = summary.blocks.map((b) => {
    const index = b.block_id?.startsWith(`${CAUSE_BLOCK_PREFIX}-`) ? Number(b.block_id.slice(CAUSE_BLOCK_PREFIX.length + 1)) : NaN;
    const view = outcomes[index];
    if (!view || b.type !== 'section' || !b.text) return b;
    return section(`${b.text.text}\n${outcomeLine(view)}`, b.block_id);
  });
  return { ...summary, blocks };
}

/** What a plan's state means to a reader: an icon and words (who decided is added by outcomeLine). */
const STATE_WORDS: Record<PlanState, { icon: string; words: string }> = {
  proposed: { icon: ':hourglass:', words: 'fix proposed' },
  'not-applicable': { icon: ':no_entry:', words: 'fix not applicable' },
  approved: { icon: ':hourglass_flowing_sand:', words: 'fix approved, applying' },
  denied: { icon: ':no_entry_sign:', words: 'fix refused by the cluster, nothing changed' },
  rejected: { icon: ':heavy_multiplication_x:', words: 'fix rejected, nothing changed' },
  expired: { icon: ':hourglass:', words: 'fix expired unapplied; run /netdoctor again' },
  applied: { icon: ':white_check_mark:', words: 'fix applied' },
  noop: { icon: ':white_check_mark:', words: 'already fixed, nothing to change' },
  conflict: { icon: ':no_entry_sign:', words: 'fix not applied: the object changed since the diagnosis' },
  failed: { icon: ':x:', words: 'fix failed' },
  'rollback-approved': { icon: ':hourglass_flowing_sand:', words: 'rollback approved, restoring' },
  'rolled-back': { icon: ':leftwards_arrow_with_hook:', words: 'fix rolled back' },
  'rollback-failed': { icon: ':x:', words: 'rollback failed' },
};
const VERDICT_WORDS: Record<NonNullable<PlanStateView['verdict']>, { icon: string; words: string }> = {
  pending: { icon: ':hourglass_flowing_sand:', words: 'fix applied, verifying' },
  fixed: { icon: ':white_check_mark:', words: 'fixed' },
  'not-fixed': { icon: ':warning:', words: 'fix applied, but the fault is still there' },
  unverified: { icon: ':grey_question:', words: 'fix applied, not verified' },
};

/** One line: `✅ fixed by @bob, verified · <date>`. */
function outcomeLine(view: PlanStateView): string {
  const { icon, words } = view.state === 'applied' && view.verdict ? VERDICT_WORDS[view.verdict] : STATE_WORDS[view.state];
  const by = view.by ? ` by ${mentionUser(view.by)}` : '';
  const verified = view.state === 'applied' && view.verdict === 'fixed' ? ', verified' : '';
  return `${icon} *${words}*${by}${verified} · ${slackDate(view.at)}`;
}

/**
 * The evidence a reply shows, strongest first: the check's own order. A "change since the last
 * healthy run" item, when a finding has one, belongs first here.
 */
export function strongestEvidence(finding: Pick<Finding, 'evidence'>): Evidence[] {
  return finding.evidence.filter((e) => e.type !== 'change').slice(0, EVIDENCE_SHOWN);
}

/** The first non-blank line of untrusted text, whitespace collapsed, cut to `max`. */
function firstLine(raw: string, max = 180): string {
  const line = (raw.split('\n').find((l) => l.trim()) ?? '').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Where "the rest" is: the report link when there is one, else the report attached to the thread. */
function elsewhere(what: string, reportUrl: string | undefined): string {
  return reportUrl ? `<${reportUrl}|${what} in the full report>` : `${what} in the attached report`;
}

/**
 * Advice as mrkdwn: a kubectl command in it becomes code (up to a ` — `, a closing `)` or the end).
 * Advice that marks its own code with backticks is left as written.
 */
export function adviceMrkdwn(advice: string): string {
  const m = advice.includes('`') ? null : /\bkubectl\s.*?(?=\s—\s|\)(?:[;,.]?\s|[;,.]?$)|\.?$)/.exec(advice);
  if (!m) return text(advice);
  return `${text(advice.slice(0, m.index))}${code(m[0])}${text(advice.slice(m.index + m[0].length))}`;
}

/** What the Approve and Rollback confirmations name: the cluster and the objects a plan writes. */
export interface PlanTarget {
  cluster: string;
  /** `patch DaemonSet kube-proxy in namespace kube-system`, one per operation. */
  changes: string[];
}

export function planTarget(plan: Pick<Plan, 'operations'>, cluster: string): PlanTarget {
  return {
    cluster,
    changes: plan.operations.map((op) => `${op.action} ${op.target.kind} ${op.target.name}${op.target.namespace ? ` in namespace ${op.target.namespace}` : ''}`),
  };
}

/** What the remediation flow adds to a reply with a plan. */
export interface RootCauseExtras {
  /** The plan's dry-run result; without it the fix is shown as the command to run by hand. */
  proposal?: PlanProposal;
  /** The cluster the plan would write to (named in the Approve confirmation). */
  cluster?: string;
  /** The run's report page: the rest of the evidence, the guarded command, the whole diff. */
  reportUrl?: string;
}

/**
 * One thread reply per root cause: headline, (after a decision, its outcome), what is wrong, the
 * strongest evidence with its kubectl, the symptoms it explains, the fix once (the server's dry-run
 * diff above Approve, or the command to run by hand), then other advice.
 */
export function rootCauseMessage(report: Report, finding: Finding, index: number, extras: RootCauseExtras = {}): SlackMessage {
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const number = report.findings.filter((f) => f.rootCause).length > 1 ? `${index + 1}. ` : '';
  const cluster = extras.cluster ?? report.target.cluster ?? '';
  const planBlocks = finding.plan ? fixBlocks(finding.plan, cluster, extras) : [];
  // The fix and its buttons must fit whatever the evidence: their room is held back until they are added.
  const planChars = textObjects(planBlocks).reduce((n, t) => n + t.length, 0) + 200;
  const budget = new Budget(`${SEVERITY_EMOJI[finding.severity]} ${number}${text(finding.title)}`, 300 + planChars);
  let cut = false;
  budget.add(section(`${SEVERITY_ICON[finding.severity]} *${number}${text(finding.title)}*\n${code(refLabel(finding.subject))}`, HEADLINE_BLOCK));
  // "What changed" is the first question on call: it goes right under the headline.
  const change = finding.evidence.find((e) => e.type === 'change');
  if (change) budget.add(section(`:rewind: *Changed since the last healthy run:* ${text(change.text)}`));
  budget.add(section(text(finding.summary)));

  const shown = strongestEvidence(finding);
  if (shown.length > 0) {
    const lines = shown.map((e) => `• ${code(firstLine(e.text))}${e.command ? ` — ${code(e.command)}` : ''}`);
    const rest = finding.evidence.length - shown.length - (change ? 1 : 0);
    if (rest > 0) lines.push(elsewhere(`+${plural(rest, 'more item')} of evidence`, extras.reportUrl));
    budget.add(section(`*Evidence*\n${lines.join('\n')}`));
    cut ||= rest > 0 && !extras.reportUrl;
  }

  const symptoms = finding.symptoms.map((id) => byId.get(id)).filter((s): s is Finding => Boolean(s));
  if (symptoms.length > 0) {
    const lines = symptoms.slice(0, SYMPTOMS_SHOWN).map((s) => `• ${code(refLabel(s.subject))}: ${text(s.title)}`);
    if (symptoms.length > SYMPTOMS_SHOWN) lines.push(`…${elsewhere(`${symptoms.length - SYMPTOMS_SHOWN} more`, extras.reportUrl)}`);
    budget.add(section(`*Explains ${plural(symptoms.length, 'symptom')}*\n${lines.join('\n')}`));
    cut ||= symptoms.length > SYMPTOMS_SHOWN && !extras.reportUrl;
  }

  if (finding.plan) {
    budget.release(planChars);
    for (const b of planBlocks) budget.add(b);
  }
  if (finding.advice.length > 0) {
    budget.add(section(`*${finding.plan ? 'Also' : 'What to do'}*\n${finding.advice.map((a) => `• ${adviceMrkdwn(a)}`).join('\n')}`));
  }
  return budget.message(cut);
}

/** The reply's first block: a decision's outcome goes right under it. */
const HEADLINE_BLOCK = 'netdoctor-headline';
/** Blocks of the remediation flow carry this block_id prefix, so a decision can swap them without re-rendering the reply. */
export const PLAN_BLOCK_PREFIX = 'netdoctor-plan';

/** The fix, shown once: its headline, then the dry-run diff with Approve / Reject, or the command to run by hand. */
function fixBlocks(plan: Plan, cluster: string, extras: RootCauseExtras): Block[] {
  const title = section(`:wrench: *Fix*: ${text(plan.summary)}\n_${text(plan.effect)}_`);
  const proposal = extras.proposal;
  if (proposal && proposal.status !== 'disabled') return [title, ...planProposalBlocks(proposal, planTarget(plan, cluster))];
  const commands = plan.operations.map((op) => operationCommand(unguarded(op))).join('\n');
  const why = proposal?.reason ? `one-click approval is off (${text(proposal.reason)})` : 'one-click approval is not enabled on this install';
  return [
    title,
    section(fencedExcerpt(commands, 1_200).mrkdwn),
    context(`To apply it, run the command above: ${why}. ${extras.reportUrl ? `<${extras.reportUrl}|The full report>` : 'The attached report'} has the form guarded against concurrent changes.`),
  ];
}

const plain = (s: string, max: number): types.PlainTextElement => {
  const t = showControls(s);
  return { type: 'plain_text', text: t.length > max ? `${t.slice(0, max - 1)}…` : t };
};

/** Block Kit's confirmation dialog: a click that writes to a cluster names what it writes first. */
function confirmDialog(title: string, body: string, yes: string, style: 'primary' | 'danger'): types.ConfirmationDialog {
  return { title: plain(title, 100), text: plain(body, 300), confirm: plain(yes, 30), deny: plain('Cancel', 30), style };
}

const button = (label: string, actionId: string, planId: string, options: { style?: 'primary' | 'danger'; confirm?: types.ConfirmationDialog } = {}): types.Button => ({
  type: 'button',
  text: { type: 'plain_text', text: label },
  action_id: actionId,
  // Only the opaque plan id: the plan itself is read from the store when the click arrives.
  value: planId,
  ...(options.style ? { style: options.style } : {}),
  ...(options.confirm ? { confirm: options.confirm } : {}),
});

/** The server-side dry-run diff of a plan and, while it is approvable, Approve / Reject. */
export function planProposalBlocks(proposal: PlanProposal, planTo: PlanTarget): Block[] {
  const id = (part: string): string => `${PLAN_BLOCK_PREFIX}-${part}-${proposal.planId}`;
  // Not under the plan prefix: the diff stays on the reply after the decision.
  const diff = proposal.diff ? [section(`*What the apiserver would store* (server-side dry run):\n${fencedExcerpt(proposal.diff, 2_000).mrkdwn}`, `netdoctor-diff-${proposal.planId}`)] : [];
  switch (proposal.status) {
    case 'disabled':
      return [context(`One-click approval is off: ${text(proposal.reason ?? '')}.`, id('note'))];
    case 'not-applicable':
      return [...diff, section(`:no_entry: *Not applicable*: the server's dry run refused it: ${code(proposal.reason ?? 'unknown reason')}`, id('note'))];
    case 'proposed': {
      const writes = `${planTo.changes.join('; ')} on cluster ${planTo.cluster}`;
      return [
        ...diff,
        {
          type: 'actions',
          block_id: id('actions'),
          elements: [
            button('Approve', PLAN_ACTIONS.approve, proposal.planId, { style: 'primary', confirm: confirmDialog(`Apply this fix to ${planTo.cluster}?`, `This will ${writes}, as in the diff.`, 'Apply', 'primary') }),
            button('Reject', PLAN_ACTIONS.reject, proposal.planId),
          ],
        },
        context(`Approvable by a configured approver until ${proposal.expiresAt ? slackDate(proposal.expiresAt) : 'it expires'}; applied only if nothing changed since the diagnosis.`, id('note')),
      ];
    }
  }
}

/** A plan after a decision: its outcome and details, with Rollback only after an apply. */
export function planStateBlocks(view: PlanStateView, planTo?: PlanTarget): Block[] {
  const id = (part: string): string => `${PLAN_BLOCK_PREFIX}-${part}-${view.planId}`;
  // A verified fix needs no more words than its outcome line; anything else says what happened.
  const detail = view.detail && !(view.state === 'applied' && view.verdict === 'fixed') ? `\n${text(view.detail)}` : '';
  const state = section(`${outcomeLine(view)}${detail}`, id('state'));
  if (!view.rollbackAvailable || state.type !== 'section') return [state];
  const undo = planTo ? `This will restore ${planTo.changes.map((c) => c.replace(/^\S+ /, '')).join('; ')} on cluster ${planTo.cluster} to how it was before the fix.` : 'This will restore what the fix changed to how it was before.';
  return [{ ...state, accessory: button('Rollback', PLAN_ACTIONS.rollback, view.planId, { style: 'danger', confirm: confirmDialog(`Roll back the fix${planTo ? ` on ${planTo.cluster}` : ''}?`, undo, 'Roll back', 'danger') }) }];
}

/** The reply with the plan's outcome under its headline; the Approve / Reject blocks go, the dry-run diff stays. */
export function withPlanState(message: SlackMessage, view: PlanStateView, planTo?: PlanTarget): SlackMessage {
  const kept = message.blocks.filter((b) => !(b.block_id ?? '').startsWith(PLAN_BLOCK_PREFIX));
  const at = kept.findIndex((b) => b.block_id === HEADLINE_BLOCK) + 1;
  return { ...message, blocks: [...kept.slice(0, at), ...planStateBlocks(view, planTo), ...kept.slice(at)] };
}

/** Namespaces a digest's findings touch, most findings first: one Diagnose button each. */
function namespacesOf(findings: readonly Finding[]): string[] {
  const counts = new Map<string, number>();
  for (const f of findings) if (f.subject.namespace) counts.set(f.subject.namespace, (counts.get(f.subject.namespace) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([ns]) => ns);
}

const DIAGNOSE_BUTTONS = 5;

/**
 * The daily digest: the verdict as the bar's colour, root causes each with their symptom count
 * (new ones marked), what was resolved, the trend, and a Diagnose button per namespace.
 */
export function digestMessage(digest: Digest, pageUrl?: string): SlackMessage {
  const report = digest.report;
  const verdict = verdictOf(report);
  const roots = report.findings.filter((f) => f.rootCause && f.severity !== 'info');
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const fresh = new Set(digest.newFindings.map((i) => i.id));
  const top = roots[0];
  const budget = new Budget(
    `netdoctor digest ${text(digest.day)} for ${text(digest.cluster)}: ${top ? `${text(top.title)}${roots.length > 1 ? ` (+${roots.length - 1} more)` : ''}` : verdict}`,
  );
  budget.add(section(`${VERDICT_ICON[verdict]} *Daily network digest: ${text(digest.cluster)}*, ${text(digest.day)} · ${roots.length > 0 ? plural(roots.length, 'root cause') : verdict}`));
  if (roots.length > 0) {
    const lines = roots.slice(0, LIST_ITEMS).map((f) => {
      const symptoms = f.symptoms.map((id) => byId.get(id)).filter((s): s is Finding => Boolean(s) && s!.severity !== 'info');
      const newSymptoms = symptoms.filter((s) => fresh.has(s.id)).length;
      const count = symptoms.length > 0 ? ` · ${plural(symptoms.length, 'symptom')}${newSymptoms > 0 && !fresh.has(f.id) ? `, ${newSymptoms} new` : ''}` : '';
      return `• ${fresh.has(f.id) ? ':new: ' : ''}*${text(f.title)}* ${code(refLabel(f.subject))}${count}`;
    });
    if (roots.length > LIST_ITEMS) lines.push(`…and ${roots.length - LIST_ITEMS} more`);
    budget.add(section(lines.join('\n')));
  }
  const linked = new Set(roots.flatMap((f) => [f.id, ...f.symptoms]));
  const unexplained = report.findings.filter((f) => f.severity !== 'info' && !linked.has(f.id));
  if (unexplained.length > 0) budget.add(section(`*Not linked to a root cause* (${unexplained.length})\n${digestList(unexplained.map((f) => ({ title: f.title, subject: refLabel(f.subject) })))}`));
  const resolvedRoots = digest.resolved.filter((i) => i.rootCause !== false);
  if (digest.resolved.length > 0) {
    const others = digest.resolved.length - resolvedRoots.length;
    budget.add(section(`:white_check_mark: *Resolved since the last digest*${others > 0 ? ` (and ${plural(others, 'symptom')})` : ''}\n${digestList(resolvedRoots)}`));
  }
  const changes = report.changes;
  if (changes?.unexplained.length) {
    budget.add(section(`:rewind: *Networking changes since the last digest* (${changes.unexplained.length})\n${changes.unexplained.slice(0, LIST_ITEMS).map((c) => `• ${code(refLabel(c.ref))} ${text(changeLine(c, changes.since))}`).join('\n')}`));
  }
  if (digest.trend.length > 1) budget.add(context(`Root causes per day: ${digest.trend.map((t) => `${code(t.day.slice(5))} ${t.rootCauses}`).join(' → ')}`));
  const namespaces = namespacesOf(report.findings).filter((ns) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns));
  if (namespaces.length > 0) {
    budget.add({
      type: 'actions',
      block_id: 'netdoctor-digest-diagnose',
      elements: namespaces.slice(0, DIAGNOSE_BUTTONS).map((ns) => ({
        type: 'button',
        text: plain(`Diagnose ${ns}`, 75),
        action_id: `${DIAGNOSE_ACTION}-${ns}`,
        // Read back as a typed command would be (parseCommand checks both names).
        value: `${digest.cluster}/${ns}`,
      })),
    });
  }
  budget.add(
    context(
      [
        // Our own signed URL (no `|` or `>` in it).
        ...(pageUrl ? [`:bar_chart: <${pageUrl}|Full digest>`] : []),
        `as of ${slackDate(report.generatedAt)}`,
        report.stats.apiCalls > 0 ? plural(report.stats.apiCalls, 'API call') : '',
      ]
        .filter(Boolean)
        .join(' · '),
    ),
  );
  return budget.message(false, VERDICT_COLOR[verdict]);
}

function digestList(items: readonly Pick<DigestItem, 'title' | 'subject'>[]): string {
  const lines = items.slice(0, LIST_ITEMS).map((i) => `• ${text(i.title)} ${code(i.subject)}`);
  if (items.length > LIST_ITEMS) lines.push(`…and ${items.length - LIST_ITEMS} more`);
  return lines.join('\n');
}

/** What `/netdoctor status` shows, per cluster. */
export interface ClusterStatus {
  cluster: string;
  waiting: number;
  active: number;
  failed: number;
  delayed?: number;
  workers: number;
  /** ISO time or day of the last digest, when there was one. */
  lastDigest?: string;
  /** When the scheduler fires next (ISO time), when one is scheduled. */
  nextDigest?: string;
}

export function statusMessage(clusters: readonly ClusterStatus[]): SlackMessage {
  if (clusters.length === 0) return { text: 'No clusters configured.', blocks: [section('No clusters configured.')] };
  const lines = clusters.slice(0, 30).map(
    (c) =>
      `• ${code(c.cluster)}: ${c.waiting} waiting, ${c.active} running, ${c.failed} failed${c.delayed ? `, ${c.delayed} delayed` : ''} · ${plural(c.workers, 'worker')} · last digest ${c.lastDigest ? code(c.lastDigest) : 'never'}${c.nextDigest ? `, next ${code(c.nextDigest.replace('T', ' ').slice(0, 16))} UTC` : ''}`,
  );
  return { text: 'netdoctor status', blocks: [section(`*netdoctor status*\n${lines.join('\n')}`)] };
}

export const HELP_TEXT = [
  '*netdoctor* finds Kubernetes networking faults.',
  '• `/netdoctor NAMESPACE [--cluster NAME] [--workflow NAME]`: diagnose a namespace; results in a thread',
  '• `/netdoctor checks`: the checks it runs',
  '• `/netdoctor status`: queue depth, workers, last digest',
  '• `/netdoctor digest [--cluster NAME]`: post the cluster digest now',
  '• `/netdoctor help`: this text',
].join('\n');

export function helpMessage(): SlackMessage {
  return { text: 'netdoctor help', blocks: [section(HELP_TEXT)] };
}

export function checksMessage(checks: readonly { id: string; title: string; codes: readonly string[] }[]): SlackMessage {
  const lines = checks.map((c) => `• ${code(c.id)}: ${text(c.title)} (${c.codes.map(code).join(', ')})`);
  const blocks: Block[] = [section(`*${checks.length} checks*`)];
  // One section per ~2,500 chars so a growing catalog stays within the text-object limit.
  let chunk: string[] = [];
  for (const line of lines) {
    if (chunk.join('\n').length + line.length > 2_500) {
      blocks.push(section(chunk.join('\n')));
      chunk = [];
    }
    chunk.push(line);
  }
  if (chunk.length > 0) blocks.push(section(chunk.join('\n')));
  return { text: `${checks.length} checks`, blocks: blocks.slice(0, LIMITS.blocks) };
}

/** A short ephemeral explanation (errors, refusals, notices); `message` is already mrkdwn-safe. */
export function noticeMessage(mrkdwn: string): SlackMessage {
  return { text: mrkdwn, blocks: [section(mrkdwn)] };
}

/** Posted in the thread when Slack refused part of a report (the job id helps the operator find the logs). */
export function deliveryFailureMessage(jobId: string, what: string): SlackMessage {
  return noticeMessage(`:warning: Part of this report could not be posted (${text(what)}). Job ${code(jobId)}; the operator's logs have the details.`);
}
