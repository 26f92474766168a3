import type { Config } from '../config';
import { NetdoctorError } from '../domain/errors';
import type { Logger } from '../domain/run-context';
import type { AuditLog } from '../store/audit-log';
import type { PlanLedger } from '../store/plan-ledger';
import type { RunStore } from '../store/run-store';
import { type PageRef, PageLinks } from './links';
import type { Digest } from '../domain/ports';
import { chartSvg, trendChart, trendChartSpec, trendPoints } from '../render/chart/trend-chart';
import { renderDigestPage } from '../render/html/digest-page';
import { buildDigest } from '../engine/digest';
import { renderRunPage } from './run-page';
import { type PageServer, startPageServer } from './server';

/** The link signer when report pages are configured; both variables or neither. */
export function pageLinksFrom(config: Pick<Config, 'reportUrl' | 'reportLinkKey' | 'reportLinkTtlSeconds'>): PageLinks | undefined {
  if (!config.reportUrl && !config.reportLinkKey) return undefined;
  if (!config.reportUrl) throw new NetdoctorError('bad_input', 'NETDOCTOR_REPORT_URL is not set: report page links need the public URL of the pages');
  if (!config.reportLinkKey) throw new NetdoctorError('bad_input', 'NETDOCTOR_REPORT_LINK_KEY is not set: report page links are signed with it');
  return new PageLinks(config.reportLinkKey, config.reportUrl, config.reportLinkTtlSeconds);
}

/** One day's digest page, rebuilt from the stored digest run and the digest history (undefined when either is gone). */
export async function renderStoredDigestPage(runs: Pick<RunStore, 'loadReport' | 'digestHistory'>, cluster: string, day: string, keep: number): Promise<string | undefined> {
  const history = await runs.digestHistory(cluster);
  const record = history.find((r) => r.day === day);
  const report = record ? await runs.loadReport(cluster, `digest-${day}`) : undefined;
  if (!record || !report) return undefined;
  const { digest } = buildDigest(cluster, day, report, history, new Date(record.at), keep);
  const points = trendPoints(digest);
  return renderDigestPage({ digest, points, chartSvg: await chartSvg(trendChartSpec(cluster, day, points)) });
}

/** The SlackSurface options: page links when pages are configured, and the digest's trend picture. */
export function surfacePageOptions(links: PageLinks | undefined): { pageUrl?: (ref: PageRef) => string; trendPicture: (digest: Digest) => Promise<Buffer> } {
  return { ...(links ? { pageUrl: (ref: PageRef) => links.url(ref, new Date()) } : {}), trendPicture: async (digest) => (await trendChart(digest)).png };
}

/** Where the pages read from (the cli wires them to Redis). */
export interface ReportPageStores {
  runs: Pick<RunStore, 'loadReport' | 'digestHistory'>;
  ledger: Pick<PlanLedger, 'get'>;
  audit: Pick<AuditLog, 'recent'>;
}

export interface ReportPagesOptions {
  config: Pick<Config, 'reportPort' | 'digestHistory'>;
  links: PageLinks;
  stores: ReportPageStores;
  log: Logger;
  /** Overrides config.reportPort (tests pass 0). */
  port?: number;
  host?: string;
}

/** Serves the report pages from the stores in Redis (read only: nothing here writes). */
export function startReportPages(options: ReportPagesOptions): Promise<PageServer> {
  const { config, links, stores, log } = options;
  return startPageServer({
    port: options.port ?? config.reportPort,
    ...(options.host ? { host: options.host } : {}),
    links,
    render: async (ref) => (ref.kind === 'run' ? renderRunPage(stores, ref.cluster, ref.runId) : renderStoredDigestPage(stores.runs, ref.cluster, ref.day, config.digestHistory)),
    clock: () => new Date(),
    log: log.child({ component: 'report-pages' }),
  });
}
