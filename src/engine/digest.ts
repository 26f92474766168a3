import { refLabel } from '../domain/object-ref';
import type { Digest, DigestItem } from '../domain/ports';
import { type Report, verdictOf } from '../domain/report';
import type { DigestRecord } from '../domain/stores';

/** The calendar day (YYYY-MM-DD) of an instant in a time zone: the digest's "once per day" unit. */
export function dayIn(now: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The findings a digest compares across days: everything above info. */
export function digestItems(report: Report): DigestItem[] {
  return report.findings
    .filter((f) => f.severity !== 'info')
    .map((f) => ({ id: f.id, code: f.code, rootCause: f.rootCause, severity: f.severity, title: f.title, subject: refLabel(f.subject) }));
}

/**
 * What makes two days' items the same fault: its code on the same subject (titles carry live
 * counts and names, ids only the check). A previous record written before codes existed is
 * compared by finding id, so the first digest after an upgrade does not report everything anew.
 */
function faultKeyOf(previous: readonly DigestItem[]): (item: DigestItem) => string {
  return previous.every((i) => i.code) ? (i) => `${i.code} ${i.subject}` : (i) => i.id;
}

/** Root causes of one digest by fault code (records written before items carried `rootCause` have none). */
function rootCausesByCode(record: DigestRecord): { byCode?: Record<string, number> } {
  if (!record.items.some((i) => i.rootCause !== undefined)) return {};
  const byCode: Record<string, number> = {};
  for (const i of record.items) if (i.rootCause) byCode[i.code ?? 'UNKNOWN'] = (byCode[i.code ?? 'UNKNOWN'] ?? 0) + 1;
  return { byCode };
}

/**
 * Today's digest against the previous one (the newest record of an earlier day):
 * new, resolved and persisting findings, and the root-cause trend over the kept history.
 */
export function buildDigest(cluster: string, day: string, report: Report, history: readonly DigestRecord[], now: Date, keep: number): { digest: Digest; record: DigestRecord } {
  const earlier = history.filter((r) => r.day < day);
  const previous = earlier[earlier.length - 1];
  const items = digestItems(report);
  const key = faultKeyOf(previous?.items ?? []);
  const before = new Map((previous?.items ?? []).map((i) => [key(i), i]));
  const today = new Set(items.map(key));
  const record: DigestRecord = {
    day,
    at: now.toISOString(),
    verdict: verdictOf(report),
    rootCauses: report.findings.filter((f) => f.rootCause && f.severity !== 'info').length,
    items,
  };
  const trend = [...earlier, record].slice(-keep).map((r) => ({ day: r.day, rootCauses: r.rootCauses, ...rootCausesByCode(r) }));
  const digest: Digest = {
    cluster,
    day,
    report,
    newFindings: items.filter((i) => !before.has(key(i))),
    resolved: [...before.entries()].filter(([k]) => !today.has(k)).map(([, i]) => i),
    persisting: items.filter((i) => before.has(key(i))),
    trend,
  };
  return { digest, record };
}
