import type { ObjectRef } from './object-ref';
import type { Plan } from './plan';

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, info: 2 };

/** What a finding saw, with the kubectl a human would run to see it too. */
export interface Evidence {
  type: 'object' | 'event' | 'log' | 'command';
  text: string;
  command?: string;
}

/** What a check returns: a finding before the engine links it into the report. */
export interface FindingDraft {
  severity: Severity;
  title: string;
  summary: string;
  subject: ObjectRef;
  evidence: Evidence[];
  /** A root cause (true) or a symptom that some root cause may explain (false). */
  rootCause: boolean;
  /** For root causes: the objects whose symptoms this cause explains (pods stuck, endpoints empty, …). */
  explains?: ObjectRef[];
  /** What a human should do when there is no exact plan (or in addition to it). */
  advice?: string[];
  plan?: Plan | null;
}

/** A finding as the report carries it. */
export interface Finding extends Omit<FindingDraft, 'explains' | 'plan'> {
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
