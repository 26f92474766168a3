import { UnrecoverableError } from 'bullmq';
import { ApiError, NetdoctorError } from '../domain/errors';

/** How a failed attempt is treated: retried with backoff, or final with a reason the user reads. */
export interface Failure {
  transient: boolean;
  /** User-facing: goes to ChatSurface.failRun and the failed job's reason. */
  reason: string;
  /** From Retry-After (apiserver or Slack), when the other side said when to come back. */
  retryAfterMs?: number;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The duck-typed contract for adapters (the Slack surface, …): an Error with `transient: true`
 * is retried; `retryAfterSeconds` or `retryAfterMs` delays the retry. Anything with
 * `transient: false` is final.
 */
interface MaybeTransient {
  transient?: unknown;
  retryAfterSeconds?: unknown;
  retryAfterMs?: unknown;
  code?: unknown;
}

function retryAfter(e: MaybeTransient): number | undefined {
  if (typeof e.retryAfterMs === 'number' && e.retryAfterMs > 0) return e.retryAfterMs;
  if (typeof e.retryAfterSeconds === 'number' && e.retryAfterSeconds > 0) return e.retryAfterSeconds * 1000;
  return undefined;
}

/** A 403/404/… from the apiserver, in words a Slack user can act on. */
function apiReason(e: ApiError, namespace?: string): string {
  const where = namespace ? ` in namespace ${namespace}` : '';
  if (e.code === 'unauthorized') return 'the apiserver rejected the bot\'s credentials (401): check its ServiceAccount token or kubeconfig';
  if (e.code === 'forbidden') {
    // The Status message reads `… cannot list resource "pods" in API group "" in the namespace "triton"`.
    const m = /cannot ([a-z]+) resource "([a-z0-9.-]+)"/.exec(e.message);
    const what = m ? `${m[1]} ${m[2]}` : 'read what this workflow needs';
    return `the bot's ServiceAccount may not ${what}${where} (403 Forbidden): add the netdoctor-reader binding`;
  }
  if (e.code === 'not_found') return `the apiserver does not serve what this workflow needs${where} (404 ${e.reason || 'NotFound'})`;
  return `the apiserver refused the request (${e.status} ${e.reason})`.trim();
}

export function classify(err: unknown, namespace?: string): Failure {
  if (err instanceof UnrecoverableError) return { transient: false, reason: err.message };
  if (err instanceof ApiError) {
    const after = err.retryAfterSeconds ? err.retryAfterSeconds * 1000 : undefined;
    if (err.transient) return { transient: true, reason: `the apiserver is not answering (${err.status} ${err.reason})`.trim(), ...(after ? { retryAfterMs: after } : {}) };
    return { transient: false, reason: apiReason(err, namespace) };
  }
  if (err instanceof NetdoctorError) {
    // An unreachable apiserver is worth another try; every other NetdoctorError is the user's to fix.
    return { transient: err.code === 'cluster_unreachable', reason: err.message };
  }
  const e = (err ?? {}) as MaybeTransient & Error;
  if (typeof e.transient === 'boolean') {
    const after = retryAfter(e);
    return { transient: e.transient, reason: e.message || 'the chat service failed', ...(after ? { retryAfterMs: after } : {}) };
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return { transient: true, reason: `network error (${e.code})` };
  // Unknown errors get the retries too (a diagnosis is read-only), but the reason stays generic:
  // a stack trace or an apiserver body is not for the channel.
  return { transient: true, reason: 'netdoctor failed unexpectedly; the operators can find the details in the worker log' };
}

/** BullMQ backoff for type `netdoctor`: Retry-After when given, else exponential from `baseMs`, capped. */
export function backoffStrategy(baseMs: number, capMs = 60_000): (attemptsMade: number, type?: string, err?: Error) => number {
  return (attemptsMade, _type, err) => {
    const after = err ? classify(err).retryAfterMs : undefined;
    if (after !== undefined) return Math.min(after, 10 * capMs);
    return Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), capMs);
  };
}
