import type { Finding } from '../../../src/domain/finding';
import { REPORT_API_VERSION, type Report } from '../../../src/domain/report';
import { buildDigest, dayIn } from '../../../src/engine/digest';
import type { DigestRecord } from '../../../src/domain/stores';

const finding = (id: string, over: Partial<Finding> = {}): Finding => ({
  id,
  check: id.split('/')[0]!,
  code: `${id.split('/')[0]!.toUpperCase()}-FAULT`,
  severity: 'critical',
  title: `title of ${id}`,
  summary: 's',
  subject: { kind: 'DaemonSet', namespace: 'kube-system', name: id.split('/').at(-1)! },
  evidence: [],
  rootCause: true,
  causedBy: null,
  symptoms: [],
  explains: [],
  advice: [],
  plan: null,
  ...over,
});

const report = (findings: Finding[]): Report => ({
  apiVersion: REPORT_API_VERSION,
  target: { cluster: 'c' },
  workflow: 'cluster-health',
  generatedAt: '2026-01-01T00:00:00Z',
  findings,
  checks: [],
  readErrors: [],
  stats: { apiCalls: 0, durationMs: 0, objects: 0 },
});

const record = (day: string, ids: string[]): DigestRecord => ({
  day,
  at: `${day}T09:00:00Z`,
  verdict: 'broken',
  rootCauses: ids.length,
  items: ids.map((id) => ({ id, code: `${id.split('/')[0]!.toUpperCase()}-FAULT`, severity: 'critical', title: `title of ${id}`, subject: `daemonset/${id.split('/').at(-1)!} -n kube-system` })),
});

describe('dayIn', () => {
  it('takes the calendar day in the schedule time zone', () => {
    const instant = new Date('2026-03-02T23:30:00Z');
    expect(dayIn(instant, 'UTC')).toBe('2026-03-02');
    expect(dayIn(instant, 'Europe/Berlin')).toBe('2026-03-03');
    expect(dayIn(instant, 'America/Los_Angeles')).toBe('2026-03-02');
  });
});

describe('buildDigest', () => {
  const now = new Date('2026-03-05T09:00:00Z');

  it('compares with the newest earlier digest: new, resolved, persisting', () => {
    const history = [record('2026-03-03', ['a/x']), record('2026-03-04', ['a/x', 'b/y'])];
    const { digest, record: today } = buildDigest('c', '2026-03-05', report([finding('b/y'), finding('c/z', { rootCause: false, causedBy: 'b/y' })]), history, now, 30);
    expect(digest.newFindings.map((i) => i.id)).toEqual(['c/z']);
    expect(digest.resolved.map((i) => i.id)).toEqual(['a/x']);
    expect(digest.persisting.map((i) => i.id)).toEqual(['b/y']);
    expect(today).toMatchObject({ day: '2026-03-05', rootCauses: 1, verdict: 'broken' });
    expect(digest.trend).toEqual([
      { day: '2026-03-03', rootCauses: 1 },
      { day: '2026-03-04', rootCauses: 2 },
      { day: '2026-03-05', rootCauses: 1, byCode: { 'B-FAULT': 1 } },
    ]);
  });

  it('ignores info findings and a same-day record (a manual re-run replaces it)', () => {
    const history = [record('2026-03-04', ['a/x']), record('2026-03-05', ['q/q'])];
    const { digest } = buildDigest('c', '2026-03-05', report([finding('a/x'), finding('i/i', { severity: 'info' })]), history, now, 30);
    expect(digest.persisting.map((i) => i.id)).toEqual(['a/x']);
    expect(digest.newFindings).toEqual([]);
    expect(digest.trend.map((t) => t.day)).toEqual(['2026-03-04', '2026-03-05']);
  });

  it('treats everything as new on the first digest and bounds the trend', () => {
    const history = ['01', '02', '03', '04'].map((d) => record(`2026-03-${d}`, []));
    const { digest } = buildDigest('c', '2026-03-05', report([finding('a/x')]), history, now, 3);
    expect(digest.trend.map((t) => t.day)).toEqual(['2026-03-03', '2026-03-04', '2026-03-05']);
    const first = buildDigest('c', '2026-03-05', report([finding('a/x')]), [], now, 3).digest;
    expect(first.newFindings.map((i) => i.id)).toEqual(['a/x']);
    expect(first.newFindings[0]!.subject).toBe('daemonset/x -n kube-system');
  });
});

describe('buildDigest keys on fault code and subject', () => {
  const now = new Date('2026-03-05T09:00:00Z');
  const yesterday = (items: DigestRecord['items']): DigestRecord[] => [{ day: '2026-03-04', at: '2026-03-04T09:00:00Z', verdict: 'broken', rootCauses: items.length, items }];

  it('keeps a fault persisting when only its title changed (counts, names in the title)', () => {
    const history = yesterday([{ id: 'a/x', code: 'CNI-AGENT-UNHEALTHY', severity: 'critical', title: '2/3 pods stuck', subject: 'daemonset/x -n kube-system' }]);
    const { digest } = buildDigest('c', '2026-03-05', report([finding('a/x', { code: 'CNI-AGENT-UNHEALTHY', title: '3/3 pods stuck' })]), history, now, 30);
    expect(digest.persisting.map((i) => i.code)).toEqual(['CNI-AGENT-UNHEALTHY']);
    expect(digest.newFindings).toEqual([]);
  });

  it('reports a different fault of the same check on the same subject as new, the old one as resolved', () => {
    const history = yesterday([{ id: 'a/x', code: 'CNI-AGENT-STARTING', severity: 'warning', title: 't', subject: 'daemonset/x -n kube-system' }]);
    const { digest } = buildDigest('c', '2026-03-05', report([finding('a/x', { code: 'CNI-AGENT-UNHEALTHY' })]), history, now, 30);
    expect(digest.newFindings.map((i) => i.code)).toEqual(['CNI-AGENT-UNHEALTHY']);
    expect(digest.resolved.map((i) => i.code)).toEqual(['CNI-AGENT-STARTING']);
  });

  it('compares by finding id against a record written before codes existed', () => {
    const history = yesterday([{ id: 'a/x', severity: 'critical', title: 't', subject: 'daemonset/x -n kube-system' }]);
    const { digest } = buildDigest('c', '2026-03-05', report([finding('a/x', { code: 'CNI-AGENT-UNHEALTHY' })]), history, now, 30);
    expect(digest.persisting.map((i) => i.id)).toEqual(['a/x']);
    expect(digest.newFindings).toEqual([]);
  });
});
