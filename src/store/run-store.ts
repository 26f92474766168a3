import type { Cluster, Redis } from 'ioredis';
import { PLAN_ID } from '../domain/plan';
import { clusterDataKey } from './keys';
import type { Report } from '../domain/report';
import type { DigestRecord, RunStore as RunStorePort, StoredPlan } from '../domain/stores';

export type DayClaim = 'claimed' | 'taken' | 'done';

/**
 * Reports, plans and digest history in Redis, next to the cluster's queues
 * (`{<prefix>:<cluster>}:data:…`: one hash slot per cluster, so the MULTIs below work under
 * Redis Cluster). Reports and plans expire after the configured TTL.
 */
export class RunStore implements RunStorePort {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly queuePrefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(cluster: string, ...parts: string[]): string {
    return clusterDataKey(this.queuePrefix, cluster, ...parts);
  }

  /** Stores the report and each of its plans (by plan id) with the TTL. */
  async storeReport(cluster: string, runId: string, report: Report, now: Date = new Date()): Promise<void> {
    const multi = this.redis.multi().set(this.key(cluster, 'report', runId), JSON.stringify(report), 'EX', this.ttlSeconds);
    for (const finding of report.findings) {
      if (!finding.plan) continue;
      const stored: StoredPlan = {
        plan: finding.plan,
        cluster,
        runId,
        findingId: finding.id,
        ...(report.target.namespace ? { namespace: report.target.namespace } : {}),
        storedAt: now.toISOString(),
      };
      multi.set(this.key(cluster, 'plan', finding.plan.id), JSON.stringify(stored), 'EX', this.ttlSeconds);
    }
    await multi.exec();
  }

  async loadReport(cluster: string, runId: string): Promise<Report | undefined> {
    const raw = await this.redis.get(this.key(cluster, 'report', runId));
    return raw ? (JSON.parse(raw) as Report) : undefined;
  }

  /** The plan a button's opaque id refers to, or undefined when unknown or expired. */
  async loadPlan(cluster: string, planId: string): Promise<StoredPlan | undefined> {
    if (!PLAN_ID.test(planId)) return undefined;
    const raw = await this.redis.get(this.key(cluster, 'plan', planId));
    return raw ? (JSON.parse(raw) as StoredPlan) : undefined;
  }

  /** True for the first caller only (per key, for a day): one notice however many workers saw the event. */
  async claimOnce(cluster: string, what: string): Promise<boolean> {
    return (await this.redis.set(this.key(cluster, 'once', what), '1', 'EX', 24 * 3600, 'NX')) === 'OK';
  }

  /**
   * Claims the day's digest for one job: the first job of the day wins; a retry or a recovered
   * run of the same job keeps its claim; any other job is refused.
   */
  async claimDigestDay(cluster: string, day: string, jobId: string): Promise<DayClaim> {
    const key = this.key(cluster, 'digest-day', day);
    const set = await this.redis.set(key, jobId, 'EX', 3 * 24 * 3600, 'NX');
    if (set === 'OK') return 'claimed';
    const owner = await this.redis.get(key);
    if (owner === jobId) return 'claimed';
    if (owner === `done:${jobId}`) return 'done';
    return 'taken';
  }

  async finishDigestDay(cluster: string, day: string, jobId: string): Promise<void> {
    await this.redis.set(this.key(cluster, 'digest-day', day), `done:${jobId}`, 'EX', 3 * 24 * 3600);
  }

  /** Gives the day back after a digest finally failed, so a later tick may still post one. */
  async releaseDigestDay(cluster: string, day: string, jobId: string): Promise<void> {
    const key = this.key(cluster, 'digest-day', day);
    if ((await this.redis.get(key)) === jobId) await this.redis.del(key);
  }

  /** The cluster's digests, oldest first. */
  async digestHistory(cluster: string): Promise<DigestRecord[]> {
    const raw = await this.redis.lrange(this.key(cluster, 'digests'), 0, -1);
    return raw.map((r) => JSON.parse(r) as DigestRecord);
  }

  /** Appends a digest (replacing one of the same day) and keeps the newest `keep`. */
  async appendDigest(cluster: string, record: DigestRecord, keep: number): Promise<void> {
    const key = this.key(cluster, 'digests');
    const last = await this.redis.lindex(key, -1);
    const multi = this.redis.multi();
    if (last && (JSON.parse(last) as DigestRecord).day === record.day) multi.rpop(key);
    await multi.rpush(key, JSON.stringify(record)).ltrim(key, -keep, -1).exec();
  }
}
