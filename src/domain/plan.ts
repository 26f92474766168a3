import { createHash } from 'node:crypto';
import type { RawObject } from './kube-types';
import type { ObjectRef } from './object-ref';

/** How a patch body is to be sent; maps one-to-one to the apiserver's PATCH content types. */
export type PatchType = 'json' | 'merge' | 'strategic';

/** One exact change to one object. */
export interface Operation {
  action: 'patch' | 'create' | 'delete';
  target: ObjectRef & { apiVersion: string };
  patchType?: PatchType;
  /** JSON patch ops (with `test` ops guarding old values), or a merge/strategic patch body. */
  patch?: unknown;
  /** The full object, for `create`. */
  body?: Record<string, unknown>;
  /** The resourceVersion the operation was computed against; apply refuses when it changed. */
  resourceVersion?: string;
  /**
   * Instead of resourceVersion, for a patch of an object with a spec generation: apply refuses when
   * the spec changed. Controllers rewrite a crash-looping DaemonSet's status (and so its
   * resourceVersion) at every restart, which must not void a fix of its spec.
   */
  generation?: number;
  /** Instead of resourceVersion, for a delete: the very object seen (a pod's status churns too). */
  uid?: string;
}

export type Risk = 'low' | 'medium' | 'high';

/** An exact fix: data that is stored, shown, approved and applied by id. */
export interface Plan {
  id: string;
  summary: string;
  risk: Risk;
  /** What happens when it is applied, in words (e.g. "the DaemonSet rolls its pods one node at a time"). */
  effect: string;
  operations: Operation[];
  /** How to tell it worked: the check that must stop firing on the subject, and what to wait for. */
  verify: { check: string; subject: ObjectRef; waitFor: 'rollout' | 'endpoints' | 'none' };
}

/** What planId() makes; anything else from a button or a job is refused before it is looked up. */
export const PLAN_ID = /^plan-[0-9a-f]{16}$/;

/** A plan's id: a short hash of its operations, so the same fix against the same object versions has the same id. */
export function planId(operations: Operation[]): string {
  return `plan-${createHash('sha256').update(JSON.stringify(operations)).digest('hex').slice(0, 16)}`;
}

/** Builds a plan whose id is derived from its operations. */
export function makePlan(fields: Omit<Plan, 'id'>): Plan {
  return { id: planId(fields.operations), ...fields };
}

/** Where a plan stands. Only the transitions in TRANSITIONS exist; each is one atomic compare-and-set. */
export type PlanState =
  | 'proposed'
  | 'not-applicable'
  | 'approved'
  | 'denied'
  | 'rejected'
  | 'expired'
  | 'applied'
  | 'noop'
  | 'conflict'
  | 'failed'
  | 'rollback-approved'
  | 'rolled-back'
  | 'rollback-failed';

export const TRANSITIONS: Readonly<Record<PlanState, readonly PlanState[]>> = {
  proposed: ['approved', 'rejected', 'expired'],
  'not-applicable': [],
  approved: ['applied', 'noop', 'conflict', 'failed', 'denied', 'expired'],
  rejected: [],
  denied: [],
  expired: [],
  applied: ['rollback-approved'],
  noop: [],
  conflict: [],
  failed: [],
  'rollback-approved': ['rolled-back', 'rollback-failed', 'applied'],
  'rolled-back': [],
  'rollback-failed': [],
};

/** One applied operation, with what is needed to audit it and roll it back. */
export interface AppliedChange {
  operation: Operation;
  before?: RawObject;
  after: RawObject;
}

/** What verification concluded after an apply. */
export type PlanVerdict =
  | { status: 'fixed'; detail: string }
  | { status: 'not-fixed'; detail: string; stillFailing: string[] }
  | { status: 'unverified'; detail: string };

/** How an apply (or a rollback) of a plan ended. */
export type ApplyStatus = 'applied' | 'noop' | 'conflict' | 'failed';

/**
 * What the ledger keeps about an executed plan: what changed (for rollback) and what verification
 * said. The changes hold whole prior objects, which may carry plain env credentials: they are kept
 * encrypted and authenticated with the plan key (remediation/plan-seal.ts), never in clear in Redis.
 */
export interface PlanResult {
  outcome: ApplyStatus;
  /** AppliedChange[], sealed by PlanSealer.encrypt for this cluster and plan. */
  sealedChanges?: string;
  verdict?: PlanVerdict;
  rollback?: { outcome: ApplyStatus };
}
