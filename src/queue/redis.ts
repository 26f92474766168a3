import type { ConnectionOptions, RedisOptions as BullRedisOptions } from 'bullmq';
import { Cluster, type ClusterOptions, Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import type { RedisTarget } from '../domain/redis-target';
import type { Logger } from '../domain/run-context';

/** ioredis options that BullMQ's connection type accepts too. */
export type RedisOptions = IoRedisOptions & BullRedisOptions;

/** A client of any mode: one node or Sentinel-followed primary (Redis), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

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
const WORKER_ROLE = { maxRetriesPerRequest: null } as const;
/** Options for producer-side connections: fail fast while Redis is down (a Slack handler has 3 seconds). */
const PRODUCER_ROLE = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 } as const;

export function workerConnection(url: string): RedisOptions {
  return { ...redisOptions(url), ...WORKER_ROLE };
}

export function producerConnection(url: string): RedisOptions {
  return { ...redisOptions(url), ...PRODUCER_ROLE };
}

/** `worker`: commands wait for Redis (BullMQ workers need it); `producer`: commands fail fast. */
export type ConnectionRole = 'worker' | 'producer';

/**
 * Node options for a single-node or Sentinel target (ioredis finds the primary through the
 * Sentinels on every (re)connect).
 */
function nodeOptions(target: Exclude<RedisTarget, { mode: 'cluster' }>, role: ConnectionRole): RedisOptions {
  const roleOptions = role === 'worker' ? WORKER_ROLE : PRODUCER_ROLE;
  const password = target.password ? { password: target.password } : {};
  if (target.mode === 'single') return { ...redisOptions(target.url), ...password, ...roleOptions };
  return {
    sentinels: target.sentinels,
    name: target.name,
    ...password,
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...roleOptions,
  };
}

function clusterOptions(target: Extract<RedisTarget, { mode: 'cluster' }>, role: ConnectionRole): ClusterOptions {
  const password = target.password ? { password: target.password } : {};
  if (role === 'worker') return { redisOptions: { ...password, maxRetriesPerRequest: null } };
  return { enableOfflineQueue: false, redisOptions: { ...password, maxRetriesPerRequest: 1, connectTimeout: 5000 } };
}

/** A client of our own (stores, probes, Slack state); the caller closes it. */
export function redisClient(target: RedisTarget, role: ConnectionRole, extra: { lazyConnect?: boolean } = {}): RedisClient {
  if (target.mode === 'cluster') return new Cluster(target.nodes, { ...clusterOptions(target, role), ...extra });
  return new Redis({ ...nodeOptions(target, role), ...extra });
}

/** Under Redis Cluster, BullMQ needs each queue's prefix hash-tagged (queue/jobs.ts queueAddress). */
export function hashTaggedQueues(target: RedisTarget): boolean {
  return target.mode === 'cluster';
}

/**
 * BullMQ connections for one owner (a Producer, the workers of a process). BullMQ creates and
 * closes its own clients from options, but a Redis Cluster can only be handed over as a client,
 * which BullMQ treats as shared and never closes: those are kept here and closed by `close()`.
 */
export class BullConnections {
  private readonly clusters: Cluster[] = [];

  constructor(readonly target: RedisTarget) {}

  get hashTagged(): boolean {
    return hashTaggedQueues(this.target);
  }

  connection(role: ConnectionRole): ConnectionOptions {
    if (this.target.mode !== 'cluster') return nodeOptions(this.target, role);
    const cluster = new Cluster(this.target.nodes, clusterOptions(this.target, role));
    this.clusters.push(cluster);
    return cluster;
  }

  /** After the queues and workers are closed. */
  async close(): Promise<void> {
    const clusters = this.clusters.splice(0);
    await Promise.all(clusters.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

/** Where Redis is, for messages and logs (never a password). */
export function describeTarget(target: RedisTarget): string {
  const list = (nodes: { host: string; port: number }[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (target.mode === 'single') return `${safeRedisUrl(target.url)} (REDIS_URL)`;
  if (target.mode === 'sentinel') return `the primary of "${target.name}" via Sentinels ${list(target.sentinels)} (REDIS_SENTINELS)`;
  return `the Redis Cluster at ${list(target.nodes)} (REDIS_CLUSTER_NODES)`;
}

/** Redis as the operator must fix it: unreachable, or configured so BullMQ would lose jobs. */
export class RedisSetupError extends Error {
  readonly code = 'redis_setup';
  constructor(message: string) {
    super(message);
    this.name = 'RedisSetupError';
  }
}

/** Redis did not answer: at startup it may still be coming up (awaitRedis retries this one only). */
export class RedisUnreachableError extends RedisSetupError {}

export function unreachable(target: RedisTarget, cause: Error): RedisSetupError {
  return new RedisUnreachableError(`cannot reach Redis at ${describeTarget(target)}: ${cause.message}`);
}

/** A target from a bare URL (tests and callers that only know REDIS_URL). */
export function asTarget(target: RedisTarget | string): RedisTarget {
  return typeof target === 'string' ? { mode: 'single', url: target } : target;
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
export async function checkRedis(where: RedisTarget | string, timeoutMs = 5000): Promise<{ version: string; policy: string }> {
  const target = asTarget(where);
  const once = { lazyConnect: true, connectTimeout: timeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null };
  const client: RedisClient =
    target.mode === 'cluster'
      ? new Cluster(target.nodes, { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null, redisOptions: { ...clusterOptions(target, 'producer').redisOptions, connectTimeout: timeoutMs, maxRetriesPerRequest: 0 } })
      : new Redis({ ...nodeOptions(target, 'producer'), ...once, sentinelRetryStrategy: () => null });
  let cause: Error | undefined;
  client.on('error', (e: Error) => (cause = e)); // the socket error (ECONNREFUSED, …) behind connect()'s rejection
  const at = describeTarget(target);
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (e) {
      throw unreachable(target, cause ?? (e as Error));
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
        `Redis at ${at} has maxmemory-policy "${policy}"; netdoctor needs "noeviction" (an evicted key is a lost job). ` +
          'Run `CONFIG SET maxmemory-policy noeviction` (and persist it in redis.conf) or use a Redis without eviction.',
      );
    }
    const major = Number(version.split('.')[0]);
    if (Number.isFinite(major) && major < 5) throw new RedisSetupError(`Redis ${version} at ${at} is too old: BullMQ needs 5.0 or later`);
    return { version, policy: policy ?? 'unknown' };
  } finally {
    client.disconnect();
  }
}

/**
 * checkRedis at startup, when Redis may start beside us (a pod next to its StatefulSet): an
 * unreachable Redis is tried again every 2 s for up to `waitSeconds`, each try logged; what the
 * operator must change (eviction, version) fails at once, as does the last unreachable try.
 */
export async function awaitRedis(target: RedisTarget, waitSeconds: number, log: Logger): Promise<{ version: string; policy: string }> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await checkRedis(target);
    } catch (e) {
      const left = deadline - Date.now();
      if (!(e instanceof RedisUnreachableError) || left <= 0) throw e;
      log.warn({ attempt, err: e.message, waitingSeconds: Math.ceil(left / 1000) }, 'waiting for Redis');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, left)));
    }
  }
}
