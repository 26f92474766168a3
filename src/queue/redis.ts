import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';

/** ioredis options that BullMQ's connection type accepts too. */
export type RedisOptions = IoRedisOptions & BullRedisOptions;

/** Connection options from a redis:// or rediss:// URL (BullMQ forbids ioredis `keyPrefix`; we use its `prefix`). */
export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Options for worker-side connections: commands wait out a Redis restart instead of failing (BullMQ requires this). */
export function workerConnection(url: string): RedisOptions {
  return { ...redisOptions(url), maxRetriesPerRequest: null };
}

/** Options for producer-side connections: fail fast while Redis is down (a Slack handler has 3 seconds). */
export function producerConnection(url: string): RedisOptions {
  return { ...redisOptions(url), enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 };
}

/** Redis as the operator must fix it: unreachable, or configured so BullMQ would lose jobs. */
export class RedisSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisSetupError';
  }
}

export function unreachable(url: string, cause: Error): RedisSetupError {
  return new RedisSetupError(`cannot reach Redis at ${safeRedisUrl(url)} (REDIS_URL): ${cause.message}`);
}

/** The URL without its password, for messages and logs. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Startup check: Redis answers, and evicts nothing (`maxmemory-policy noeviction`). BullMQ only
 * warns about eviction; an evicted job key is a lost job, so we refuse to start instead.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<{ version: string; policy: string }> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined;
  client.on('error', (e: Error) => (cause = e)); // the socket error (ECONNREFUSED, …) behind connect()'s rejection
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (e) {
      throw unreachable(url, cause ?? (e as Error));
    }
    const info = await client.info();
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    let policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
    if (!policy) {
      const reply = (await client.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
      policy = reply[1];
    }
    if (policy && policy !== 'noeviction') {
      throw new RedisSetupError(
        `Redis at ${safeRedisUrl(url)} has maxmemory-policy "${policy}"; netdoctor needs "noeviction" (an evicted key is a lost job). ` +
          'Run `CONFIG SET maxmemory-policy noeviction` (and persist it in redis.conf) or use a Redis without eviction.',
      );
    }
    const major = Number(version.split('.')[0]);
    if (Number.isFinite(major) && major < 5) throw new RedisSetupError(`Redis ${version} at ${safeRedisUrl(url)} is too old: BullMQ needs 5.0 or later`);
    return { version, policy: policy ?? 'unknown' };
  } finally {
    client.disconnect();
  }
}
