import { Redis } from 'ioredis';
import { AuditLog } from '../../../src/store/audit-log';
import { silentLogger } from '../../../src/domain/run-context';
import { PlanLedger } from '../../../src/store/plan-ledger';

const prefix = `t${process.pid}ledger`;
const now = new Date('2026-11-25T10:00:00Z');
const entry = {
  planId: 'plan-0123456789abcdef',
  cluster: 'prod',
  requestedBy: 'UALICE',
  channel: 'C0123ABCD',
  dryRunAt: now.toISOString(),
  diffHash: 'abc',
  diff: '--- a\n+++ b',
  targets: [{ kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' }],
};

describe('PlanLedger and AuditLog on a real Redis', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL!);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('approves a proposed plan exactly once, however many clicks race for it', async () => {
    const ledger = new PlanLedger(redis, prefix, 3600);
    await ledger.propose(entry, now);
    const clicks = await Promise.all(
      ['UBOB', 'UCAROL', 'UBOB'].map((who) => ledger.transition('prod', entry.planId, ['proposed'], 'approved', { decidedBy: who }, now)),
    );
    expect(clicks.filter((c) => c.ok)).toHaveLength(1);
    expect(clicks.filter((c) => !c.ok)).toEqual([{ ok: false, state: 'approved' }, { ok: false, state: 'approved' }]);
    const winner = clicks.find((c) => c.ok);
    expect((await ledger.get('prod', entry.planId))?.decidedBy).toBe(winner?.ok ? winner.entry.decidedBy : undefined);
  });

  it('keeps the first proposal when a retried job proposes again, and knows no unknown plan', async () => {
    const ledger = new PlanLedger(redis, prefix, 3600);
    const again = await ledger.propose({ ...entry, diffHash: 'other' }, now);
    expect(again).toMatchObject({ diffHash: 'abc', state: 'approved' });
    expect(await ledger.transition('prod', 'plan-ffffffffffffffff', ['proposed'], 'approved', {}, now)).toEqual({ ok: false, state: 'missing' });
  });

  it('proposes afresh a plan that ended without changing anything', async () => {
    const ledger = new PlanLedger(redis, prefix, 3600);
    const id = 'plan-00000000000000aa';
    await ledger.propose({ ...entry, planId: id }, now);
    await ledger.transition('prod', id, ['proposed'], 'expired', {}, now);
    expect(await ledger.propose({ ...entry, planId: id, diffHash: 'fresh' }, now)).toMatchObject({ state: 'proposed', diffHash: 'fresh' });
  });

  it('refuses transitions that do not exist', async () => {
    const ledger = new PlanLedger(redis, prefix, 3600);
    await expect(ledger.transition('prod', entry.planId, ['rejected'], 'approved', {}, now)).rejects.toThrow(/no transition/);
  });

  it('appends audit entries and reads the newest first', async () => {
    const audit = new AuditLog(redis, `${prefix}:audit`, silentLogger, 100);
    await audit.append({ at: now.toISOString(), event: 'approved', cluster: 'prod', planId: entry.planId, actor: 'UBOB' });
    await audit.append({ at: now.toISOString(), event: 'applied', cluster: 'prod', planId: entry.planId, result: 'applied' });
    expect((await audit.recent(5)).map((e) => e.event)).toEqual(['applied', 'approved']);
  });
});
