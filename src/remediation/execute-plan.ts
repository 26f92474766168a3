import type { ClusterWriter } from '../domain/cluster-writer';
import type { RawObject } from '../domain/kube-types';
import { ApiError } from '../domain/errors';
import { type ObjectRef, refLabel } from '../domain/object-ref';
import { type AppliedChange, type Operation, type Plan, makePlan } from '../domain/plan';
import { unifiedDiff } from './diff';

/** What the server's dry run says a plan would do. */
export interface DryRunResult {
  applicable: boolean;
  /** The server's reason when not applicable. */
  reason?: string;
  /** One unified diff per operation, of the object before vs the server-computed result. */
  diffs: { target: ObjectRef; diff: string }[];
}

export type ApplyOutcome =
  | { status: 'applied'; changes: AppliedChange[] }
  | { status: 'noop'; reason: string }
  | { status: 'conflict'; reason: string }
  | { status: 'failed'; reason: string; changes: AppliedChange[] };

export const resourceVersionOf = (o: RawObject | undefined): string | undefined => (o?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;

function reasonOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return (e as Error).message;
}

/** The value at a JSON pointer (RFC 6901), or undefined. */
function pointerGet(obj: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), obj);
}

/** Whether `have` holds everything `want` says (extra fields, e.g. server defaults, allowed). */
function contains(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  if (want !== null && typeof want === 'object') {
    return have !== null && typeof have === 'object' && !Array.isArray(have) && Object.entries(want).every(([k, v]) => v === undefined || contains((have as Record<string, unknown>)[k], v));
  }
  return have === want;
}

/** Whether an existing object already is what a create would make (its content, metadata aside). */
function createdAlready(op: Operation, current: RawObject | undefined): boolean {
  if (!current) return false;
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...content } = op.body ?? {};
  return contains(current, content);
}

/** Whether the object already holds what the operation would write (someone fixed it by hand, or a retry). */
function alreadyDone(op: Operation, current: RawObject | undefined): boolean {
  if (op.action === 'create') return createdAlready(op, current);
  if (op.action === 'delete') return current === undefined;
  if (!current || op.patchType !== 'json' || !Array.isArray(op.patch)) return false;
  const writes = (op.patch as { op: string; path: string; value?: unknown }[]).filter((p) => p.op === 'replace' || p.op === 'add');
  return writes.length > 0 && writes.every((p) => JSON.stringify(pointerGet(current, p.path)) === JSON.stringify(p.value));
}

const generationOf = (o: RawObject | undefined): number | undefined => (o?.metadata as { generation?: number } | undefined)?.generation;
const uidOf = (o: RawObject | undefined): string | undefined => (o?.metadata as { uid?: string } | undefined)?.uid;

/** Why the target is no longer what the plan was computed against, if it is not. */
function changedSincePlan(op: Operation, current: RawObject | undefined): string | undefined {
  if (op.resourceVersion && resourceVersionOf(current) !== op.resourceVersion) return `resourceVersion ${op.resourceVersion} → ${resourceVersionOf(current)}`;
  if (op.generation !== undefined && generationOf(current) !== op.generation) return `its spec changed: generation ${op.generation} → ${generationOf(current)}`;
  if (op.uid && uidOf(current) !== op.uid) return 'it was replaced by another object of the same name';
  return undefined;
}

/**
 * The operation with the apiserver itself enforcing "unchanged since the plan" at write time:
 * a JSON patch tests the resourceVersion or generation; a merge patch carries the resourceVersion
 * (of `current`, read after its generation was checked).
 */
function guarded(op: Operation, current: RawObject | undefined): Operation {
  if (op.action !== 'patch') return op; // a delete's preconditions (uid, resourceVersion) go in its DeleteOptions
  const test =
    op.generation !== undefined
      ? { path: '/metadata/generation', value: op.generation, resourceVersion: resourceVersionOf(current) }
      : op.resourceVersion
        ? { path: '/metadata/resourceVersion', value: op.resourceVersion, resourceVersion: op.resourceVersion }
        : undefined;
  if (!test) return op;
  if (op.patchType === 'json' && Array.isArray(op.patch)) {
    return { ...op, patch: [{ op: 'test', path: test.path, value: test.value }, ...(op.patch as unknown[])] };
  }
  // In a merge or strategic patch, metadata.resourceVersion is an optimistic-concurrency precondition (409 on mismatch).
  const body = (op.patch ?? {}) as Record<string, unknown>;
  return { ...op, patch: { ...body, metadata: { ...((body.metadata as object | undefined) ?? {}), resourceVersion: test.resourceVersion } } };
}

/** Whether a dry-run create of a (Cluster)RoleBinding failed only because its role is created earlier in the same plan. */
function bindsRoleOfPlan(plan: Plan, op: Operation, e: unknown): boolean {
  if (op.action !== 'create' || !(e instanceof ApiError) || e.code !== 'not_found' || !/^(Cluster)?RoleBinding$/.test(op.target.kind)) return false;
  const roleRef = (op.body as { roleRef?: { kind?: string; name?: string } } | undefined)?.roleRef;
  const index = plan.operations.indexOf(op);
  return plan.operations
    .slice(0, index)
    .some((o) => o.action === 'create' && o.target.kind === roleRef?.kind && o.target.name === roleRef.name && (roleRef.kind === 'ClusterRole' || o.target.namespace === op.target.namespace));
}

/** Server-side dry run of every operation: validation and admission run, nothing is persisted. */
export async function dryRunPlan(writer: ClusterWriter, plan: Plan): Promise<DryRunResult> {
  const diffs: DryRunResult['diffs'] = [];
  for (const op of plan.operations) {
    try {
      const before = await writer.read(op.target);
      // A create whose object already exists unchanged is skipped by apply (and kept by a rollback).
      if (op.action === 'create' && before && createdAlready(op, before)) {
        diffs.push({ target: op.target, diff: unifiedDiff(before, before, refLabel(op.target)) });
        continue;
      }
      if (op.action === 'create' && before) throw new Error('already exists with a different content');
      const after = await writer.execute(guarded(op, before), true);
      diffs.push({ target: op.target, diff: unifiedDiff(op.action === 'create' ? undefined : before, op.action === 'delete' ? undefined : after, refLabel(op.target)) });
    } catch (e) {
      if (bindsRoleOfPlan(plan, op, e)) {
        // A dry-run create persists nothing, so the apiserver cannot check a binding against the role
        // this plan creates before it (RBAC bind check: 404). The real bind check runs at apply.
        diffs.push({ target: op.target, diff: unifiedDiff(undefined, op.body, refLabel(op.target)) });
        continue;
      }
      return { applicable: false, reason: `${refLabel(op.target)}: ${reasonOf(e)}`, diffs };
    }
  }
  return { applicable: true, diffs };
}

/**
 * Applies a plan only if every target is still the version the plan was computed against.
 * A target already in the desired state is a no-op; a changed one is a conflict (re-diagnose).
 * Each write carries its own precondition, so a change racing the check is refused by the server.
 */
export async function applyPlan(writer: ClusterWriter, plan: Plan): Promise<ApplyOutcome> {
  const currents: (RawObject | undefined)[] = [];
  for (const op of plan.operations) currents.push(await writer.read(op.target));
  if (plan.operations.every((op, i) => alreadyDone(op, currents[i]))) {
    return { status: 'noop', reason: 'every target is already in the desired state' };
  }
  for (const [i, op] of plan.operations.entries()) {
    const current = currents[i];
    if (op.action === 'create' && current && !createdAlready(op, current)) return { status: 'conflict', reason: `${refLabel(op.target)} already exists` };
    if (op.action !== 'create' && !current) return { status: 'conflict', reason: `${refLabel(op.target)} no longer exists` };
    const changed = changedSincePlan(op, current);
    if (changed) return { status: 'conflict', reason: `${refLabel(op.target)} changed since the diagnosis (${changed})` };
  }
  const changes: AppliedChange[] = [];
  for (const [i, op] of plan.operations.entries()) {
    if (op.action === 'create' && currents[i]) continue; // exists unchanged (checked above): not ours to create, nor to roll back
    try {
      const after = await writer.execute(guarded(op, currents[i]), false);
      changes.push({ operation: op, before: currents[i], after });
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'conflict' || e.code === 'invalid') && changes.length === 0) {
        return { status: 'conflict', reason: `${refLabel(op.target)} changed while applying: ${e.message}` };
      }
      return { status: 'failed', reason: `${refLabel(op.target)}: ${reasonOf(e)}`, changes };
    }
  }
  return { status: 'applied', changes };
}

/**
 * The plan that undoes applied changes: the prior spec restored only while the spec is still
 * the one the apply produced; created objects deleted. Same dry-run/apply discipline.
 */
/** The top-level fields a patch operation changes (`spec` for workloads, `data` for ConfigMaps, `subsets` for Endpoints). */
/**
 * The parts of the object a patch changes, as JSON pointers: top-level fields, and labels or annotations
 * under metadata (whose other fields the apiserver owns). A patch that names none restores the spec.
 */
function touchedFields(operation: Operation): string[] {
  const ops = Array.isArray(operation.patch) ? (operation.patch as { op: string; path: string }[]) : undefined;
  const paths = ops
    ? ops.filter((o) => o.op !== 'test').map((o) => o.path.split('/').slice(1))
    : Object.entries((operation.patch ?? {}) as Record<string, unknown>).flatMap(([k, v]) => (k === 'metadata' && v && typeof v === 'object' ? Object.keys(v).map((sub) => [k, sub]) : [[k]]));
  const fields = paths.flatMap(([top, sub]) => {
    if (!top || top === 'status') return [];
    if (top !== 'metadata') return [`/${top}`];
    return sub === 'labels' || sub === 'annotations' ? [`/metadata/${sub}`] : [];
  });
  return fields.length > 0 ? [...new Set(fields)] : ['/spec'];
}

/** The value at a one- or two-segment pointer (`/spec`, `/metadata/labels`); `present` false when it is absent. */
function at(object: RawObject | undefined, path: string): { present: boolean; value?: unknown } {
  let node: unknown = object;
  for (const key of path.split('/').slice(1)) {
    if (!node || typeof node !== 'object' || !(key in node)) return { present: false };
    node = (node as Record<string, unknown>)[key];
  }
  return { present: true, value: node };
}

/**
 * The delete that undoes a create: only of the object the apply created (its uid), and only while
 * its spec is as created (generation) or, for objects without a spec generation, while it is
 * unchanged (resourceVersion). The status a controller writes right after the create (a
 * DaemonSet's counts) does not block it.
 */
function deleteCreated(target: Operation['target'], created: RawObject): Operation {
  const uid = uidOf(created);
  const generation = generationOf(created);
  return { action: 'delete', target, ...(uid ? { uid } : {}), ...(generation !== undefined ? { generation } : { resourceVersion: resourceVersionOf(created) }) };
}

export function rollbackPlan(original: Plan, changes: AppliedChange[]): Plan {
  const operations: Operation[] = [...changes].reverse().map(({ operation, before, after }) => {
    const target = operation.target;
    if (operation.action === 'create') return deleteCreated(target, after);
    if (operation.action === 'delete' && before) {
      const { resourceVersion: _rv, uid: _uid, managedFields: _mf, creationTimestamp: _ct, ...metadata } = (before.metadata ?? {}) as Record<string, unknown>;
      return { action: 'create', target, body: { ...before, metadata, status: undefined } };
    }
    // Guarded by generation, not resourceVersion: controllers rewrite status (and so the
    // resourceVersion) all the time, but only a spec change moves the generation. Objects without
    // a generation (ConfigMaps, Endpoints) are guarded by the fields as the plan left them.
    const generation = (after.metadata as { generation?: number } | undefined)?.generation;
    const fields = touchedFields(operation);
    const guard = generation !== undefined ? [{ op: 'test', path: '/metadata/generation', value: generation }] : fields.flatMap((f) => (at(after, f).present ? [{ op: 'test', path: f, value: at(after, f).value }] : []));
    const restore = fields.flatMap((f) => {
      const [was, is] = [at(before, f), at(after, f)];
      return was.present ? [{ op: is.present ? 'replace' : 'add', path: f, value: was.value }] : is.present ? [{ op: 'remove', path: f }] : [];
    });
    return { action: 'patch', target, patchType: 'json', patch: [...guard, ...restore] };
  });
  return makePlan({
    summary: `Roll back: ${original.summary}`,
    risk: original.risk,
    effect: `Restores what ${original.id} changed. ${original.effect}`,
    operations,
    verify: { ...original.verify, check: original.verify.check },
  });
}
