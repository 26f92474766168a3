import { Redis } from 'ioredis';
import { BASELINE_VERSION, type Baseline } from '../../../src/domain/baseline';
import { silentLogger } from '../../../src/domain/run-context';
import { BaselineStore } from '../../../src/store/baseline-store';
import { clusterDataKey } from '../../../src/store/keys';

const prefix = `t${process.pid}baselines`;
const baseline = (takenAt: string, selector = 'mysql'): Baseline => ({
  version: BASELINE_VERSION,
  namespace: 'triton',
  takenAt,
  objects: [{ ref: { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: 'mysql' }, fields: { '/spec/selector': { name: selector } } }],
});

describe('BaselineStore on a real Redis', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL!);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('keeps the newest N gzipped under the cluster data prefix and reads back the newest', async () => {
    const store = new BaselineStore(redis, prefix, silentLogger, { keep: 2 });
    for (const at of ['2026-11-30T08:00:00Z', '2026-11-30T09:00:00Z', '2026-11-30T10:00:00Z']) expect(await store.save('lab', 'triton', baseline(at))).toBe(true);
    const key = clusterDataKey(prefix, 'lab', 'baselines', 'triton');
    expect(await redis.llen(key)).toBe(2);
    expect((await redis.lindexBuffer(key, 0))!.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip magic
    expect(await store.latest('lab', 'triton')).toEqual(baseline('2026-11-30T10:00:00Z'));
    expect(await store.latest('lab', 'other')).toBeUndefined();
  });

  it('refuses a baseline over the size cap and stores nothing', async () => {
    const store = new BaselineStore(redis, prefix, silentLogger, { maxBytes: 64 });
    expect(await store.save('capped', 'triton', baseline('2026-11-30T10:00:00Z'))).toBe(false);
    expect(await store.latest('capped', 'triton')).toBeUndefined();
  });

  it('after a flush there is no history, and that is all', async () => {
    const store = new BaselineStore(redis, prefix, silentLogger);
    await store.save('flushed', 'triton', baseline('2026-11-30T10:00:00Z'));
    await redis.del(clusterDataKey(prefix, 'flushed', 'baselines', 'triton'));
    expect(await store.latest('flushed', 'triton')).toBeUndefined();
    expect(await store.save('flushed', 'triton', baseline('2026-11-30T11:00:00Z', 'db'))).toBe(true);
    expect(await store.latest('flushed', 'triton')).toEqual(baseline('2026-11-30T11:00:00Z', 'db'));
  });
});
