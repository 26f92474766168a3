import { changeLine } from '../domain/baseline';
import type { Finding } from '../domain/finding';
import { refLabel } from '../domain/object-ref';
import { type Report, verdictOf } from '../domain/report';
import { showControls } from './control-chars';
import { operationCommand, operationLines, planHeadline } from './plan-text';

/** Inline code that survives backticks in the value. */
function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  return `${fence}${s.replace(/\n/g, ' ')}${fence}`;
}

/** A fenced block that cannot be closed early by the content. */
function block(s: string, lang = ''): string {
  const longest = Math.max(2, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${s}\n${fence}`;
}

/** Markdown text outside code: neutralise HTML and markdown control characters. */
function text(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!).replace(/([\\*_[\]#|])/g, '\\$1');
}

function findingSection(f: Finding, index: number, byId: Map<string, Finding>): string[] {
  const out = [`## ${index}. ${f.severity.toUpperCase()}: ${text(f.title)}`, '', `Subject: ${code(refLabel(f.subject))} · code ${code(f.code)}`, '', text(f.summary)];
  if (f.evidence.length > 0) {
    out.push('', '### Evidence');
    for (const e of f.evidence) {
      out.push('', `*${e.type}*`, block(e.text));
      if (e.command) out.push(block(e.command, 'sh'));
    }
  }
  const symptoms = f.symptoms.map((id) => byId.get(id)).filter((s): s is Finding => Boolean(s));
  if (symptoms.length > 0) out.push('', '### Explains', '', ...symptoms.map((s) => `- ${code(refLabel(s.subject))}: ${text(s.title)}`));
  if (f.plan) {
    out.push('', '### Fix', '', text(planHeadline(f.plan)), '', text(f.plan.effect));
    for (const op of f.plan.operations) out.push('', block(operationLines(op).join('\n')), block(operationCommand(op), 'sh'));
  }
  if (f.advice.length > 0) out.push('', f.plan ? '### Also' : '### What to do', '', ...f.advice.map((a) => `- ${text(a)}`));
  return out;
}

/** The report as a markdown document (the CLI's `--output markdown`, the file attached to long Slack reports). */
export function renderMarkdown(report: Report): string {
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const roots = report.findings.filter((f) => f.rootCause);
  const where = report.target.namespace ? `namespace ${code(report.target.namespace)}` : 'all namespaces';
  const cluster = report.target.cluster ? ` on cluster ${code(report.target.cluster)}` : '';
  const out = [
    `# netdoctor: ${where}${cluster} is ${verdictOf(report)}`,
    '',
    `Workflow ${code(report.workflow)} · ${roots.length} root cause(s) · ${report.findings.length - roots.length} symptom(s) · ${report.stats.apiCalls} API calls · ${report.stats.durationMs} ms · ${report.generatedAt}`,
  ];
  if (roots.length === 0) out.push('', 'No networking faults found.');
  roots.forEach((f, i) => out.push('', ...findingSection(f, i + 1, byId)));
  if (report.changes && report.changes.unexplained.length > 0) {
    out.push('', `## Other networking changes since the last healthy run (${report.changes.since})`, '');
    for (const c of report.changes.unexplained) out.push(`- ${code(refLabel(c.ref))}: ${text(changeLine(c, report.changes.since))}`);
  }
  const failed = report.checks.filter((c) => c.status === 'failed');
  if (failed.length > 0 || report.readErrors.length > 0) {
    out.push('', '## Incomplete', '');
    for (const c of failed) out.push(`- check ${code(c.id)} failed: ${text(c.error ?? '')}`);
    for (const r of report.readErrors) out.push(`- could not read ${r.kind}${r.namespace ? ` in ${code(r.namespace)}` : ''}: ${text(r.message)}`);
  }
  // Last, over everything: code spans and fenced blocks are shown raw by viewers, so they need it too.
  return showControls(out.join('\n')) + '\n';
}
