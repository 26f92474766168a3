// The report page of a real run: `/netdoctor triton` through serve (HTTP mode, real queue and
// workers, the Slack emulator), then the "Full report" link of the summary fetched from the page server.
import { join } from 'node:path';
import { contentSecurityPolicy } from '../../../src/render/html/document';
import { PageLinks } from '../../../src/report-page/links';
import { LINK_KEY, type ReportServe, startReportServe } from '../../support/report-serve';
import { EXAMPLES_DIR } from '../../support/scenarios';
import { WEEK } from './week';
import { CHANNEL } from '../../support/report-serve';



jest.setTimeout(90_000);

let rs: ReportServe;
let link: string;

beforeAll(async () => {
  rs = await startReportServe({ dumpDir: join(EXAMPLES_DIR, 'kube-proxy-lab') });
  link = await rs.diagnose('triton');
});

afterAll(() => rs?.stop());

async function get(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('report pages served by `netdoctor serve`', () => {
  it('links the Slack summary to the signed page, which shows the run with a strict CSP', async () => {
    expect(link.startsWith(`${rs.pagesUrl}runs/`)).toBe(true);
    const page = await get(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy(true));
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.body).toContain('namespace triton on cluster prod is broken');
    expect(page.body).toContain('<svg class="cause-graph"');
  });

  it('answers tampered, expired, unsigned and unknown-run links alike with 404, without the run', async () => {
    const runId = /\/runs\/([^?]+)/.exec(link)![1]!;
    const key = new PageLinks(LINK_KEY, rs.pagesUrl, 3600);
    const expired = new PageLinks(LINK_KEY, rs.pagesUrl, 60).url({ kind: 'run', cluster: 'prod', runId }, new Date(Date.now() - 120_000));
    const urls = [
      link.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A')),
      link.replace(/exp=(\d+)/, (_, e: string) => `exp=${Number(e) + 1}`),
      link.replace('cluster=prod', 'cluster=staging'),
      link.split('?')[0]!,
      expired,
      new PageLinks('another-key-of-enough-length-0123456789', rs.pagesUrl, 3600).url({ kind: 'run', cluster: 'prod', runId }, new Date()),
      // Correctly signed, but no such run: the same answer as a forged link.
      key.url({ kind: 'run', cluster: 'prod', runId: 'diagnose-nosuchrun' }, new Date()),
      rs.pagesUrl,
      `${rs.pagesUrl}metrics`,
    ];
    for (const url of urls) {
      const res = await get(url);
      expect({ url, status: res.status, body: res.body }).toEqual({ url, status: 404, body: 'Not found\n' });
      expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy(true));
    }
    expect((await fetch(link, { method: 'POST' })).status).toBe(405);
  });

  it('uploads the digest trend picture (files.uploadV2) to the digest thread and serves the digest page', async () => {
    const digest = await rs.digestDays(WEEK);
    const message = rs.emulator.parents(CHANNEL).find((m) => m.text.startsWith('netdoctor digest 2026-11-30'))!;
    expect(message).toBeDefined();
    const methods = rs.emulator.calls.map((c) => c.method);
    expect(methods).toEqual(expect.arrayContaining(['files.getUploadURLExternal', 'files.completeUploadExternal']));
    const file = rs.emulator.files.find((f) => f.filename === 'netdoctor-trend-prod-2026-11-30.png')!;
    expect(file).toMatchObject({ channel: CHANNEL, thread_ts: message.ts, title: 'Root causes per day on prod, last 30 days' });
    expect(file.content!.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(file.content!.length).toBe(file.length);
    // The codes of the week's root causes, one series each.
    const codes = new Set(digest.trend.flatMap((t) => Object.keys(t.byCode ?? {})));
    expect(codes.size).toBeGreaterThanOrEqual(3);

    const pageLink = /<(http[^|>]+)\|Full digest>/.exec(JSON.stringify(message.attachments))![1]!;
    const page = await get(pageLink);
    expect(page.status).toBe(200);
    expect(page.body).toContain('netdoctor digest 2026-11-30 for cluster prod');
    expect(page.body).toContain('<img class="trend"');
    for (const code of codes) expect(page.body).toContain(`<code>${code}</code>`);
    expect((await get(pageLink.replace('2026-11-30', '2026-11-29'))).status).toBe(404);
  });
});
