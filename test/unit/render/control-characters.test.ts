import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { type Report, verdictOf } from '../../../src/domain/report';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { renderJson } from '../../../src/render/json';
import { renderMarkdown } from '../../../src/render/markdown';
import { renderText } from '../../../src/render/text';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';

// Cluster text reaches terminals and viewers: ESC (CSI sequences), BEL, and the 8-bit CSI U+009B can
// retitle a terminal, hide lines or fake output (issue 16 item 9).
const HOSTILE = '\u001b]0;pwned\u0007 \u001b[2J \u009b31m \u0085 \u007f end';
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/; // eslint-disable-line no-control-regex

async function poisoned(): Promise<Report> {
  const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
  const report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(join(REPO_SCENARIO_DIR, 'svc-target-port')), workflow, {
    namespace: 'triton',
  });
  expect(report.findings.some((f) => f.plan)).toBe(true);
  for (const f of report.findings) {
    f.subject = { ...f.subject, name: `${f.subject.name}${HOSTILE}` };
    f.title += HOSTILE;
    f.summary += HOSTILE;
    f.advice.push(HOSTILE);
    f.evidence.push({ type: 'log', text: `line 1 ${HOSTILE}\nline 2`, command: `kubectl logs ${HOSTILE}` });
    if (f.plan) f.plan.effect += HOSTILE;
  }
  report.readErrors.push({ kind: 'File', message: HOSTILE });
  return report;
}

describe('control characters from the cluster', () => {
  it('markdown shows them as escapes, never raw', async () => {
    const md = renderMarkdown(await poisoned());
    expect(md).not.toMatch(RAW_CONTROL);
    expect(md).toContain('\\x1b]0;pwned\\x07');
    expect(md).toContain('\\x9b31m');
  });

  it('JSON escapes C1 controls and DEL as \\u00XX, and still parses to the same report', async () => {
    const report = await poisoned();
    const json = renderJson(report);
    expect(json).not.toMatch(RAW_CONTROL);
    expect(json).toContain('\\u009b31m');
    expect(json).toContain('\\u0085');
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('text (no colour) shows them as escapes', async () => {
    expect(renderText(await poisoned(), { color: false })).not.toMatch(RAW_CONTROL);
  });
});

describe('verdict', () => {
  const base: Pick<Report, 'findings' | 'checks' | 'readErrors'> = { findings: [], checks: [{ id: 'a', status: 'ok' }], readErrors: [] };
  it('is healthy only when every check ran and everything was read', () => {
    expect(verdictOf(base)).toBe('healthy');
    expect(verdictOf({ ...base, checks: [{ id: 'a', status: 'failed', error: 'boom' }] })).toBe('incomplete');
    expect(verdictOf({ ...base, readErrors: [{ kind: 'Pod', message: 'forbidden' }] })).toBe('incomplete');
  });

  it('a failed check does not hide what the others found', async () => {
    const report = await poisoned();
    report.checks.push({ id: 'x', status: 'failed', error: 'boom' });
    expect(verdictOf(report)).toBe('broken');
    expect(renderMarkdown({ ...report, findings: [] })).toMatch(/^# netdoctor: namespace `triton` is incomplete/);
    expect(renderText({ ...report, findings: [] }, { color: false })).toMatch(/INCOMPLETE/);
  });
});
