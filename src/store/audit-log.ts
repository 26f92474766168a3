import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../domain/run-context';
import type { AuditEntry, AuditSink } from '../domain/stores';
import { sharedKey } from './keys';

/** The Redis key of the audit stream (one for every cluster; each entry names its cluster). */
export function auditKey(queuePrefix: string): string {
  return sharedKey(queuePrefix, 'audit');
}

/**
 * The stream of refused plan clicks, apart from the audit stream: anyone in a channel can click,
 * and their refusals must not push decisions and applies out of the audit's bounded retention.
 */
export function refusedClicksKey(queuePrefix: string): string {
  return `${queuePrefix}:audit:refused`;
}

/**
 * Append-only audit trail: a Redis stream with bounded retention (XADD MAXLEN ~) plus one
 * structured log line per entry, so the record survives in the log pipeline too.
 */
export class AuditLog implements AuditSink {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key: string,
    private readonly log: Logger,
    private readonly maxEntries = 10_000,
  ) {}

  async append(entry: AuditEntry): Promise<string> {
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxEntries), '*', 'entry', JSON.stringify(entry));
    this.log.info({ audit: entry, auditId: id }, `audit ${entry.event} ${entry.planId}`);
    return id ?? '';
  }

  /** The newest entries first. */
  async recent(count: number): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', count);
    return rows.map(([, fields]) => JSON.parse(fields[fields.indexOf('entry') + 1] ?? '{}') as AuditEntry);
  }
}
