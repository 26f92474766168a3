import type { Digest, DigestItem } from '../../domain/ports';
import { verdictOf } from '../../domain/report';
import type { TrendPoint } from '../chart/trend-chart';
import { htmlDocument } from './document';
import { esc } from './escape';

export interface DigestPageInput {
  digest: Digest;
  /** The trend chart as SVG (rendered server-side); shown as an image, so the page stays script- and style-attribute-free. */
  chartSvg: string;
  points: readonly TrendPoint[];
}

function itemList(title: string, items: readonly DigestItem[]): string {
  if (items.length === 0) return `<h2>${esc(title)}: none</h2>`;
  const rows = items.map((i) => `<li><span class="sev sev-${esc(i.severity)}">${esc(i.severity)}</span> ${esc(i.title)} <code>${esc(i.subject)}</code>${i.code ? ` <code>${esc(i.code)}</code>` : ''}</li>`);
  return `<h2>${esc(title)} (${items.length})</h2><ul>${rows.join('')}</ul>`;
}

/** One day's digest of a cluster: verdict, the 30-day trend picture and its numbers, new / resolved / persisting. */
export function renderDigestPage({ digest, chartSvg, points }: DigestPageInput): string {
  const verdict = verdictOf(digest.report);
  const title = `netdoctor digest ${digest.day} for cluster ${digest.cluster}`;
  const table = points.map((p) => `<tr><td>${esc(p.day)}</td><td><code>${esc(p.code)}</code></td><td>${p.count}</td></tr>`);
  const body = [
    `<header><h1>${esc(title)}</h1>`,
    `<p><span class="verdict verdict-${verdict}">${verdict.toUpperCase()}</span> <span class="meta">workflow <code>${esc(digest.report.workflow)}</code> · ${esc(digest.report.generatedAt)} · ${digest.report.stats.apiCalls} API calls · ${digest.report.stats.durationMs} ms</span></p></header>`,
    '<h2>Root causes per day, last 30 days</h2>',
    `<figure><img class="trend" alt="${esc(`Root causes per day on ${digest.cluster} over the last 30 days, by fault code`)}" src="data:image/svg+xml;base64,${Buffer.from(chartSvg).toString('base64')}"></figure>`,
    `<details><summary>The numbers</summary><table><thead><tr><th>Day</th><th>Fault code</th><th>Root causes</th></tr></thead><tbody>${table.join('')}</tbody></table></details>`,
    itemList('New since the last digest', digest.newFindings),
    itemList('Resolved', digest.resolved),
    itemList('Persisting', digest.persisting),
  ];
  return htmlDocument(title, body.join('\n'));
}
