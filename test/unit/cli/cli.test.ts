import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { REPORT_API_VERSION, type Report } from '../../../src/domain/report';
import { EXAMPLES_DIR, REPO_SCENARIO_DIR } from '../../support/scenarios';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (s) => (out += s), stderr: (s) => (err += s), env: { HOME: '/nonexistent' }, isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

const lab = join(EXAMPLES_DIR, 'kube-proxy-lab');

describe('netdoctor CLI', () => {
  it('prints the JSON report contract', async () => {
    const { code, out } = await run('diagnose', 'triton', '--from', lab, '--output', 'json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.apiVersion).toBe(REPORT_API_VERSION);
    expect(report.target).toEqual({ namespace: 'triton' });
    for (const f of report.findings) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['id', 'check', 'severity', 'title', 'summary', 'subject', 'rootCause', 'causedBy', 'evidence', 'plan']));
    }
    expect(report.stats).toEqual(expect.objectContaining({ apiCalls: 0 }));
  });

  it('writes text without colour when not on a terminal, and markdown on request', async () => {
    const text = await run('diagnose', 'triton', '--from', lab);
    expect(text.code).toBe(0);
    expect(text.out).not.toContain('\u001b[');
    expect(text.out).toContain('namespace triton');
    const md = await run('diagnose', 'triton', '--from', lab, '--output', 'markdown');
    expect(md.out).toMatch(/^# netdoctor: namespace `triton`/);
  });

  it.each([
    [['diagnose', 'nope', '--from', lab], /namespace "nope" does not exist/],
    [['diagnose', 'triton', '--from', '/nonexistent/dump'], /does not exist/],
    [['diagnose', 'triton', '--from', lab, '--workflow', 'bogus'], /unknown workflow "bogus"/],
    [['diagnose', 'triton', '--from', lab, '--output', 'xml'], /--output must be one of/],
    [['diagnose', 'triton', '--bogus'], /Unknown option '--bogus'/],
    [['diagnose'], /exactly one namespace/],
    [['diagnose', 'triton'], /no kubeconfig found/],
    [['diagnose', 'triton', '--kubeconfig', '/nonexistent/kubeconfig'], /kubeconfig \/nonexistent\/kubeconfig does not exist/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j exits 2 with a one-line reason and no stack', async (argv, message) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')[0]).toMatch(message);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('diagnoses a dump at the time --now gives, and refuses --now without a dump or in another format', async () => {
    const dir = join(REPO_SCENARIO_DIR, 'pending-insufficient-cpu');
    const ok = await run('diagnose', 'triton', '--from', dir, '--now', '2026-03-01T07:29:00Z', '--output', 'json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ observedAt: '2026-03-01T07:29:00.000Z' });
    expect(JSON.parse(ok.out).findings[0].summary).toContain('for 60m');
    const bad = await run('diagnose', 'triton', '--from', dir, '--now', '1 March');
    expect({ code: bad.code, out: bad.out }).toEqual({ code: 2, out: '' });
    expect(bad.err.split('\n')[0]).toBe('netdoctor: --now must be an RFC 3339 time with a zone, e.g. 2026-03-01T06:40:00Z (got "1 March")');
    const live = await run('diagnose', 'triton', '--now', '2026-03-01T07:29:00Z');
    expect(live.err.split('\n')[0]).toBe("netdoctor: --now applies to a dump (--from); a live read takes the apiserver's clock");
  });

  it('lists the check catalog', async () => {
    const { code, out } = await run('checks');
    expect(code).toBe(0);
    expect(CHECKS.length).toBeGreaterThan(0);
    expect(out.trim().split('\n')).toHaveLength(CHECKS.length);
    for (const check of CHECKS) {
      const line = out.split('\n').find((l) => l.startsWith(`${check.id} `));
      expect(line).toContain(`[codes: ${check.codes.join(', ')}]`);
    }
  });
});
