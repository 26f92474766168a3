import type { JsonPatchOp } from '../checks/support/json-patch';
import { type Baseline, type FieldChange, changeLine, clockTime } from '../domain/baseline';
import { type Evidence, type Finding, SEVERITY_RANK } from '../domain/finding';
import { type ObjectRef, kubectl, refLabel, sameRef, shellWord } from '../domain/object-ref';
import { type Operation, type Plan, makePlan } from '../domain/plan';
import { fieldValues } from './changes-since';

export function changeEvidence(change: FieldChange, since: string): Evidence {
  const command = change.path === '' ? kubectl.list(change.ref.kind, change.ref.namespace) : `${kubectl.get(change.ref)} ${shellWord('--show-managed-fields')}`;
  return { type: 'change', text: changeLine(change, since), command };
}

const touches = (f: Finding, ref: ObjectRef): boolean => sameRef(f.subject, ref) || f.explains.some((e) => sameRef(e, ref));

/** Restoring status or a whole object is not a patch netdoctor can make. */
const restorable = (c: FieldChange): boolean => c.path !== '' && !c.path.startsWith('/status');

/** JSON patch ops back to the healthy value, each guarded by a `test` (or `remove`) of the current one. */
function restoreOps(previous: Baseline, current: Baseline, change: FieldChange): JsonPatchOp[] {
  const { healthy, now } = fieldValues(previous, current, change);
  if (now === undefined) return [{ op: 'add', path: change.path, value: healthy }];
  const guard: JsonPatchOp = { op: 'test', path: change.path, value: now };
  return healthy === undefined ? [guard, { op: 'remove', path: change.path }] : [guard, { op: 'replace', path: change.path, value: healthy }];
}

const WAIT_FOR: Record<string, Plan['verify']['waitFor']> = { Service: 'endpoints', Deployment: 'rollout', DaemonSet: 'rollout', StatefulSet: 'rollout' };

/** "Restore these fields to the last healthy values": one guarded JSON patch per changed object the finding touches. */
function restorePlan(finding: Finding, changes: FieldChange[], previous: Baseline, current: Baseline, resourceVersionOf: (ref: ObjectRef) => string | undefined): Plan | null {
  const byObject = new Map<string, FieldChange[]>();
  for (const c of changes.filter(restorable)) byObject.set(refLabel(c.ref), [...(byObject.get(refLabel(c.ref)) ?? []), c]);
  if (byObject.size === 0) return null;
  const operations: Operation[] = [...byObject.values()].map((list) => {
    const ref = list[0]!.ref;
    const target = current.objects.find((o) => sameRef(o.ref, ref))!.ref;
    return { action: 'patch', target, patchType: 'json', patch: list.flatMap((c) => restoreOps(previous, current, c)), resourceVersion: resourceVersionOf(ref) };
  });
  const fields = [...byObject.entries()].map(([label, list]) => `${label} ${list.map((c) => c.field).join(', ')}`).join('; ');
  return makePlan({
    summary: `Restore ${fields} to the last healthy values (${clockTime(previous.takenAt)})`,
    risk: 'high',
    effect: `the fields go back to what they were when the last run found the namespace healthy, undoing the changes since; anything else that depended on the new values breaks`,
    operations,
    verify: { check: finding.check, subject: finding.subject, waitFor: WAIT_FOR[finding.subject.kind] ?? 'none' },
  });
}

/**
 * Changes since the last healthy baseline become evidence (first) on every finding whose subject
 * or explained objects they touch; a root cause without an exact plan gets a restore plan; roots
 * with changes rank first within their severity. The rest are the report's unexplained changes.
 */
export function attachChanges(
  findings: readonly Finding[],
  changes: readonly FieldChange[],
  previous: Baseline,
  current: Baseline,
  resourceVersionOf: (ref: ObjectRef) => string | undefined,
): { findings: Finding[]; unexplained: FieldChange[] } {
  const explained = new Set<FieldChange>();
  const withChanges = findings.map((f) => {
    const mine = changes.filter((c) => touches(f, c.ref));
    if (mine.length === 0) return f;
    for (const c of mine) explained.add(c);
    const plan = f.plan ?? (f.rootCause ? restorePlan(f, mine, previous, current, resourceVersionOf) : null);
    return { ...f, evidence: [...mine.map((c) => changeEvidence(c, previous.takenAt)), ...f.evidence], plan };
  });
  const changed = new Set(withChanges.filter((f, i) => f !== findings[i]).map((f) => f.id));
  const roots = withChanges
    .filter((f) => f.rootCause)
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_RANK[a.f.severity] - SEVERITY_RANK[b.f.severity] || Number(changed.has(b.f.id)) - Number(changed.has(a.f.id)) || a.i - b.i)
    .map(({ f }) => f);
  const byId = new Map(withChanges.map((f) => [f.id, f]));
  const ordered = [...roots, ...roots.flatMap((r) => r.symptoms.map((id) => byId.get(id)!))];
  return { findings: ordered, unexplained: changes.filter((c) => !explained.has(c)) };
}
