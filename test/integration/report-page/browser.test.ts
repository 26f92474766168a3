// A real browser on the report pages: Debian's chromium, headless, driven by puppeteer-core,
// opens the pages `netdoctor serve` serves on loopback. With NETDOCTOR_SCREENSHOTS=1 it also
// writes the README's screenshots (npm run screenshots).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'puppeteer-core';
import { silentLogger } from '../../../src/domain/run-context';
import { contentSecurityPolicy } from '../../../src/render/html/document';
import { PageLinks } from '../../../src/report-page/links';
import { AuditLog, auditKey } from '../../../src/store/audit-log';
import { PlanLedger } from '../../../src/store/plan-ledger';
import { RunStore } from '../../../src/store/run-store';
import { describeBrowser, launchChromium } from '../../support/chromium';
import { HOSTILE, hostilePlans, hostileReport } from '../../support/hostile-report';
import { LINK_KEY, type ReportServe, startReportServe } from '../../support/report-serve';
import { EXAMPLES_DIR } from '../../support/scenarios';
import { WEEK } from './week';

jest.setTimeout(120_000);

const SCREENSHOTS = process.env.NETDOCTOR_SCREENSHOTS === '1' ? resolve(__dirname, '..', '..', '..', 'docs', 'screenshots') : undefined;

/** Evaluates an expression in the page (a string: this test's TypeScript has no DOM types). */
async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

describeBrowser('report pages in a real browser (chromium headless)', () => {
  let rs: ReportServe;
  let browser: Browser;
  let redis: Redis;
  const violations: string[] = [];

  async function open(url: string): Promise<{ page: Page; status: number; csp: string | undefined }> {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.setViewport({ width: 1200, height: 900 });
    const res = await page.goto(url, { waitUntil: 'load' });
    return { page, status: res!.status(), csp: res!.headers()['content-security-policy'] };
  }

  async function shoot(page: Page, name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${join(SCREENSHOTS, name)}.png`, fullPage: true });
  }

  beforeAll(async () => {
    rs = await startReportServe({ dumpDir: join(EXAMPLES_DIR, 'kube-proxy-lab') });
    redis = new Redis(rs.config.redisUrl);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await redis?.quit();
    await rs?.stop();
  });

  afterEach(() => expect(violations.splice(0)).toEqual([]));

  it.each([
    ['kube-proxy-lab', 'report-kube-proxy-lab'],
    ['cni-lab', 'report-cni-lab'],
  ])('shows the %s run from the Slack link: one node per finding, one edge per causedBy, CSP set', async (lab, shot) => {
    const link = await rs.diagnose('triton', join(EXAMPLES_DIR, lab));
    const { page, status, csp } = await open(link);
    expect(status).toBe(200);
    expect(csp).toBe(contentSecurityPolicy(true));
    const runId = decodeURIComponent(/\/runs\/([^?]+)/.exec(link)![1]!);
    const report = (await new RunStore(redis, rs.config.queuePrefix, rs.config.reportTtlSeconds).loadReport('prod', runId))!;
    const nodes = await inPage<string[]>(page, `[...document.querySelectorAll('svg.cause-graph g.node')].map((e) => e.getAttribute('data-finding-id'))`);
    expect(nodes.sort()).toEqual(report.findings.map((f) => f.id).sort());
    const edges = await inPage<string[]>(page, `[...document.querySelectorAll('svg.cause-graph path.edge')].map((e) => e.getAttribute('data-from') + '→' + e.getAttribute('data-to'))`);
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.sort()).toEqual(report.findings.filter((f) => f.causedBy).map((f) => `${f.causedBy}→${f.id}`).sort());
    // The hashed stylesheet applies under the CSP (a blocked one would leave the verdict unstyled).
    expect(await page.evaluate(`getComputedStyle(document.querySelector('.verdict')).color`)).toBe('rgb(255, 255, 255)');
    await shoot(page, shot);
    await page.close();
  });

  it('renders hostile pod names, log lines and diffs as text: no script runs, nothing is injected', async () => {
    const now = new Date();
    await new RunStore(redis, rs.config.queuePrefix, rs.config.reportTtlSeconds).storeReport('prod', 'hostile-run', hostileReport, now);
    const [planId, record] = Object.entries(hostilePlans)[0]!;
    await new PlanLedger(redis, rs.config.queuePrefix, rs.config.reportTtlSeconds).propose(
      { planId, cluster: 'prod', requestedBy: 'U0REQUEST', channel: 'C0OPS0001', dryRunAt: now.toISOString(), diffHash: 'h', diff: record.diff!, targets: [] },
      now,
    );
    const audit = new AuditLog(redis, auditKey(rs.config.queuePrefix), silentLogger);
    for (const e of record.events) await audit.append({ at: e.at, event: e.event as 'proposed', cluster: 'prod', planId, ...(e.actor ? { actor: e.actor } : {}), ...(e.detail ? { result: e.detail } : {}) });

    const link = new PageLinks(LINK_KEY, rs.pagesUrl, 3600).url({ kind: 'run', cluster: 'prod', runId: 'hostile-run' }, now);
    const { page, status } = await open(link);
    expect(status).toBe(200);
    expect(await page.title()).not.toContain('pwned');
    const dom = await inPage<{ scripts: number; images: number; styles: number; bodyDisplay: string; text: string }>(page, `({
      scripts: document.querySelectorAll('script').length,
      images: document.querySelectorAll('img').length,
      styles: document.querySelectorAll('style').length,
      bodyDisplay: getComputedStyle(document.body).display,
      text: document.body.innerText,
    })`);
    expect(dom).toMatchObject({ scripts: 0, images: 0, styles: 1, bodyDisplay: 'block' });
    for (const s of [HOSTILE.script, HOSTILE.img, HOSTILE.style, HOSTILE.mrkdwn]) expect(dom.text).toContain(s);
    expect(dom.text).toContain('pod\u2400-\u241b[31mred\u2407');
    const nodes = await inPage<number>(page, `document.querySelectorAll('svg.cause-graph g.node').length`);
    expect(nodes).toBe(hostileReport.findings.length);
    const history = await inPage<string[]>(page, `[...document.querySelectorAll('table.history tbody tr td:nth-child(2)')].map((e) => e.textContent)`);
    expect(history).toEqual(['proposed', 'approved', 'applied', 'verified']);
    await shoot(page, 'report-hostile');
    await page.close();
  });

  it('answers expired and tampered links with 404', async () => {
    const link = new PageLinks(LINK_KEY, rs.pagesUrl, 3600).url({ kind: 'run', cluster: 'prod', runId: 'hostile-run' }, new Date());
    const expired = new PageLinks(LINK_KEY, rs.pagesUrl, 60).url({ kind: 'run', cluster: 'prod', runId: 'hostile-run' }, new Date(Date.now() - 120_000));
    for (const url of [expired, link.replace('hostile-run', 'hostile-rum'), link.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A'))]) {
      const { page, status, csp } = await open(url);
      expect(status).toBe(404);
      expect(csp).toBe(contentSecurityPolicy(true));
      expect(await page.evaluate('document.body.innerText.trim()')).toBe('Not found');
      await page.close();
    }
  });

  it('shows a week of digests with the trend picture', async () => {
    await rs.digestDays(WEEK);
    const message = rs.emulator.parents('C0OPS0001').find((m) => m.text.startsWith('netdoctor digest 2026-11-30'))!;
    const link = /<(http[^|>]+)\|Full digest>/.exec(JSON.stringify(message.attachments))![1]!;
    const { page, status } = await open(link);
    expect(status).toBe(200);
    const size = await inPage<{ complete: boolean; width: number }>(page, `(() => { const img = document.querySelector('img.trend'); return { complete: img.complete, width: img.naturalWidth }; })()`);
    expect(size.complete).toBe(true);
    expect(size.width).toBeGreaterThan(500);
    await shoot(page, 'digest-week');
    await page.close();
  });
});
