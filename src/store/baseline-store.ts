import { gunzipSync, gzipSync } from 'node:zlib';
import type { Cluster, Redis } from 'ioredis';
import { BASELINE_VERSION, type Baseline, type BaselineStore as BaselineStorePort } from '../domain/baseline';
import type { Logger } from '../domain/run-context';
import { clusterDataKey } from './keys';

export interface BaselineLimits {
  /** Healthy baselines kept per namespace, newest first. @defaultValue 5 */
  keep?: number;
  /** A compressed baseline larger than this is not kept (logged). @defaultValue 1 MiB */
  maxBytes?: number;
}

/**
 * Known-good baselines in Redis: a list per cluster and namespace of gzipped JSON, newest first,
 * trimmed to the last `keep`. No TTL: history is what it is for; a flush only loses it.
 */
export class BaselineStore implements BaselineStorePort {
  private readonly keep: number;
  private readonly maxBytes: number;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly queuePrefix: string,
    private readonly log: Logger,
    limits: BaselineLimits = {},
  ) {
    this.keep = limits.keep ?? 5;
    this.maxBytes = limits.maxBytes ?? 1024 * 1024;
  }

  private key(cluster: string, namespace: string): string {
    return clusterDataKey(this.queuePrefix, cluster, 'baselines', namespace);
  }

  async latest(cluster: string, namespace: string): Promise<Baseline | undefined> {
    const raw = await this.redis.lindexBuffer(this.key(cluster, namespace), 0);
    if (!raw) return undefined;
    const baseline = JSON.parse(gunzipSync(raw).toString('utf8')) as { version: number };
    // A baseline of another format version is history this release cannot compare with.
    return baseline.version === BASELINE_VERSION ? (baseline as Baseline) : undefined;
  }

  async save(cluster: string, namespace: string, baseline: Baseline): Promise<boolean> {
    const packed = gzipSync(JSON.stringify(baseline));
    if (packed.length > this.maxBytes) {
      this.log.warn({ cluster, namespace, bytes: packed.length, maxBytes: this.maxBytes }, 'healthy baseline too large to keep');
      return false;
    }
    const key = this.key(cluster, namespace);
    await this.redis.multi().lpush(key, packed).ltrim(key, 0, this.keep - 1).exec();
    return true;
  }

  /** The compressed size of a baseline as it would be stored (the bench measures it). */
  static packedBytes(baseline: Baseline): number {
    return gzipSync(JSON.stringify(baseline)).length;
  }
}
