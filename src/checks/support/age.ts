/** Milliseconds from an RFC 3339 timestamp to `now`; undefined when the timestamp is missing or unparsable. */
export function ageMs(timestamp: string | undefined, now: Date): number | undefined {
  if (!timestamp) return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? undefined : now.getTime() - t;
}

/** `45s`, `12m`, `3h`, `5d`: the coarse age kubectl prints. */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined) return 'unknown time';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** How long a pod or agent may take to start before "still starting" becomes "stuck". */
export const START_GRACE_MS = 5 * 60_000;
