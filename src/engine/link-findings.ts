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
 * Turns check drafts into the report's findings: symptoms hang under the best-ranked root cause
 * that explains them (one level deep, so no cycles), a symptom nothing explains is promoted to
 * a root cause, and root causes come first by severity.
 */
export function linkFindings(drafts: DraftOf[]): Finding[] {
  const ordered = [...drafts].sort(rank);
  const taken = new Set<string>();
  const ids = new Map(ordered.map((d) => [d, findingId(d.check, d.draft.subject, taken)]));
  const parent = new Map<DraftOf, DraftOf>();
  const finalRoots: DraftOf[] = [];
  for (const d of ordered) {
    const cause = finalRoots.find((r) => r !== d && explainsFinding(r, d));
    if (cause) parent.set(d, cause);
    else if (d.draft.rootCause || !ordered.some((r) => r.draft.rootCause && r !== d && explainsFinding(r, d))) finalRoots.push(d);
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
