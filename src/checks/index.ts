import type { Check } from '../domain/check';

/** The catalog: an explicit, ordered list (no auto-discovery). Order breaks ties between equally severe root causes. */
export const CHECKS: readonly Check[] = [
];

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
