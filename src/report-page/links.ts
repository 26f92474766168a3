import { createHmac, timingSafeEqual } from 'node:crypto';

import type { PageRef } from '../domain/page-ref';

export type { PageRef };

/**
 * Signs and checks page links. The HMAC covers what the page shows (kind, cluster, run id or
 * day) and the expiry, with a key that lives only in the process environment (never in Redis):
 * whoever can read Redis still cannot mint a link, and a link opens exactly one page until it expires.
 */
export class PageLinks {
  constructor(
    private readonly key: string,
    /** Public base URL of the page server, ending in `/`. */
    private readonly baseUrl: string,
    private readonly lifetimeSeconds: number,
  ) {}

  private mac(ref: PageRef, exp: number): Buffer {
    const id = ref.kind === 'run' ? ref.runId : ref.day;
    return createHmac('sha256', this.key).update([ref.kind, ref.cluster, id, String(exp)].join('\n')).digest();
  }

  /** The page's path and query (`/runs/<runId>?cluster=…&exp=…&sig=…`). */
  path(ref: PageRef, now: Date): string {
    const exp = Math.floor(now.getTime() / 1000) + this.lifetimeSeconds;
    const sig = this.mac(ref, exp).toString('base64url');
    const where = ref.kind === 'run' ? `runs/${encodeURIComponent(ref.runId)}` : `digests/${encodeURIComponent(ref.day)}`;
    return `/${where}?cluster=${encodeURIComponent(ref.cluster)}&exp=${exp}&sig=${sig}`;
  }

  /** The absolute link Slack shows. */
  url(ref: PageRef, now: Date): string {
    return `${this.baseUrl}${this.path(ref, now).slice(1)}`;
  }

  /**
   * The page a request's path and query open, or undefined for anything else: unknown paths,
   * missing or malformed parameters, a bad signature, an expired link all look the same.
   */
  verify(pathAndQuery: string, now: Date): PageRef | undefined {
    let url: URL;
    try {
      url = new URL(pathAndQuery, 'http://page.invalid');
    } catch {
      return undefined;
    }
    const m = /^\/(runs|digests)\/([^/]+)$/.exec(url.pathname);
    const cluster = url.searchParams.get('cluster');
    const expRaw = url.searchParams.get('exp');
    const sig = url.searchParams.get('sig');
    if (!m || !cluster || !expRaw || !sig || !/^\d{1,12}$/.test(expRaw)) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(m[2]!);
    } catch {
      return undefined;
    }
    const exp = Number(expRaw);
    if (exp * 1000 <= now.getTime()) return undefined;
    const ref: PageRef = m[1] === 'runs' ? { kind: 'run', cluster, runId: id } : { kind: 'digest', cluster, day: id };
    const given = Buffer.from(sig, 'base64url');
    const expected = this.mac(ref, exp);
    return given.length === expected.length && timingSafeEqual(given, expected) ? ref : undefined;
  }
}
