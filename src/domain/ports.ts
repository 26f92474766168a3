import type { Report } from './report';

/** What a diagnose job carries: ids and names only, never credentials (job data sits in Redis in clear text). */
export interface DiagnoseRequest {
  cluster: string;
  /** Absent for cluster-wide workflows. */
  namespace?: string;
  workflow: string;
  /** Slack user id (or `cli`). */
  requestedBy: string;
  channel: string;
  /** The parent message, when the front end already posted it. */
  parentTs?: string;
}

export type RunStage = 'queued' | 'reading' | 'analysing' | 'done' | 'failed';

/** A finding as the digest compares it across days. */
export interface DigestItem {
  id: string;
  severity: string;
  title: string;
  subject: string;
}

/** The daily digest: today's verdict and what changed since the previous digest. */
export interface Digest {
  cluster: string;
  /** The day it covers, YYYY-MM-DD in the schedule's time zone. */
  day: string;
  report: Report;
  newFindings: DigestItem[];
  resolved: DigestItem[];
  persisting: DigestItem[];
  /** Root-cause counts of the previous digests, oldest first, today last. */
  trend: { day: string; rootCauses: number }[];
}

/**
 * Where runs are shown (Slack in production; a recording surface in tests and the CLI).
 * Workers talk to this port only, never to Bolt. Every method must be safe to call again
 * for the same run (jobs are retried): implementations dedupe on runId.
 */
export interface ChatSurface {
  /** Posts the run's parent message once (or returns the one recorded for runId); resolves to its ts. */
  openRun(runId: string, request: DiagnoseRequest): Promise<string>;
  /** Shows the run's stage on the parent message (a handful of edits per run at most). */
  stage(runId: string, request: DiagnoseRequest, parentTs: string, stage: RunStage): Promise<void>;
  /** Edits the parent into the summary and posts one thread reply per root cause. */
  publishReport(runId: string, request: DiagnoseRequest, parentTs: string, report: Report): Promise<void>;
  /** Shows a failed run with its user-facing reason. */
  failRun(runId: string, request: DiagnoseRequest, parentTs: string, reason: string): Promise<void>;
  publishDigest(channel: string, digest: Digest): Promise<void>;
}
