import type { Digest } from '../../domain/ports';

/** One bar segment: root causes of one fault code on one day. */
export interface TrendPoint {
  day: string;
  code: string;
  count: number;
}

export const TREND_DAYS = 30;

/** The `days` calendar days ending on `lastDay` (YYYY-MM-DD), oldest first. */
export function dayRange(lastDay: string, days: number): string[] {
  const end = Date.parse(`${lastDay}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => new Date(end - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/**
 * Root causes per day and fault code over the digest's last `days` days. A day recorded before
 * digests kept codes counts its root causes under UNKNOWN, so the bar heights stay right.
 */
export function trendPoints(digest: Pick<Digest, 'day' | 'trend'>, days = TREND_DAYS): TrendPoint[] {
  const first = dayRange(digest.day, days)[0]!;
  return digest.trend
    .filter((t) => t.day >= first && t.day <= digest.day)
    .flatMap((t) =>
      t.byCode ? Object.entries(t.byCode).map(([code, count]) => ({ day: t.day, code, count })) : t.rootCauses > 0 ? [{ day: t.day, code: 'UNKNOWN', count: t.rootCauses }] : [],
    );
}

/** The Vega-Lite spec: stacked bars per day over the whole window, coloured by fault code. */
export function trendChartSpec(cluster: string, lastDay: string, points: readonly TrendPoint[], days = TREND_DAYS): Record<string, unknown> {
  const perDay = new Map<string, number>();
  for (const p of points) perDay.set(p.day, (perDay.get(p.day) ?? 0) + p.count);
  const top = Math.max(1, ...perDay.values());
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Root causes per day on ${cluster}`, subtitle: `last ${days} days to ${lastDay}, by fault code` },
    width: 720,
    height: 240,
    background: 'white',
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } },
    data: { values: points },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'day', type: 'ordinal', title: null, scale: { domain: dayRange(lastDay, days) }, axis: { labelAngle: -45, labelExpr: 'slice(datum.value, 5)' } },
      // Whole numbers only: a tick per root cause up to 10, then vega's own (rounded) ticks.
      y: { aggregate: 'sum', field: 'count', type: 'quantitative', title: 'root causes', axis: { format: 'd', ...(top <= 10 ? { values: Array.from({ length: top + 1 }, (_, i) => i) } : {}) } },
      color: { field: 'code', type: 'nominal', title: 'fault code', scale: { scheme: 'tableau10' } },
      order: { field: 'code' },
    },
  };
}

/** Renders a Vega-Lite spec to SVG on the server (vega's headless view; no canvas, no browser). */
export async function chartSvg(spec: Record<string, unknown>): Promise<string> {
  // Loaded on use: the charting libraries are only needed by digests and digest pages.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG → PNG at twice the size (resvg, prebuilt binaries: no native build step). */
export async function svgToPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render().asPng();
  return Buffer.from(png);
}

/** The digest's trend picture as SVG and PNG. */
export async function trendChart(digest: Pick<Digest, 'cluster' | 'day' | 'trend'>): Promise<{ svg: string; png: Buffer }> {
  const svg = await chartSvg(trendChartSpec(digest.cluster, digest.day, trendPoints(digest)));
  return { svg, png: await svgToPng(svg) };
}
