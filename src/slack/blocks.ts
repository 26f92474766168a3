import type { types } from '@slack/bolt';
import type { Finding } from '../domain/finding';
import { refLabel } from '../domain/object-ref';
import type { Operation } from '../domain/plan';
import { type DiagnoseRequest, type Digest, type DigestItem, PLAN_ACTIONS, type PlanProposal, type PlanStateView, type RunStage } from '../domain/ports';
import { type Report, type Verdict, verdictOf } from '../domain/report';
import { operationCommand, operationLines, planHeadline } from '../render/plan-text';
import { code, codeBlockBody, mentionUser, text } from './escape';

export type Block = types.KnownBlock;

/** A chat.postMessage / chat.update body: `text` is the notification fallback, always sent with blocks (B7). */
export interface SlackMessage {
  text: string;
  blocks: Block[];
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

const section = (mrkdwn: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn, TEXT_BUDGET) } });
const context = (mrkdwn: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn, TEXT_BUDGET) }] });
const divider: Block = { type: 'divider' };

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

  message(truncated: boolean): SlackMessage {
    const blocks = [...this.blocks];
    if (this.dropped) blocks.push(context(':scissors: Some details did not fit in one Slack message; the full report is attached to this thread.'));
    return { text: this.fallback, blocks, truncated: truncated || this.dropped };
  }
}

const VERDICT_ICON: Record<Verdict, string> = { broken: ':red_circle:', degraded: ':large_yellow_circle:', healthy: ':large_green_circle:' };
const SEVERITY_ICON: Record<Finding['severity'], string> = { critical: ':red_circle:', warning: ':large_yellow_circle:', info: ':information_source:' };
const STAGES: readonly RunStage[] = ['queued', 'reading', 'analysing', 'done'];
const STAGE_LABEL: Record<RunStage, string> = { queued: 'queued', reading: 'reading cluster', analysing: 'analysing', done: 'done', failed: 'failed' };

function target(request: Pick<DiagnoseRequest, 'cluster' | 'namespace'>): string {
  const where = request.namespace ? `namespace ${code(request.namespace)}` : 'all namespaces';
  return `${where} on cluster ${code(request.cluster)}`;
}

function plainTarget(request: Pick<DiagnoseRequest, 'cluster' | 'namespace'>): string {
  return text(`${request.namespace ? `namespace ${request.namespace}` : 'all namespaces'} on cluster ${request.cluster}`);
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

function rootLine(f: Finding, i: number): string {
  return `${i + 1}. ${SEVERITY_ICON[f.severity]} *${text(f.title)}* ${code(refLabel(f.subject))}`;
}

/** The parent message once the run is done: verdict, root causes ranked, counts, cost. */
export function summaryMessage(report: Report, request: DiagnoseRequest): SlackMessage {
  const verdict = verdictOf(report);
  const roots = report.findings.filter((f) => f.rootCause);
  const symptoms = report.findings.length - roots.length;
  const failed = report.checks.filter((c) => c.status === 'failed');
  const budget = new Budget(`${plainTarget(request)} is ${verdict}: ${roots.length} root cause(s)`);
  budget.add(section(`${VERDICT_ICON[verdict]} *${verdict.toUpperCase()}*: ${target(request)}`));
  if (roots.length === 0) budget.add(section('No networking faults found.'));
  else {
    const lines = roots.slice(0, LIST_ITEMS).map(rootLine);
    if (roots.length > LIST_ITEMS) lines.push(`…and ${roots.length - LIST_ITEMS} more in the thread`);
    budget.add(section(`*Root causes* (details in the thread)\n${lines.join('\n')}`));
  }
  if (failed.length > 0 || report.readErrors.length > 0) {
    const lines = [
      ...failed.slice(0, LIST_ITEMS).map((c) => `• check ${code(c.id)} failed: ${code(c.error ?? 'unknown error')}`),
      ...report.readErrors.slice(0, LIST_ITEMS).map((r) => `• could not read ${code(r.kind)}${r.namespace ? ` in ${code(r.namespace)}` : ''}: ${code(r.message)}`),
    ];
    budget.add(section(`:warning: *Incomplete*\n${lines.join('\n')}`));
  }
  budget.add(
    context(
      [
        `${roots.length} root cause(s)`,
        `${symptoms} symptom(s)`,
        `${report.checks.length} check(s)${failed.length ? `, ${failed.length} failed` : ''}`,
        duration(report.stats.durationMs),
        `${report.stats.apiCalls} API calls`,
        `workflow ${code(report.workflow)}`,
        `requested by ${mentionUser(request.requestedBy)}`,
      ].join(' · '),
    ),
  );
  return budget.message(false);
}

/**
 * One operation as a diff-like block over operationLines: the old value of a changed path `-`
 * (from its JSON-patch `test` guard), the new value `+`, guards of unchanged paths as context.
 */
export function diffLines(op: Operation): string[] {
  const [head, ...rest] = operationLines(op);
  const words = (line: string): string[] => line.trim().split(/\s+/);
  const changed = new Set(rest.map(words).filter(([verb]) => verb !== 'test').map(([, path]) => path));
  const sign = (line: string): string => {
    const [verb, path] = words(line);
    if (op.action === 'delete' || verb === 'remove' || (verb === 'test' && changed.has(path))) return `- ${line.trimStart()}`;
    if (verb === 'test') return `  ${line.trimStart()}`;
    return `+ ${line.trimStart()}`;
  };
  return [`@@ ${head ?? op.action} @@`, ...rest.map(sign)];
}

/** What the remediation flow adds to a reply with a plan (its dry-run diff, Approve/Reject actions). */
export interface RootCauseExtras {
  /** Shown after the plan instead of the "apply it by hand" note; the caller keeps them within the limits. */
  planBlocks?: Block[];
}

/** One thread reply per root cause: what is wrong, evidence with kubectl, symptoms explained, the plan. */
export function rootCauseMessage(report: Report, finding: Finding, index: number, extras: RootCauseExtras = {}): SlackMessage {
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  // The plan's buttons must fit whatever the evidence: their room is held back until they are added.
  const planChars = textObjects(extras.planBlocks ?? []).reduce((n, t) => n + t.length, 0) + 200;
  const budget = new Budget(`${index + 1}. ${finding.severity}: ${text(finding.title)}`, 300 + (extras.planBlocks?.length ? planChars : 0));
  let cut = false;
  budget.add(section(`${SEVERITY_ICON[finding.severity]} *${index + 1}. ${finding.severity.toUpperCase()}: ${text(finding.title)}*\nSubject: ${code(refLabel(finding.subject))} · check ${code(finding.check)}`));
  budget.add(section(text(finding.summary)));

  if (finding.evidence.length > 0) budget.add(section('*Evidence*'));
  for (const e of finding.evidence) {
    const command = e.command ? `\n${code(`$ ${e.command}`)}` : '';
    const excerpt = fencedExcerpt(e.text, Math.max(200, budget.room() - command.length - 40));
    if (!budget.add(section(`_${e.type}_\n${excerpt.mrkdwn}${command}`))) break;
    cut ||= excerpt.cut;
  }

  const symptoms = finding.symptoms.map((id) => byId.get(id)).filter((s): s is Finding => Boolean(s));
  if (symptoms.length > 0) {
    const lines = symptoms.slice(0, LIST_ITEMS).map((s) => `• ${code(refLabel(s.subject))}: ${text(s.title)}`);
    if (symptoms.length > LIST_ITEMS) lines.push(`…and ${symptoms.length - LIST_ITEMS} more (see the attached report)`);
    budget.add(section(`*Explains ${symptoms.length} symptom(s)*\n${lines.join('\n')}`));
    cut ||= symptoms.length > LIST_ITEMS;
  }

  if (finding.plan) {
    const plan = finding.plan;
    budget.add(divider);
    budget.add(section(`:wrench: *Proposed fix*: ${text(planHeadline(plan))}\n${text(plan.effect)}`));
    for (const op of plan.operations) {
      const diff = fencedExcerpt(diffLines(op).join('\n'), Math.min(1_800, budget.room()));
      const cmd = fencedExcerpt(operationCommand(op), Math.min(1_000, budget.room() - diff.mrkdwn.length - 20));
      if (!budget.add(section(`${diff.mrkdwn}\n${cmd.mrkdwn}`))) break;
      cut ||= diff.cut || cmd.cut;
    }
    if (extras.planBlocks?.length) {
      budget.release(planChars);
      for (const b of extras.planBlocks) budget.add(b);
    }
    // Without the remediation flow the fix is applied by hand: no buttons that do nothing.
    else budget.add(context('To apply it now, run the command above; one-click approval is not enabled on this install.'));
  }
  if (finding.advice.length > 0) {
    budget.add(section(`*${finding.plan ? 'Also' : 'What to do'}*\n${finding.advice.map((a) => `• ${text(a)}`).join('\n')}`));
  }
  return budget.message(cut);
}

/** Blocks of the remediation flow carry this block_id prefix, so a decision can swap them without re-rendering the reply. */
export const PLAN_BLOCK_PREFIX = 'netdoctor-plan';

const button = (label: string, actionId: string, planId: string, style?: 'primary' | 'danger'): types.Button => ({
  type: 'button',
  text: { type: 'plain_text', text: label },
  action_id: actionId,
  // Only the opaque plan id: the plan itself is read from the store when the click arrives.
  value: planId,
  ...(style ? { style } : {}),
});

/** The server-side dry-run diff of a plan and, while it is approvable, Approve / Reject. */
export function planProposalBlocks(proposal: PlanProposal): Block[] {
  const id = (part: string): string => `${PLAN_BLOCK_PREFIX}-${part}-${proposal.planId}`;
  const diff = proposal.diff ? fencedExcerpt(proposal.diff, 2_000).mrkdwn : '';
  switch (proposal.status) {
    case 'disabled':
      return [{ type: 'context', block_id: id('note'), elements: [{ type: 'mrkdwn', text: clip(`One-click approval is off: ${text(proposal.reason ?? '')}. Run the command above to apply it by hand.`, TEXT_BUDGET) }] }];
    case 'not-applicable':
      return [{ type: 'section', block_id: id('note'), text: { type: 'mrkdwn', text: clip(`:no_entry: *Not applicable*: the server's dry run refused it: ${code(proposal.reason ?? 'unknown reason')}`, TEXT_BUDGET) } }];
    case 'proposed':
      return [
        { type: 'section', block_id: id('diff'), text: { type: 'mrkdwn', text: clip(`*Server-side dry run* (what the apiserver would store):\n${diff}`, TEXT_BUDGET) } },
        {
          type: 'actions',
          block_id: id('actions'),
          elements: [button('Approve', PLAN_ACTIONS.approve, proposal.planId, 'primary'), button('Reject', PLAN_ACTIONS.reject, proposal.planId, 'danger')],
        },
        { type: 'context', block_id: id('note'), elements: [{ type: 'mrkdwn', text: `Approvable until ${text(proposal.expiresAt ?? '?')} by a configured approver other than the requester; applied only if nothing changed since the diagnosis.` }] },
      ];
  }
}

const STATE_ICON: Partial<Record<PlanStateView['state'], string>> = {
  approved: ':hourglass_flowing_sand:',
  'rollback-approved': ':hourglass_flowing_sand:',
  applied: ':white_check_mark:',
  noop: ':white_check_mark:',
  'rolled-back': ':leftwards_arrow_with_hook:',
};

/** A plan after a decision: who, when, the outcome; a Rollback button only after an apply. */
export function planStateBlocks(view: PlanStateView): Block[] {
  const id = (part: string): string => `${PLAN_BLOCK_PREFIX}-${part}-${view.planId}`;
  const icon = STATE_ICON[view.state] ?? ':no_entry_sign:';
  const by = view.by ? ` by ${mentionUser(view.by)}` : '';
  const blocks: Block[] = [
    { type: 'section', block_id: id('state'), text: { type: 'mrkdwn', text: clip(`${icon} *${text(view.state)}*${by} at ${text(view.at)}${view.detail ? `\n${text(view.detail)}` : ''}`, TEXT_BUDGET) } },
  ];
  if (view.rollbackAvailable) blocks.push({ type: 'actions', block_id: id('actions'), elements: [button('Rollback', PLAN_ACTIONS.rollback, view.planId, 'danger')] });
  return blocks;
}

/** The reply with its plan blocks replaced by the plan's new state (the rest of the reply is kept as posted). */
export function withPlanState(message: SlackMessage, view: PlanStateView): SlackMessage {
  const kept = message.blocks.filter((b) => !(b.block_id ?? '').startsWith(PLAN_BLOCK_PREFIX));
  return { ...message, blocks: [...kept, ...planStateBlocks(view)] };
}

function digestList(title: string, items: readonly DigestItem[]): string {
  if (items.length === 0) return `*${title}*: none`;
  const lines = items.slice(0, LIST_ITEMS).map((i) => `• ${text(i.severity)} ${text(i.title)} ${code(i.subject)}`);
  if (items.length > LIST_ITEMS) lines.push(`…and ${items.length - LIST_ITEMS} more`);
  return `*${title}* (${items.length})\n${lines.join('\n')}`;
}

/** The daily digest: verdict, what is new / resolved / persisting, and the trend of root causes. */
export function digestMessage(digest: Digest): SlackMessage {
  const verdict = verdictOf(digest.report);
  const roots = digest.report.findings.filter((f) => f.rootCause);
  const budget = new Budget(`netdoctor digest ${text(digest.day)} for cluster ${text(digest.cluster)}: ${verdict}`);
  budget.add(section(`${VERDICT_ICON[verdict]} *Daily network digest* for cluster ${code(digest.cluster)}, ${code(digest.day)}: *${verdict.toUpperCase()}*`));
  if (roots.length > 0) budget.add(section(`*Root causes*\n${roots.slice(0, LIST_ITEMS).map(rootLine).join('\n')}`));
  budget.add(section(digestList(':new: New since the last digest', digest.newFindings)));
  budget.add(section(digestList(':white_check_mark: Resolved', digest.resolved)));
  budget.add(section(digestList(':hourglass: Persisting', digest.persisting)));
  if (digest.trend.length > 0) {
    budget.add(context(`Root causes per day: ${digest.trend.map((t) => `${code(t.day.slice(5))} ${t.rootCauses}`).join(' → ')}`));
  }
  budget.add(context(`${duration(digest.report.stats.durationMs)} · ${digest.report.stats.apiCalls} API calls · workflow ${code(digest.report.workflow)}`));
  return budget.message(false);
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
      `• ${code(c.cluster)}: ${c.waiting} waiting, ${c.active} running, ${c.failed} failed${c.delayed ? `, ${c.delayed} delayed` : ''} · ${c.workers} worker(s) · last digest ${c.lastDigest ? code(c.lastDigest) : 'never'}${c.nextDigest ? `, next ${code(c.nextDigest.replace('T', ' ').slice(0, 16))} UTC` : ''}`,
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

export function checksMessage(checks: readonly { id: string; title: string }[]): SlackMessage {
  const lines = checks.map((c) => `• ${code(c.id)}: ${text(c.title)}`);
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
