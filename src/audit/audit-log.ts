import type { Redis } from 'ioredis';
import type { Logger } from '../domain/run-context';

/** One decision or apply, as auditors read it. */
export interface AuditEntry {
  at: string;
  event: 'proposed' | 'approved' | 'rejected' | 'denied' | 'applied' | 'noop' | 'conflict' | 'failed' | 'verified' | 'rolled-back' | 'rollback-failed';
  cluster: string;
  planId: string;
  diffHash?: string;
  requestedBy?: string;
  actor?: string;
  channel?: string;
  messageTs?: string;
  /** Targets with their resourceVersions before and after the write. */
  targets?: { ref: string; resourceVersionBefore?: string; resourceVersionAfter?: string }[];
  result?: string;
  verdict?: string;
  reason?: string;
}

/**
 * Append-only audit trail: a Redis stream with bounded retention (XADD MAXLEN ~) plus one
 * structured log line per entry, so the record survives in the log pipeline too.
 */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
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
