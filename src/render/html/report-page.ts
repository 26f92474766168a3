import type { Evidence, Finding } from '../../domain/finding';
import { refLabel } from '../../domain/object-ref';
import type { Plan } from '../../domain/plan';
import { type Report, verdictOf } from '../../domain/report';
import { operationCommand, operationLines } from '../plan-text';
import { causeGraphSvg, findingAnchor } from './cause-graph';
import { htmlDocument } from './document';
import { esc } from './escape';

/** One step of a plan's life, from the audit stream (proposed, approved by, applied, verified, rolled back…). */
export interface PlanEvent {
  at: string;
  event: string;
  /** Slack user id of whoever acted. */
  actor?: string;
  /** The outcome or reason in words. */
  detail?: string;
}

/** What is known of a plan beyond the report: its server dry-run diff, its state and its history. */
export interface PlanRecord {
  state?: string;
  /** Unified diff of the server-side dry run. */
  diff?: string;
  events: PlanEvent[];
}

export interface ReportPageInput {
  report: Report;
  /** The run's id (shown; absent for a CLI run). */
  runId?: string;
  /** By plan id; absent offline (no server dry run, no decisions). */
  plans?: Record<string, PlanRecord>;
}

function pre(text: string, cls = ''): string {
  return `<pre${cls ? ` class="${cls}"` : ''}>${esc(text)}</pre>`;
}

function diffBlock(diff: string): string {
  const lines = diff.split('\n').map((line) => {
    const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : '';
    return cls ? `<span class="${cls}">${esc(line)}</span>` : esc(line);
  });
  return `<pre class="diff">${lines.join('\n')}</pre>`;
}

function evidenceItem(e: Evidence): string {
  return [
    `<div class="evidence"><div class="evidence-type">${esc(e.type)}</div>`,
    pre(e.text),
    e.command ? `<div class="meta">See it yourself:</div>${pre(e.command)}` : '',
    '</div>',
  ].join('');
}

function historyTable(events: readonly PlanEvent[]): string {
  if (events.length === 0) return '<p class="meta">No decision recorded yet.</p>';
  const rows = events.map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.event)}</td><td>${e.actor ? esc(e.actor) : ''}</td><td>${e.detail ? esc(e.detail) : ''}</td></tr>`);
  return `<table class="history"><thead><tr><th>When</th><th>What</th><th>Who</th><th>Detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function planSection(plan: Plan, record: PlanRecord | undefined, offline: boolean): string {
  const out = [
    `<section class="plan" data-plan-id="${esc(plan.id)}"><h3>Fix: ${esc(plan.summary)}</h3>`,
    `<p class="meta">Plan <code>${esc(plan.id)}</code> · risk ${esc(plan.risk)}${record?.state ? ` · state <strong>${esc(record.state)}</strong>` : ''}</p>`,
    `<p>${esc(plan.effect)}</p>`,
  ];
  for (const op of plan.operations) out.push(pre(operationLines(op).join('\n')), `<div class="meta">By hand:</div>`, pre(operationCommand(op)));
  if (record?.diff) out.push('<h3>Server dry-run diff</h3>', diffBlock(record.diff));
  else out.push(`<p class="meta">${offline ? 'Offline report: no server dry run was made.' : 'No server dry run recorded for this plan.'}</p>`);
  if (!offline) out.push('<h3>History</h3>', historyTable(record?.events ?? []));
  out.push('</section>');
  return out.join('\n');
}

function findingSection(f: Finding, index: number, byId: Map<string, { f: Finding; index: number }>, input: ReportPageInput): string {
  const cause = f.causedBy ? byId.get(f.causedBy) : undefined;
  const symptoms = f.symptoms.map((id) => byId.get(id)).filter((s): s is { f: Finding; index: number } => Boolean(s));
  const out = [
    `<article class="finding ${f.rootCause ? 'root' : 'symptom'}" id="${findingAnchor(index)}" data-finding-id="${esc(f.id)}">`,
    `<h2><span class="sev sev-${esc(f.severity)}">${esc(f.severity)}</span> ${esc(f.title)}</h2>`,
    `<p class="meta">${f.rootCause ? 'Root cause' : 'Symptom'} · <code>${esc(refLabel(f.subject))}</code> · check <code>${esc(f.check)}</code> · <code>${esc(f.code)}</code></p>`,
    `<p>${esc(f.summary)}</p>`,
  ];
  if (cause) out.push(`<p>Explained by <a href="#${findingAnchor(cause.index)}">${esc(cause.f.title)}</a>.</p>`);
  if (symptoms.length > 0) {
    out.push('<h3>Explains</h3><ul>', ...symptoms.map((s) => `<li><a href="#${findingAnchor(s.index)}">${esc(s.f.title)}</a> <code>${esc(refLabel(s.f.subject))}</code></li>`), '</ul>');
  }
  if (f.evidence.length > 0) out.push('<h3>Evidence</h3>', ...f.evidence.map(evidenceItem));
  if (f.plan) out.push(planSection(f.plan, input.plans?.[f.plan.id], input.plans === undefined));
  if (f.advice.length > 0) out.push(`<h3>${f.plan ? 'Also' : 'What to do'}</h3><ul>`, ...f.advice.map((a) => `<li>${esc(a)}</li>`), '</ul>');
  out.push('</article>');
  return out.join('\n');
}

function byteSize(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The page's title line, e.g. "namespace triton on cluster prod is broken". */
export function reportHeadline(report: Report): string {
  const where = report.target.namespace ? `namespace ${report.target.namespace}` : 'all namespaces';
  const cluster = report.target.cluster ? ` on cluster ${report.target.cluster}` : '';
  return `${where}${cluster} is ${verdictOf(report)}`;
}

/**
 * The whole story of a run as one self-contained HTML document: verdict and target, the
 * cause→symptom graph, every finding with all its evidence and kubectl, the plans with their
 * server dry-run diff and history, stats. Pure: the same input gives the same page. No script;
 * every string from the report is escaped.
 */
export function renderReportPage(input: ReportPageInput): string {
  const { report } = input;
  const verdict = verdictOf(report);
  const byId = new Map(report.findings.map((f, index) => [f.id, { f, index }]));
  const roots = report.findings.filter((f) => f.rootCause);
  const failed = report.checks.filter((c) => c.status === 'failed');
  const body = [
    '<header>',
    `<h1>netdoctor: ${esc(reportHeadline(report))}</h1>`,
    `<p><span class="verdict verdict-${verdict}">${verdict.toUpperCase()}</span> `,
    `<span class="meta">workflow <code>${esc(report.workflow)}</code> · ${esc(report.generatedAt)}${input.runId ? ` · run <code>${esc(input.runId)}</code>` : ''}</span></p>`,
    `<table class="stats"><tbody>`,
    `<tr><th>Root causes</th><td>${roots.length}</td><th>Symptoms</th><td>${report.findings.length - roots.length}</td></tr>`,
    `<tr><th>API calls</th><td>${report.stats.apiCalls}</td><th>Duration</th><td>${report.stats.durationMs} ms</td></tr>`,
    `<tr><th>Objects read</th><td>${report.stats.objects}</td><th>Checks</th><td>${report.checks.length}${failed.length ? ` (${failed.length} failed)` : ''}</td></tr>`,
    `<tr><th>Read from the apiserver</th><td colspan="3">${report.stats.readBytes === undefined ? 'nothing (offline dump)' : byteSize(report.stats.readBytes)}</td></tr>`,
    '</tbody></table>',
    '</header>',
  ];
  if (report.findings.length === 0) body.push('<p>No networking faults found.</p>');
  else body.push('<h2>Causes and symptoms</h2>', `<figure>${causeGraphSvg(report.findings)}</figure>`);
  body.push(...report.findings.map((f, i) => findingSection(f, i, byId, input)));
  if (failed.length > 0 || report.readErrors.length > 0) {
    body.push('<h2>Incomplete</h2><ul>');
    for (const c of failed) body.push(`<li>check <code>${esc(c.id)}</code> failed: ${esc(c.error ?? '')}</li>`);
    for (const r of report.readErrors) body.push(`<li>could not read ${esc(r.kind)}${r.namespace ? ` in <code>${esc(r.namespace)}</code>` : ''}: ${esc(r.message)}</li>`);
    body.push('</ul>');
  }
  return htmlDocument(`netdoctor: ${reportHeadline(report)}`, body.join('\n'));
}
