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
  /** Root causes first (by severity), each followed by the symptoms it explains. */
  findings: Finding[];
  checks: CheckRun[];
  readErrors: ReadError[];
  stats: { apiCalls: number; durationMs: number; objects: number };
}

export type Verdict = 'healthy' | 'degraded' | 'broken';

export function verdictOf(report: Pick<Report, 'findings'>): Verdict {
  const roots = report.findings.filter((f) => f.rootCause);
  if (roots.some((f) => f.severity === 'critical')) return 'broken';
  if (roots.some((f) => f.severity === 'warning')) return 'degraded';
  return 'healthy';
}
