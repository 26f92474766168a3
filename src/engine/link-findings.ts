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

/** Does `cause` explain `effect`: its explains list holds the effect's subject or one of the objects the effect covers. */
function explainsFinding(cause: DraftOf, effect: DraftOf): boolean {
  const covered = [effect.draft.subject, ...(effect.draft.explains ?? [])];
  return (cause.draft.explains ?? []).some((e) => covered.some((c) => sameRef(e, c)));
}

/**
 * Turns check drafts into the report's findings. Root causes are settled first, in rank order
 * (a root that a better-ranked root explains hangs under it, one level deep, so no cycles);
 * then every symptom hangs under the root that explains it, whatever their relative severity.
 * A symptom nothing explains is promoted to a root cause.
 */
export function linkFindings(drafts: DraftOf[]): Finding[] {
  const ordered = [...drafts].sort(rank);
  const taken = new Set<string>();
  const ids = new Map(ordered.map((d) => [d, findingId(d.check, d.draft.subject, taken)]));
  const parent = new Map<DraftOf, DraftOf>();
  const declaredRoots = ordered.filter((d) => d.draft.rootCause);
  for (const root of declaredRoots) {
    const cause = declaredRoots.find((r) => r !== root && !parent.has(r) && rank(r, root) < 0 && explainsFinding(r, root));
    if (cause) parent.set(root, cause);
  }
  for (const symptom of ordered.filter((d) => !d.draft.rootCause)) {
    const cause = declaredRoots.find((r) => explainsFinding(r, symptom));
    if (cause) parent.set(symptom, parent.get(cause) ?? cause);
  }
  const toFinding = (d: DraftOf): Finding => {
    const { explains, plan, advice, ...rest } = d.draft;
    const cause = parent.get(d);
    return {
      ...rest,
      id: ids.get(d)!,
      check: d.check,
      rootCause: !cause,
      causedBy: cause ? ids.get(cause)! : null,
      symptoms: ordered.filter((s) => parent.get(s) === d).map((s) => ids.get(s)!),
      explains: explains ?? [],
      advice: advice ?? [],
      plan: plan ?? null,
    };
  };
  const roots = ordered.filter((d) => !parent.has(d)).map(toFinding);
  const symptoms = roots.flatMap((r) => ordered.filter((d) => parent.has(d) && ids.get(parent.get(d)!) === r.id).map(toFinding));
  return [...roots, ...symptoms];
}
