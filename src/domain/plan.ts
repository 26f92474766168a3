import { createHash } from 'node:crypto';
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
  approved: ['applied', 'noop', 'conflict', 'failed', 'denied'],
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
