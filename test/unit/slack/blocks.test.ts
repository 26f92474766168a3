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
  adviceMrkdwn,
  checksMessage,
  digestMessage,
  helpMessage,
  messageChars,
  progressMessage,
  rootCauseMessage,
  statusMessage,
  summaryMessage,
  summaryWithOutcomes,
  textObjects,
} from '../../../src/slack/blocks';
import { code, codeBlock, text } from '../../../src/slack/escape';
import { listAllScenarios } from '../../support/scenarios';

const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
const HOSTILE = ['<!channel>', '<@U123>', '<http://evil|click>', '`rm -rf`', 'a & b', '```', '<!here|here>'];
const RAW_HOSTILE = /<!channel>|<@U123>|<http:\/\/evil\|click>|<!here/;
/** The one `<…>` token netdoctor writes itself besides mentions: a time in the reader's zone, from a parsed instant. */
const DATE_TOKEN = /<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>/g;

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
    const stripped = (allowedMention ? t.split(`<@${allowedMention}>`).join('') : t).replace(DATE_TOKEN, '');
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

const scenarios = listAllScenarios();

describe.each(scenarios.map((s) => [s.name, s] as const))('Block Kit for scenario %s', (_name, scenario) => {
  let report: Report;
  beforeAll(async () => {
    report = await reportFor(scenario.dir, scenario.expect.namespace);
  });

  it('names the top root cause in the notification text and the first line', () => {
    const summary = summaryMessage(report, requestFor(scenario.expect.namespace));
    const top = report.findings.find((f) => f.rootCause);
    if (!top) return;
    const more = report.findings.length > 1 ? ` (+${report.findings.length - 1} more)` : '';
    // The first root cause ranks highest: a critical one makes the run broken (red), a warning degraded.
    const icon = top.severity === 'critical' ? '🔴' : '🟡';
    expect(summary.text).toBe(`${icon} ${scenario.expect.namespace}@prod: ${text(top.title)}${more}`);
    expect(textObjects(summary.blocks)[0]).toContain(top.title.slice(0, 20).replace(/[&<>"]/g, ''));
    expect(textObjects(summary.blocks).join('\n')).not.toMatch(/\(s\)|0 API calls/);
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
      // Ids are for machines: no plan id, check id or raw severity word in what a human reads.
      const words = textObjects(reply.blocks).join('\n');
      if (f.plan) expect(words).not.toContain(f.plan.id);
      expect(words).not.toContain(`check \`${f.check}\``);
      expect(words).not.toMatch(/\bCRITICAL\b/);
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

  it('shows two pieces of evidence as one line each, the rest in the attached report (flagged for upload)', () => {
    const big = structuredClone(report);
    const root: Finding = big.findings.find((f) => f.rootCause) ?? {
      ...({} as Finding),
      id: 'x',
      check: 'x',
      code: 'POD-CRASHLOOP',
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
    const evidence = textObjects(reply.blocks).find((t) => t.startsWith('*Evidence*'))!;
    expect(evidence.split('\n')).toEqual(['*Evidence*', expect.stringMatching(/^• `0 &lt;!channel&gt; [^\n]*…` — `kubectl logs x`$/), expect.stringMatching(/^• `1 /), '+28 more items of evidence in the attached report']);
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
      checksMessage([...CHECKS.map((c) => ({ id: c.id, title: c.title, codes: c.codes })), { id: 'evil', title: HOSTILE.join(' '), codes: HOSTILE }]),
    ]) {
      expectWithinLimits(m);
      expectInert(m);
    }
  });
});

describe('advice and outcomes', () => {
  it('formats the kubectl in advice as code, up to a dash, a closing parenthesis or the end', () => {
    expect(adviceMrkdwn('Watch the rollout: kubectl -n kube-system rollout status daemonset/kube-proxy')).toBe('Watch the rollout: `kubectl -n kube-system rollout status daemonset/kube-proxy`');
    expect(adviceMrkdwn('Then: kubectl rollout status ds/x — the pods restart')).toBe('Then: `kubectl rollout status ds/x` — the pods restart');
    expect(adviceMrkdwn('Fix the taint (kubectl describe node n1); add a toleration')).toBe('Fix the taint (`kubectl describe node n1`); add a toleration');
    expect(adviceMrkdwn('No command & <!channel>')).toBe('No command &amp; &lt;!channel&gt;');
  });

  it('puts a decided cause\'s outcome under its line on the parent', async () => {
    const scenario = scenarios.find((s) => s.expect.rootCause) ?? scenarios[0]!;
    const report = await reportFor(scenario.dir, scenario.expect.namespace);
    const summary = summaryMessage(report, requestFor(scenario.expect.namespace));
    const view = { planId: 'plan-0123456789abcdef', summary: 's', state: 'applied' as const, verdict: 'fixed' as const, by: 'U0BOB0001', at: '2026-11-25T10:05:00Z', diff: '', rollbackAvailable: true };
    const after = summaryWithOutcomes(summary, { 0: view });
    const at = `<!date^${Date.parse(view.at) / 1000}^{date_short_pretty} {time}|2026-11-25 10:05 UTC>`;
    expect(textObjects(after.blocks).join('\n')).toContain(`:white_check_mark: *fixed* by <@U0BOB0001>, verified · ${at}`);
    expect(after.text).toBe(summary.text);
    expect(after.blocks).toHaveLength(summary.blocks.length);
  });
});
