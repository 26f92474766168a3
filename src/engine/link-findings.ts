import type { Finding, FindingDraft } from '../domain/finding';
import { SEVERITY_RANK } from '../domain/finding';
import { type ObjectRef, refKey, sameRef } from '../domain/object-ref';

export interface DraftOf {
  check: string;
  /** Position of the check in the workflow: breaks ties between equally severe causes. */
  order: number;
  draft: FindingDraft;
}

function findingId(check: string, subject: ObjectRef, taken: Set<string>): string {
  const base = `${check}/${refKey(subject)}`;
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}#${n}`;
  taken.add(id);
  return id;
}

const rank = (a: DraftOf, b: DraftOf): number =>
  SEVERITY_RANK[a.draft.severity] - SEVERITY_RANK[b.draft.severity] ||
  Number(b.draft.rootCause) - Number(a.draft.rootCause) ||
  a.order - b.order ||
  refKey(a.draft.subject).localeCompare(refKey(b.draft.subject));

const overlaps = (a: readonly ObjectRef[], b: readonly ObjectRef[]): boolean => a.some((x) => b.some((y) => sameRef(x, y)));

/** The objects a finding is about: its subject and what it explains (for a symptom: the objects it covers). */
const coveredBy = (d: DraftOf): ObjectRef[] => [d.draft.subject, ...(d.draft.explains ?? [])];

/** Does `cause` explain `effect`: its explains list holds the effect's subject or one of the objects the effect covers. */
function explainsFinding(cause: DraftOf, effect: DraftOf): boolean {
  return overlaps(cause.draft.explains ?? [], coveredBy(effect));
}

/** Is `cause` a finding about an object `effect` depends on (a Service's pods, a Pending pod's tainted Node). */
function dependsOnFinding(effect: DraftOf, cause: DraftOf): boolean {
  return cause !== effect && overlaps(effect.draft.dependsOn ?? [], coveredBy(cause));
}

/**
 * Turns check drafts into the report's findings. Root causes are settled first, in rank order
 * (a root that a better-ranked root explains hangs under it, one level deep, so no cycles).
 * Then each symptom gets its direct cause: a declared root that explains it, else a finding about
 * an object it depends on; following direct causes up gives the root it hangs under. A symptom
 * with no cause (or the first met on a cycle of symptoms) is promoted to a root cause. Declared
 * roots never hang under a symptom, so independent faults stay separate roots.
 * Roots are ordered by severity, then by how many findings they explain, then declared before promoted.
 */
export function linkFindings(drafts: DraftOf[]): Finding[] {
  const ordered = [...drafts].sort(rank);
  const taken = new Set<string>();
  const ids = new Map(ordered.map((d) => [d, findingId(d.check, d.draft.subject, taken)]));
  const declaredRoots = ordered.filter((d) => d.draft.rootCause);
  const rootParent = new Map<DraftOf, DraftOf>();
  for (const root of declaredRoots) {
    const cause = declaredRoots.find((r) => r !== root && !rootParent.has(r) && rank(r, root) < 0 && explainsFinding(r, root));
    if (cause) rootParent.set(root, cause);
  }
  const directCause = new Map<DraftOf, DraftOf>();
  for (const symptom of ordered.filter((d) => !d.draft.rootCause)) {
    const cause = declaredRoots.find((r) => explainsFinding(r, symptom)) ?? ordered.find((c) => dependsOnFinding(symptom, c));
    if (cause) directCause.set(symptom, cause);
  }
  const topOf = new Map<DraftOf, DraftOf>();
  const resolve = (d: DraftOf, path: Set<DraftOf>): DraftOf => {
    const known = topOf.get(d);
    if (known) return known;
    let top = d;
    if (d.draft.rootCause) top = rootParent.get(d) ?? d;
    else {
      const cause = directCause.get(d);
      if (cause && !path.has(cause)) top = resolve(cause, path.add(d));
    }
    topOf.set(d, top);
    return top;
  };
  const parent = new Map<DraftOf, DraftOf>();
  for (const d of ordered) {
    const top = resolve(d, new Set());
    if (top !== d) parent.set(d, top);
  }
  const symptomsOf = (d: DraftOf): DraftOf[] => ordered.filter((s) => parent.get(s) === d);
  const toFinding = (d: DraftOf): Finding => {
    const { explains, dependsOn: _dependsOn, plan, advice, ...rest } = d.draft;
    const cause = parent.get(d);
    return {
      ...rest,
      id: ids.get(d)!,
      check: d.check,
      rootCause: !cause,
      causedBy: cause ? ids.get(cause)! : null,
      symptoms: symptomsOf(d).map((s) => ids.get(s)!),
      explains: explains ?? [],
      advice: advice ?? [],
      plan: plan ?? null,
    };
  };
  const rootDrafts = ordered
    .filter((d) => !parent.has(d))
    .sort(
      (a, b) =>
        SEVERITY_RANK[a.draft.severity] - SEVERITY_RANK[b.draft.severity] ||
        symptomsOf(b).length - symptomsOf(a).length ||
        rank(a, b),
    );
  return [...rootDrafts.map(toFinding), ...rootDrafts.flatMap((r) => symptomsOf(r).map(toFinding))];
}
