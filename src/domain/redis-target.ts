/** A Redis node or Sentinel address. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where netdoctor's Redis is, in one of three modes (config.ts builds it from the environment;
 * queue/redis.ts turns it into ioredis/BullMQ connections):
 * - `single`: one node (REDIS_URL);
 * - `sentinel`: the current primary of a Sentinel-monitored group (REDIS_SENTINELS, REDIS_SENTINEL_NAME);
 * - `cluster`: a Redis Cluster (REDIS_CLUSTER_NODES); every multi-key operation stays inside one hash slot.
 */
export type RedisTarget =
  | { mode: 'single'; url: string; password?: string }
  | { mode: 'sentinel'; sentinels: HostPort[]; name: string; password?: string; sentinelPassword?: string }
  | { mode: 'cluster'; nodes: HostPort[]; password?: string };
