import type { PlanAction } from '../domain/ports';

/** Slack user group ids start with S (user ids with U or W): NETDOCTOR_APPROVERS mixes both. */
export function isUserGroupId(id: string): boolean {
  return id.startsWith('S');
}

/** Interactive element ids of plan buttons; a button's value is only the opaque plan id. */
export const PLAN_ACTIONS: Readonly<Record<PlanAction, string>> = {
  approve: 'netdoctor_plan_approve',
  reject: 'netdoctor_plan_reject',
  rollback: 'netdoctor_plan_rollback',
};

/** The digest's "Diagnose" button; its value is `<cluster>/<namespace>`, checked like a typed command. */
export const DIAGNOSE_ACTION = 'netdoctor_diagnose';
