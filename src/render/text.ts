import { changeLine, clockTime } from '../domain/baseline';
import type { Finding } from '../domain/finding';
import { refLabel } from '../domain/object-ref';
import { type Report, verdictOf } from '../domain/report';
import { showControls } from './control-chars';
import { operationCommand, operationLines, planHeadline } from './plan-text';

export interface TextOptions {
  color: boolean;
}

const CODES = { red: 31, yellow: 33, blue: 34, green: 32, dim: 2, bold: 1 } as const;
type Style = keyof typeof CODES;

/** Control characters from the cluster could drive the terminal: show them as escapes instead. */
const clean = showControls;

const SEVERITY_STYLE: Record<Finding['severity'], Style> = { critical: 'red', warning: 'yellow', info: 'blue' };
const VERDICT_STYLE = { broken: 'red', degraded: 'yellow', incomplete: 'yellow', healthy: 'green' } as const;

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** The terminal report: the note a senior engineer would write — cause, evidence with commands, exact fix. */
export function renderText(report: Report, { color }: TextOptions): string {
  const paint = (style: Style, s: string): string => (color ? `\u001b[${CODES[style]}m${s}\u001b[0m` : s);
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const roots = report.findings.filter((f) => f.rootCause);
  const verdict = verdictOf(report);
  const where = [report.target.cluster && `cluster ${report.target.cluster}`, report.target.namespace ? `namespace ${report.target.namespace}` : 'all namespaces']
    .filter(Boolean)
    .join(', ');
  const out: string[] = [
    `${paint('bold', 'netdoctor')} ${clean(where)} · workflow ${report.workflow} · ${paint(VERDICT_STYLE[verdict], verdict.toUpperCase())}`,
    paint('dim', `${roots.length} root cause(s), ${report.findings.length - roots.length} symptom(s) · ${report.stats.apiCalls} API calls · ${report.stats.durationMs} ms`),
  ];
  if (roots.length === 0) out.push('', 'No networking faults found.');
  roots.forEach((f, i) => {
    out.push('', `${i + 1}. ${paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase())} ${paint('bold', clean(f.title))}  ${paint('dim', `${clean(refLabel(f.subject))} · ${clean(f.code)}`)}`);
    out.push(indent(clean(f.summary), '   '));
    if (f.evidence.length > 0) out.push('   Evidence:');
    for (const e of f.evidence) {
      out.push(indent(clean(e.text), `     ${e.type === 'log' ? '│ ' : ''}`).replace(/^ {5}/, `   - `));
      if (e.command) out.push(paint('dim', `       $ ${clean(e.command)}`));
    }
    const symptoms = f.symptoms.map((id) => byId.get(id)).filter((s): s is Finding => Boolean(s));
    if (symptoms.length > 0) {
      out.push('   Explains:');
      for (const s of symptoms) out.push(`   - ${clean(refLabel(s.subject))}: ${clean(s.title)}`);
    }
    if (f.plan) {
      out.push(`   Fix: ${clean(planHeadline(f.plan))}`, `   ${clean(f.plan.effect)}`);
      for (const op of f.plan.operations) {
        out.push(indent(clean(operationLines(op).join('\n')), '     '));
        out.push(paint('dim', indent(`$ ${clean(operationCommand(op))}`, '     ')));
      }
    }
    if (f.advice.length > 0) {
      out.push(f.plan ? '   Also:' : '   What to do:');
      for (const a of f.advice) out.push(indent(clean(a), '     ').replace(/^ {5}/, '   - '));
    }
  });
  if (report.changes && report.changes.unexplained.length > 0) {
    out.push('', paint('yellow', `Other networking changes since the last healthy run (${clockTime(report.changes.since)}):`));
    for (const c of report.changes.unexplained) out.push(`   - ${clean(`${refLabel(c.ref)}: ${changeLine(c, report.changes.since)}`)}`);
  }
  const failed = report.checks.filter((c) => c.status === 'failed');
  if (failed.length > 0 || report.readErrors.length > 0) {
    out.push('', paint('yellow', 'Incomplete:'));
    for (const c of failed) out.push(`   - check ${c.id} failed: ${clean(c.error ?? '')}`);
    for (const r of report.readErrors) out.push(`   - could not read ${r.kind}${r.namespace ? ` in ${r.namespace}` : ''}: ${clean(r.message)}`);
  }
  return out.join('\n') + '\n';
}
