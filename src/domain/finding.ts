import type { ObjectRef } from './object-ref';
import type { Plan } from './plan';

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, info: 2 };

/** What a finding saw, with the kubectl a human would run to see it too. */
export interface Evidence {
  /** `change`: a networking field that changed since the last healthy run, with who and when. */
  type: 'object' | 'event' | 'log' | 'command' | 'change';
  text: string;
  command?: string;
}

/** What a check returns: a finding before the engine links it into the report. */
export interface FindingDraft {
  /**
   * Stable fault code, UPPER-KEBAB prefixed by area (CNI-, NODE-, KP-, DNS-, SVC-, NP-, POD-, WL-, INTENT-):
   * one per distinct fault, unchanged across releases, so tests, metrics and the digest key on it.
   */
  code: string;
  severity: Severity;
  title: string;
  summary: string;
  subject: ObjectRef;
  evidence: Evidence[];
  /** A root cause (true) or a symptom that some root cause may explain (false). */
  rootCause: boolean;
  /** For root causes: the objects whose symptoms this cause explains (pods stuck, endpoints empty, …). */
  explains?: ObjectRef[];
  /**
   * For symptoms: the objects whose own faults would explain this one (a Service's backing pods and
   * workloads, the Node carrying the taint a Pending pod does not tolerate). A finding about one of
   * them becomes this symptom's cause, so a symptom never ranks above what causes it.
   */
  dependsOn?: ObjectRef[];
  /** What a human should do when there is no exact plan (or in addition to it). */
  advice?: string[];
  plan?: Plan | null;
}

/** A finding as the report carries it. */
export interface Finding extends Omit<FindingDraft, 'explains' | 'dependsOn' | 'plan'> {
  /** Stable across runs for the same check and subject: the digest compares runs by it. */
  id: string;
  check: string;
  causedBy: string | null;
  /** Ids of the symptom findings this root cause explains. */
  symptoms: string[];
  explains: ObjectRef[];
  advice: string[];
  plan: Plan | null;
}
