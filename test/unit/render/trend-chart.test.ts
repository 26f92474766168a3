import type { Digest } from '../../../src/domain/ports';
import { dayRange, trendChart, trendPoints } from '../../../src/render/chart/trend-chart';

const trend: Digest['trend'] = [
  { day: '2026-10-01', rootCauses: 4 },
  { day: '2026-11-02', rootCauses: 2 },
  { day: '2026-11-03', rootCauses: 3, byCode: { 'KP-CONFIG-PATH': 2, 'DNS-EGRESS-BLOCKED': 1 } },
  { day: '2026-11-04', rootCauses: 0, byCode: {} },
  { day: '2026-11-05', rootCauses: 1, byCode: { 'KP-CONFIG-PATH': 1 } },
];
const digest = { cluster: 'prod', day: '2026-11-05', trend };

describe('digest trend picture', () => {
  it('counts root causes per day and code over the last 30 days (UNKNOWN for days recorded without codes)', () => {
    expect(dayRange('2026-11-05', 30)).toHaveLength(30);
    expect(dayRange('2026-11-05', 30)[0]).toBe('2026-10-07');
    expect(trendPoints(digest)).toEqual([
      { day: '2026-11-02', code: 'UNKNOWN', count: 2 },
      { day: '2026-11-03', code: 'KP-CONFIG-PATH', count: 2 },
      { day: '2026-11-03', code: 'DNS-EGRESS-BLOCKED', count: 1 },
      { day: '2026-11-05', code: 'KP-CONFIG-PATH', count: 1 },
    ]);
  });

  it('renders stacked bars coloured by code as SVG (with a legend) and a PNG', async () => {
    const { svg, png } = await trendChart(digest);
    expect(svg).toMatch(/^<svg /);
    for (const label of ['KP-CONFIG-PATH', 'DNS-EGRESS-BLOCKED', 'UNKNOWN', 'Root causes per day on prod']) expect(svg).toContain(label);
    // One bar path per (day, code) point.
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(4);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBeGreaterThan(1000);
  });
});
