import type { ObjectRef } from './object-ref';
import type { Plan, PlanResult, PlanState } from './plan';
import type { DigestItem } from './ports';
import type { Report } from './report';

/** A plan's decision record: who asked, what was shown, who decided, what happened. */
export interface PlanEntry {
  planId: string;
  cluster: string;
  state: PlanState;
  requestedBy: string;
  channel: string;
  /** The thread reply that shows the plan and its buttons. */
  messageTs?: string;
  parentTs?: string;
  /** When the server-side dry run was made: approvals are valid for a window after it. */
  dryRunAt: string;
  /** Hash of the diff the approver saw (audited). */
  diffHash: string;
  diff: string;
  targets: ObjectRef[];
  /** When the plan stops being approvable (dry run + validity); rechecked by the worker. */
  expiresAt?: string;
  /** MAC (plan key, not in Redis) over the plan, its cluster and namespace, requester, thread and expiry. */
  seal?: string;
  decidedBy?: string;
  decidedAt?: string;
  /** MAC over the accepted decision (action, who, when) and the proposal seal: only `serve` can approve. */
  decisionSeal?: string;
  /** Applied changes (prior objects) for rollback, and the verification verdict. */
  result?: PlanResult;
  updatedAt: string;
}

export type Transition = { ok: true; entry: PlanEntry } | { ok: false; state: PlanState | 'missing' };

/** Plan decisions (implemented in Redis by store/plan-ledger). Every state change is a compare-and-set. */
export interface PlanStore {
  /**
   * Records a proposal (or a plan whose dry run failed: shown, never approvable). A retried job
   * keeps the record it finds; a plan that ended without changing anything is proposed afresh.
   * Returns the stored entry.
   */
  propose(entry: Omit<PlanEntry, 'state' | 'updatedAt'>, now: Date, state?: 'proposed' | 'not-applicable'): Promise<PlanEntry>;
  get(cluster: string, planId: string): Promise<PlanEntry | undefined>;
  /** Moves the plan from one of `from` to `to` atomically, merging `fields`; refuses transitions that do not exist. */
  transition(cluster: string, planId: string, from: PlanState[], to: PlanState, fields: Partial<PlanEntry>, now: Date): Promise<Transition>;
  /** Adds facts to an entry without moving its state (e.g. the verification verdict after an apply). */
  annotate(cluster: string, planId: string, fields: Partial<PlanEntry>, now: Date): Promise<PlanEntry | undefined>;
}

/** A plan as the remediation side reads it back: the plan plus where it came from. */
export interface StoredPlan {
  plan: Plan;
  cluster: string;
  /** The run (diagnose job id) whose report holds the plan. */
  runId: string;
  findingId: string;
  namespace?: string;
  storedAt: string;
}

/** One digest in a cluster's history. */
export interface DigestRecord {
  day: string;
  at: string;
  verdict: string;
  rootCauses: number;
  items: DigestItem[];
}

/** Reports and plans of finished runs (implemented in Redis by store/run-store). */
export interface RunStore {
  storeReport(cluster: string, runId: string, report: Report, now?: Date): Promise<void>;
  loadReport(cluster: string, runId: string): Promise<Report | undefined>;
  loadPlan(cluster: string, planId: string): Promise<StoredPlan | undefined>;
}

/** One decision or apply, as auditors read it. */
export interface AuditEntry {
  at: string;
  event: 'proposed' | 'approved' | 'rejected' | 'denied' | 'applied' | 'noop' | 'conflict' | 'failed' | 'verified' | 'rolled-back' | 'rollback-failed';
  cluster: string;
  planId: string;
  diffHash?: string;
  requestedBy?: string;
  actor?: string;
  channel?: string;
  messageTs?: string;
  /** Targets with their resourceVersions before and after the write. */
  targets?: { ref: string; resourceVersionBefore?: string; resourceVersionAfter?: string }[];
  result?: string;
  verdict?: string;
  reason?: string;
  /** The Kubernetes identity the apiserver was asked about (SubjectAccessReview), e.g. `alice (groups sre)`. */
  kubeIdentity?: string;
}

/** The append-only audit trail (implemented by store/audit-log). */
export interface AuditSink {
  /** Appends one entry; resolves to its id. */
  append(entry: AuditEntry): Promise<string>;
}
