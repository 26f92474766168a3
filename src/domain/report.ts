import type { ChangesSince } from './baseline';
import type { ReadError } from './cluster-view';
import type { Finding } from './finding';

export const REPORT_API_VERSION = 'netdoctor.report/v1';

export interface CheckRun {
  id: string;
  status: 'ok' | 'failed';
  error?: string;
}

/** The result of one run; rendered as text, markdown, JSON and Block Kit by separate renderers. */
export interface Report {
  apiVersion: typeof REPORT_API_VERSION;
  target: { cluster?: string; namespace?: string };
  workflow: string;
  generatedAt: string;
  /** The cluster's clock at the read (ages in the findings are measured from it), when the data tells it. */
  observedAt?: string;
  /** Root causes first (by severity), each followed by the symptoms it explains. */
  findings: Finding[];
  checks: CheckRun[];
  readErrors: ReadError[];
  /** Networking fields changed since the last healthy run that no finding explains (runs with a baseline only). */
  changes?: ChangesSince;
  /** `readBytes`: response bytes read from the apiserver (live runs only). */
  stats: { apiCalls: number; durationMs: number; objects: number; readBytes?: number };
}

export type Verdict = 'healthy' | 'degraded' | 'broken' | 'incomplete';

/** Healthy only when nothing was found AND every check ran over everything: otherwise the run is incomplete. */
export function verdictOf(report: Pick<Report, 'findings' | 'checks' | 'readErrors'>): Verdict {
  const roots = report.findings.filter((f) => f.rootCause);
  if (roots.some((f) => f.severity === 'critical')) return 'broken';
  if (roots.some((f) => f.severity === 'warning')) return 'degraded';
  if (report.checks.some((c) => c.status === 'failed') || report.readErrors.length > 0) return 'incomplete';
  return 'healthy';
}
