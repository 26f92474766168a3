import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { Finding } from '../../../src/domain/finding';
import type { DiagnoseRequest, Digest } from '../../../src/domain/ports';
import type { Report } from '../../../src/domain/report';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import {
  LIMITS,
  type SlackMessage,
  checksMessage,
  diffLines,
  digestMessage,
  helpMessage,
  messageChars,
  progressMessage,
  rootCauseMessage,
  statusMessage,
  summaryMessage,
  textObjects,
} from '../../../src/slack/blocks';
import { code, codeBlock } from '../../../src/slack/escape';
import { listScenarios } from '../../support/scenarios';

const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
const HOSTILE = ['<!channel>', '<@U123>', '<http://evil|click>', '`rm -rf`', 'a & b', '```', '<!here|here>'];
const RAW_HOSTILE = /<!channel>|<@U123>|<http:\/\/evil\|click>|<!here/;

async function reportFor(dir: string, namespace: string): Promise<Report> {
  return diagnose({ runId: 't', log: silentLogger, clock: () => new Date('2026-01-01T00:00:00Z') }, new DumpReader(dir), workflow, { cluster: 'prod', namespace });
}

function requestFor(namespace: string, requestedBy = 'U0REQUESTER'): DiagnoseRequest {
  return { cluster: 'prod', namespace, workflow: 'namespace-triage', requestedBy, channel: 'C1' };
}

function expectWithinLimits(m: SlackMessage): void {
  expect(m.text.length).toBeGreaterThan(0);
  expect(m.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  for (const t of textObjects(m.blocks)) expect(t.length).toBeLessThanOrEqual(LIMITS.textChars);
  expect(messageChars(m)).toBeLessThanOrEqual(LIMITS.messageChars);
}

/** No untrusted `<…>` survives, and untrusted backticks cannot unbalance the code spans. */
function expectInert(m: SlackMessage, allowedMention?: string): void {
  for (const t of [m.text, ...textObjects(m.blocks)]) {
    const stripped = allowedMention ? t.split(`<@${allowedMention}>`).join('') : t;
    expect(stripped).not.toMatch(RAW_HOSTILE);
    expect(stripped).not.toContain('<');
    expect(stripped).not.toMatch(/&(?!amp;|lt;|gt;)/);
    for (const line of stripped.split('\n').filter((l) => !l.startsWith('```') && !l.endsWith('```'))) {
      if (!line.includes('```')) expect((line.match(/`/g) ?? []).length % 2).toBe(0);
    }
  }
}

/** Puts hostile strings into every untrusted field of a report (names, titles, log lines, events). */
function poison(report: Report): Report {
  const evil = HOSTILE.join(' ');
  const clone = structuredClone(report);
  clone.target.namespace = `ns-${evil}`;
  for (const f of clone.findings) {
    f.subject = { ...f.subject, name: `${f.subject.name}-${evil}` };
    f.title = `${f.title} ${evil}`;
    f.summary = `${f.summary} ${evil}`;
    f.evidence = [...f.evidence, { type: 'log', text: `line 1 ${evil}\nline 2 ${evil}`, command: `kubectl logs ${evil}` }];
    f.advice = [...f.advice, evil];
  }
  clone.checks.push({ id: `c-${evil}`, status: 'failed', error: evil });
  clone.readErrors.push({ kind: 'Pod', namespace: evil, message: evil });
  return clone;
}

const scenarios = listScenarios();

describe.each(scenarios.map((s) => [s.name, s] as const))('Block Kit for scenario %s', (_name, scenario) => {
  let report: Report;
  beforeAll(async () => {
    report = await reportFor(scenario.dir, scenario.expect.namespace);
  });

  it('renders the parent, summary and one reply per root cause within the limits', () => {
    const request = requestFor(scenario.expect.namespace);
    for (const stage of ['queued', 'reading', 'analysing', 'done'] as const) expectWithinLimits(progressMessage(request, stage));
    expectWithinLimits(progressMessage(request, 'failed', 'namespace "x" does not exist'));
    const summary = summaryMessage(report, request);
    expectWithinLimits(summary);
    const roots = report.findings.filter((f) => f.rootCause);
    if (scenario.expect.rootCause) expect(roots.length).toBeGreaterThan(0);
    roots.forEach((f, i) => {
      const reply = rootCauseMessage(report, f, i);
      expectWithinLimits(reply);
      expect(JSON.stringify(reply.blocks)).toContain(f.title.slice(0, 20).replace(/[&<>"]/g, ''));
      if (f.plan) expect(JSON.stringify(reply.blocks)).toContain(f.plan.id);
      expect(JSON.stringify(reply.blocks)).not.toContain('"button"');
    });
  });

  it('neutralises injection strings in names, titles, log lines and errors', () => {
    const hostile = poison(report);
    const request = requestFor(hostile.target.namespace!);
    expectInert(progressMessage(request, 'queued'), 'U0REQUESTER');
    expectInert(progressMessage(request, 'failed', HOSTILE.join(' ')), 'U0REQUESTER');
    const summary = summaryMessage(hostile, request);
    expectWithinLimits(summary);
    expectInert(summary, 'U0REQUESTER');
    hostile.findings.filter((f) => f.rootCause).forEach((f, i) => {
      const reply = rootCauseMessage(hostile, f, i);
      expectWithinLimits(reply);
      expectInert(reply);
      expect(JSON.stringify(reply.blocks)).toContain('&lt;!channel&gt;');
    });
  });

  it('cuts oversized evidence with a visible marker and flags the message for the attached report', () => {
    const big = structuredClone(report);
    const root: Finding = big.findings.find((f) => f.rootCause) ?? {
      ...({} as Finding),
      id: 'x',
      check: 'x',
      severity: 'critical',
      title: 'synthetic',
      summary: 'synthetic',
      subject: { kind: 'Pod', namespace: 'a', name: 'b' },
      rootCause: true,
      causedBy: null,
      symptoms: [],
      explains: [],
      advice: [],
      plan: null,
      evidence: [],
    };
    root.evidence = Array.from({ length: 30 }, (_, i) => ({ type: 'log' as const, text: `${i} <!channel> `.repeat(2_000), command: 'kubectl logs x' }));
    const reply = rootCauseMessage(big, root, 0);
    expectWithinLimits(reply);
    expectInert(reply);
    expect(reply.truncated).toBe(true);
    expect(JSON.stringify(reply.blocks)).toMatch(/cut: \d+ characters/);
  });
});

describe('other messages', () => {
  it('user id mentions are only produced for real Slack ids', () => {
    const m = progressMessage({ ...requestFor('a'), requestedBy: '<!channel>' }, 'queued');
    expectInert(m);
  });

  it('escape helpers keep spans and blocks closed', () => {
    expect(code('a`b<!channel>&')).toBe('`a\u02cbb&lt;!channel&gt;&amp;`');
    expect(code('')).toBe('` `');
    expect(codeBlock('x\n```\n<@U1>')).toBe('```\nx\n\u02cb\u02cb\u02cb\n&lt;@U1&gt;\n```');
  });

  it('digest, status, help and checks stay within limits and inert', async () => {
    const scenario = scenarios.find((s) => s.expect.rootCause) ?? scenarios[0]!;
    const report = poison(await reportFor(scenario.dir, scenario.expect.namespace));
    const item = { id: 'i', severity: 'critical', title: HOSTILE.join(' '), subject: HOSTILE.join(' ') };
    const digest: Digest = {
      cluster: 'prod',
      day: '2026-01-02',
      report,
      newFindings: Array.from({ length: 30 }, () => item),
      resolved: [item],
      persisting: [],
      trend: [
        { day: '2026-01-01', rootCauses: 2 },
        { day: '2026-01-02', rootCauses: 1 },
      ],
    };
    for (const m of [
      digestMessage(digest),
      statusMessage([{ cluster: 'prod', waiting: 1, active: 0, failed: 2, workers: 1, lastDigest: '2026-01-02', nextDigest: '2026-01-03T09:00:00.000Z' }]),
      statusMessage([]),
      helpMessage(),
      checksMessage([...CHECKS.map((c) => ({ id: c.id, title: c.title })), { id: 'evil', title: HOSTILE.join(' ') }]),
    ]) {
      expectWithinLimits(m);
      expectInert(m);
    }
  });
});

describe('diffLines', () => {
  it('shows the guarded old value as removed, the new one as added, other guards as context', () => {
    const lines = diffLines({
      action: 'patch',
      target: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' },
      patchType: 'json',
      resourceVersion: '7',
      patch: [
        { op: 'test', path: '/spec/containers/0/name', value: 'kube-proxy' },
        { op: 'test', path: '/spec/containers/0/command/1', value: '--config=old' },
        { op: 'replace', path: '/spec/containers/0/command/1', value: '--config=new' },
      ],
    });
    expect(lines[0]).toMatch(/^@@ patch daemonset\/kube-proxy -n kube-system/);
    expect(lines.slice(1).map((l) => l.slice(0, 2))).toEqual(['  ', '- ', '+ ']);
    expect(lines[2]).toContain('--config=old');
    expect(lines[3]).toContain('--config=new');
  });
});
