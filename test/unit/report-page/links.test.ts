import { PageLinks } from '../../../src/report-page/links';

const KEY = 'k'.repeat(40);
const now = new Date('2026-11-30T10:00:00Z');
const links = new PageLinks(KEY, 'https://netdoctor.example.com/', 3600);
const run = { kind: 'run', cluster: 'prod', runId: 'diagnose-abc123' } as const;

describe('signed page links', () => {
  const path = links.path(run, now);

  it('opens exactly the page it was made for, until it expires', () => {
    expect(path).toMatch(/^\/runs\/diagnose-abc123\?cluster=prod&exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    expect(links.url(run, now)).toBe(`https://netdoctor.example.com${path}`);
    expect(links.verify(path, now)).toEqual(run);
    expect(links.verify(path, new Date(now.getTime() + 3599_000))).toEqual(run);
    expect(links.verify(path, new Date(now.getTime() + 3600_000))).toBeUndefined();
  });

  it('refuses any change to run, cluster, expiry or signature, another key, and other paths', () => {
    const exp = /exp=(\d+)/.exec(path)![1]!;
    const tampered = [
      path.replace('diagnose-abc123', 'diagnose-abc124'),
      path.replace('cluster=prod', 'cluster=staging'),
      path.replace(`exp=${exp}`, `exp=${Number(exp) + 3600}`),
      path.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A')),
      path.replace(/&sig=[^&]+/, ''),
      path.replace('/runs/', '/digests/'),
      path.replace('/runs/', '/runs/x/'),
      `${path}&sig=extra`.replace(/sig=[^&]+&sig=/, 'sig='),
      '/',
      '/runs/',
      '/%',
    ];
    for (const p of tampered) expect(links.verify(p, now)).toBeUndefined();
    expect(new PageLinks('x'.repeat(40), 'https://netdoctor.example.com/', 3600).verify(path, now)).toBeUndefined();
  });

  it('signs digest pages separately', () => {
    const digest = { kind: 'digest', cluster: 'prod', day: '2026-11-30' } as const;
    const p = links.path(digest, now);
    expect(p).toMatch(/^\/digests\/2026-11-30\?cluster=prod&/);
    expect(links.verify(p, now)).toEqual(digest);
  });
});
