import type { PlanState, PlanVerdict } from './plan';
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

/** An approved decision to carry out: only the opaque plan id and who approved it; the plan is read from the store. */
export interface RemediationRequest {
  cluster: string;
  planId: string;
  /** apply the plan, or roll back what applying it changed. */
  action: 'apply' | 'rollback';
  /** Slack user id of the approver. */
  approvedBy: string;
  channel: string;
  parentTs?: string;
  /** The plan's message, edited as the plan moves on. */
  messageTs?: string;
}

/** One run as the chat surface knows it: its id, what was asked, and its parent message. */
export interface RunRef {
  runId: string;
  request: DiagnoseRequest;
  parentTs: string;
}

export type RunStage = 'queued' | 'reading' | 'analysing' | 'done' | 'failed';

/** A finding as the digest compares it across days. */
export interface DigestItem {
  id: string;
  /** The finding's fault code; records written before codes existed lack it. */
  code?: string;
  /** Whether it was a root cause (the trend picture counts root causes by code); older records lack it. */
  rootCause?: boolean;
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
  trend: { day: string; rootCauses: number; byCode?: Record<string, number> }[];
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
  stage(run: RunRef, stage: RunStage): Promise<void>;
  /**
   * Edits the parent into the summary and posts one thread reply per root cause; a plan with a
   * proposal shows its server-side dry-run diff and, while `proposed`, Approve / Reject buttons.
   */
  publishReport(run: RunRef, report: Report, proposals?: Record<string, PlanProposal>): Promise<void>;
  /** Shows a failed run with its user-facing reason. */
  failRun(run: RunRef, reason: string): Promise<void>;
  publishDigest(channel: string, digest: Digest): Promise<void>;
}

/** What a plan button asks for. */
export type PlanAction = 'approve' | 'reject' | 'rollback';

/** A button click, as the Slack front end hands it over (ids only; the plan is read from the store). */
export interface PlanClick {
  action: PlanAction;
  planId: string;
  cluster: string;
  user: string;
  /** The user's Slack user groups (resolved by the front end when group approvers are configured). */
  userGroups: string[];
  message: PlanMessageRef;
}

/** What the thread shows of a plan when the report is published. */
export interface PlanProposal {
  planId: string;
  /** proposed: approvable until expiresAt; not-applicable: the dry run failed; disabled: nobody may approve. */
  status: 'proposed' | 'not-applicable' | 'disabled';
  /** The server's reason (not-applicable) or why remediation is off (disabled). */
  reason?: string;
  /** Unified diff of the server-computed result, one block per operation. */
  diff: string;
  expiresAt?: string;
}

/** Where a plan's message is (the root cause's thread reply). */
export interface PlanMessageRef {
  channel: string;
  messageTs: string;
  parentTs?: string;
}

/** A plan as its message shows it after a decision. */
export interface PlanStateView {
  planId: string;
  summary: string;
  state: PlanState;
  /** Slack user id of whoever decided last. */
  by?: string;
  at: string;
  /** The outcome in words (apply result, verification verdict, refusal reason). */
  detail?: string;
  /** After an apply: what verification says, or `pending` while it runs (the only step that is not an outcome). */
  verdict?: PlanVerdict['status'] | 'pending';
  diff: string;
  /** Whether a Rollback button belongs on the message. */
  rollbackAvailable: boolean;
}

/** How remediation talks back to chat (Slack in production, a recording surface in tests). */
export interface RemediationSurface {
  /** Edits the plan's message: who decided, when, the outcome; no stale buttons. */
  showPlanState(ref: PlanMessageRef, view: PlanStateView): Promise<void>;
  /**
   * A reply in the run's thread: at most one per decision, its final outcome (a refusal goes to the
   * clicker alone; the steps show on the plan's message). `text` is untrusted; `mention` a Slack user id to address.
   */
  postToThread(channel: string, parentTs: string, text: string, mention?: string): Promise<void>;
}

/** How a remediation ended (one count per terminal state of a plan's apply). */
export type RemediationOutcome =
  | 'applied' // applied and verified
  | 'verify_failed' // applied, but the check still fires / rollout did not finish
  | 'stale' // a target's resourceVersion changed since planning: refused, re-plan
  | 'dry_run_failed' // the apiserver rejected the server-side dry-run
  | 'failed' // the apply itself failed
  | 'rejected' // a human rejected it
  | 'unauthorized' // the approver may not approve it
  | 'noop' // already in the desired state: nothing written
  | 'rolled_back';

/** Where a remediation run counts its end (the Prometheus metrics in production). */
export interface RemediationMetrics {
  recordRemediation(outcome: RemediationOutcome, check?: string): void;
}
