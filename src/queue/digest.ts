import { refLabel } from '../domain/object-ref';
import type { Digest, DigestItem } from '../domain/ports';
import { type Report, verdictOf } from '../domain/report';
import type { DigestRecord } from './run-store';

/** The calendar day (YYYY-MM-DD) of an instant in a time zone: the digest's "once per day" unit. */
export function dayIn(now: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The findings a digest compares across days: everything above info, by stable finding id. */
export function digestItems(report: Report): DigestItem[] {
  return report.findings
    .filter((f) => f.severity !== 'info')
    .map((f) => ({ id: f.id, severity: f.severity, title: f.title, subject: refLabel(f.subject) }));
}

/**
 * Today's digest against the previous one (the newest record of an earlier day):
 * new, resolved and persisting findings, and the root-cause trend over the kept history.
 */
export function buildDigest(cluster: string, day: string, report: Report, history: readonly DigestRecord[], now: Date, keep: number): { digest: Digest; record: DigestRecord } {
  const earlier = history.filter((r) => r.day < day);
  const previous = earlier[earlier.length - 1];
  const items = digestItems(report);
  const before = new Map((previous?.items ?? []).map((i) => [i.id, i]));
  const today = new Set(items.map((i) => i.id));
  const record: DigestRecord = {
    day,
    at: now.toISOString(),
    verdict: verdictOf(report),
    rootCauses: report.findings.filter((f) => f.rootCause && f.severity !== 'info').length,
    items,
  };
  const trend = [...earlier, record].slice(-keep).map((r) => ({ day: r.day, rootCauses: r.rootCauses }));
  const digest: Digest = {
    cluster,
    day,
    report,
    newFindings: items.filter((i) => !before.has(i.id)),
    resolved: [...before.values()].filter((i) => !today.has(i.id)),
    persisting: items.filter((i) => before.has(i.id)),
    trend,
  };
  return { digest, record };
}
