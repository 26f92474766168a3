import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../domain/run-context';
import { clusterKey } from './keys';

/**
 * The namespaces each cluster had when a process with cluster access last looked, kept in Redis
 * so `/netdoctor <ns>` can refuse a typo at once without the front end reading the cluster.
 * Absent or expired: the front end does not guess, it queues, and the worker reports a missing
 * namespace on the parent message.
 */
export interface NamespaceDirectory {
  known(cluster: string): Promise<{ namespaces: readonly string[]; at: string } | undefined>;
  publish(cluster: string, namespaces: readonly string[], at: Date): Promise<void>;
}

export function redisNamespaceDirectory(redis: Redis | Cluster, prefix: string, ttlSeconds = 120): NamespaceDirectory {
  const key = (cluster: string): string => clusterKey(prefix, cluster, 'namespaces');
  return {
    async known(cluster) {
      const raw = await redis.get(key(cluster));
      if (!raw) return undefined;
      const parsed = JSON.parse(raw) as { namespaces?: unknown; at?: unknown };
      if (!Array.isArray(parsed.namespaces) || typeof parsed.at !== 'string') return undefined;
      return { namespaces: parsed.namespaces.filter((n): n is string => typeof n === 'string'), at: parsed.at };
    },
    async publish(cluster, namespaces, at) {
      await redis.set(key(cluster), JSON.stringify({ namespaces: [...namespaces].sort(), at: at.toISOString() }), 'EX', ttlSeconds);
    },
  };
}

export interface NamespacePublisherOptions {
  cluster: string;
  directory: NamespaceDirectory;
  /** Lists the cluster's namespace names (one LIST; throws when the cluster cannot be read). */
  list: () => Promise<string[]>;
  log: Logger;
  /** @defaultValue 30 s (the directory's TTL is longer, so one failed refresh does not empty it). */
  intervalMs?: number;
  clock?: () => Date;
}

/** Refreshes the directory now and then every interval until stopped; failures are logged, never thrown. */
export function startNamespacePublisher(options: NamespacePublisherOptions): { ready: Promise<void>; stop(): Promise<void> } {
  const { cluster, directory, list, log, intervalMs = 30_000, clock = () => new Date() } = options;
  let running: Promise<void> = Promise.resolve();
  const refresh = (): void => {
    running = (async () => {
      try {
        await directory.publish(cluster, await list(), clock());
      } catch (err) {
        log.warn({ err, cluster }, 'could not refresh the namespace list; /netdoctor falls back to the worker\'s check');
      }
    })();
  };
  refresh();
  const ready = running;
  const timer = setInterval(refresh, intervalMs);
  timer.unref();
  return {
    ready,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
