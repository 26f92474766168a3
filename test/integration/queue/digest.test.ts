import { join } from 'node:path';
import { JobScheduler, Queue, QueueEvents } from 'bullmq';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { type Config, loadConfig } from '../../../src/config';
import { type Logger, silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { digestItems } from '../../../src/engine/digest';
import { queueAddress } from '../../../src/queue/jobs';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { asTarget, redisClient, workerConnection } from '../../../src/queue/redis';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { sharedRedisUrl } from '../../support/redis';
import { SCENARIO_DIR } from '../../support/scenarios';

jest.setTimeout(60_000);

const PREFIX = `t${process.pid}-digest`;
const dump = (name: string): string => join(SCENARIO_DIR, name);

/** What the cluster-health workflow finds in a scenario, as digest item ids. */
async function idsOf(scenario: string): Promise<string[]> {
  const workflow = loadWorkflows(CHECKS).get('cluster-health')!;
  const report = await diagnose({ runId: 'expect', log: silentLogger, clock: () => new Date() }, new DumpReader(dump(scenario)), workflow, {});
  return digestItems(report).map((i) => i.id).sort();
}

const ids = (items: { id: string }[]): string[] => items.map((i) => i.id).sort();

let producer: Producer;
const running: RunningWorkers[] = [];
const queueEvents: QueueEvents[] = [];

function configFor(cluster: string, cron: string): Config {
  return loadConfig({
    REDIS_URL: sharedRedisUrl(),
    NETDOCTOR_QUEUE_PREFIX: PREFIX,
    NETDOCTOR_CLUSTER: cluster,
    NETDOCTOR_DIGEST_CHANNEL: 'C0DIGEST',
    NETDOCTOR_DIGEST_CRON: cron,
    NETDOCTOR_DIGEST_TIMEZONE: 'Europe/Berlin',
    NETDOCTOR_DIGEST_HISTORY: '3',
  });
}

/** Counts a queue's completed jobs as they happen. */
async function completions(config: Config): Promise<{ count: () => number; atLeast: (n: number) => Promise<void> }> {
  const at = queueAddress(config.queuePrefix, config.cluster, 'digest');
  const events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
  queueEvents.push(events);
  await events.waitUntilReady();
  let count = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  events.on('completed', () => {
    count++;
    for (const w of waiters.filter((x) => count >= x.n)) w.resolve();
    waiters = waiters.filter((x) => count < x.n);
  });
  return {
    count: () => count,
    atLeast: (n) => (count >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

beforeAll(async () => {
  producer = await Producer.connect(producerOptions(configFor('lab-a', '0 9 * * *')));
});

afterAll(async () => {
  for (const w of running) await w.close();
  for (const e of queueEvents) await e.close();
  for (const cluster of ['lab-a', 'lab-b', 'lab-c']) await (await producer?.queue(cluster, 'digest'))?.obliterate({ force: true });
  await producer?.close();
});

describe('daily digest (real Redis)', () => {
  it('reports new, resolved and persisting findings across days as the cluster changes, with a bounded trend', async () => {
    const config = configFor('lab-a', '0 9 1 1 *');
    let now = new Date('2026-03-01T08:30:00Z');
    let scenario = 'triton-cni-missing';
    const surface = new RecordingSurface();
    running.push(await startWorkers({ config, surface, log: silentLogger, clock: () => now, readerFor: () => new DumpReader(dump(scenario)) }));
    const done = await completions(config);
    const digestOn = async (day: Date, name: string) => {
      now = day;
      scenario = name;
      await producer.triggerDigestNow('lab-a');
      await done.atLeast(surface.of('publishDigest').length + 1);
      return surface.of('publishDigest').at(-1)!;
    };

    const cni = await idsOf('triton-cni-missing');
    const proxy = await idsOf('triton-kube-proxy-config');
    expect(cni).toContain('cni-not-running/DaemonSet/kube-system/weave-net');
    expect(proxy).toContain('kube-proxy-config-path/DaemonSet/kube-system/kube-proxy');

    const day1 = await digestOn(new Date('2026-03-01T08:30:00Z'), 'triton-cni-missing');
    expect(day1.channel).toBe('C0DIGEST');
    expect(day1.digest).toMatchObject({ cluster: 'lab-a', day: '2026-03-01', resolved: [], persisting: [] });
    expect(ids(day1.digest.newFindings)).toEqual(cni);

    const day2 = await digestOn(new Date('2026-03-02T08:30:00Z'), 'triton-cni-missing');
    expect(day2.digest.newFindings).toEqual([]);
    expect(day2.digest.resolved).toEqual([]);
    expect(ids(day2.digest.persisting)).toEqual(cni);

    // 23:30 UTC on the 2nd is already the 3rd in Berlin: the digest's day follows the schedule's time zone.
    const day3 = await digestOn(new Date('2026-03-02T23:30:00Z'), 'triton-kube-proxy-config');
    expect(day3.digest.day).toBe('2026-03-03');
    expect(ids(day3.digest.newFindings)).toEqual(proxy.filter((id) => !cni.includes(id)));
    expect(ids(day3.digest.resolved)).toEqual(cni.filter((id) => !proxy.includes(id)));
    expect(ids(day3.digest.persisting)).toEqual(proxy.filter((id) => cni.includes(id)));

    const day4 = await digestOn(new Date('2026-03-04T08:30:00Z'), 'healthy');
    expect(day4.digest.newFindings).toEqual([]);
    expect(ids(day4.digest.resolved)).toEqual(proxy);
    // History keeps 3 digests: the trend is the last three days, today last.
    expect(day4.digest.trend.map((t) => t.day)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04']);
    expect(day4.digest.trend.at(-1)!.rootCauses).toBe(0);
    expect(day4.digest.trend[0]!.rootCauses).toBeGreaterThan(0);
    expect((await producer.digestHistory('lab-a')).map((r) => r.day)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04']);
  });

  it('the scheduler fires on its cron, and two workers post one digest per cluster per day', async () => {
    // Every second: many ticks land on the same injected day.
    const config = configFor('lab-b', '* * * * * *');
    let now = new Date('2026-05-10T07:00:00Z');
    const surfaces = [new RecordingSurface(), new RecordingSurface()];
    const done = await completions(config);
    for (const surface of surfaces) {
      running.push(await startWorkers({ config, surface, log: silentLogger, clock: () => now, readerFor: () => new DumpReader(dump('triton-cni-missing')) }));
    }
    // Either worker may post either day: order the posts by day, not by which worker posted.
    const posted = () => surfaces.flatMap((s) => s.of('publishDigest')).sort((a, b) => a.digest.day.localeCompare(b.digest.day));

    await done.atLeast(4);
    expect(posted().map((c) => c.digest.day)).toEqual(['2026-05-10']);

    now = new Date('2026-05-11T07:00:00Z');
    await done.atLeast(done.count() + 4);
    expect(posted().map((c) => c.digest.day)).toEqual(['2026-05-10', '2026-05-11']);
    expect(posted()[1]!.digest.persisting.length).toBeGreaterThan(0);

    const status = await producer.queueStatus('lab-b');
    expect(status.lastDigestDay).toBe('2026-05-11');
    expect(status.nextDigestAt).toBeDefined();
    expect(status.queues.digest.workers).toBe(2);
  });

  it('workers starting while another has just taken the digest iteration leave or update the scheduler without failing', async () => {
    const config = configFor('lab-c', '0 0 8 * * *');
    const at = queueAddress(config.queuePrefix, config.cluster, 'digest');
    const queue = new Queue(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
    const schedulerId = 'digest-lab-c';
    const retries: number[] = [];
    const log: Logger = { ...silentLogger, info: (obj, msg) => msg?.startsWith('another worker holds') && retries.push((obj as { attempt: number }).attempt), child: () => log };
    const start = () => startWorkers({ config, surface: new RecordingSurface(), log, clock: () => new Date(), readerFor: () => new DumpReader(dump('healthy')) });
    const delayedIds = async () => (await queue.getDelayed()).map((j) => j.id);
    try {
      // An earlier version's scheduler: same schedule, other job options.
      await queue.upsertJobScheduler(schedulerId, { pattern: config.digestCron, tz: config.digestTimezone }, { name: 'digest', data: { cluster: 'lab-c' } });
      const [iteration] = await queue.getDelayed();
      // Another worker takes the iteration: BullMQ moves it to active, and only then schedules the next one.
      const redis = redisClient(asTarget(config.redisUrl), 'worker');
      await redis.multi().zrem(queue.keys.delayed!, iteration!.id!).lpush(queue.keys.active!, iteration!.id!).exec();

      const starting = start();
      while (retries.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      // The other worker schedules the next iteration, with what BullMQ's Worker passes after taking one.
      const scheduler = new JobScheduler(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
      await scheduler.upsertJobScheduler(schedulerId, { pattern: config.digestCron, tz: config.digestTimezone }, iteration!.name, iteration!.data, iteration!.opts, { override: false, producerId: iteration!.id! });
      await scheduler.close();
      running.push(await starting);
      const updated = (await queue.getJobScheduler(schedulerId))!;
      expect(updated.template?.opts).toMatchObject({ attempts: 3 });
      expect(await delayedIds()).toEqual([`repeat:${schedulerId}:${updated.next}`]);

      // As configured already: a worker starting now leaves the scheduler alone, even while an iteration is held.
      await redis.multi().zrem(queue.keys.delayed!, `repeat:${schedulerId}:${updated.next}`).lpush(queue.keys.active!, `repeat:${schedulerId}:${updated.next}`).exec();
      retries.length = 0;
      running.push(await start());
      expect(retries).toEqual([]);
      expect((await queue.getJobScheduler(schedulerId))!.next).toBe(updated.next);

      // Its next iteration lost (a failover that dropped writes): the scheduler is upserted to queue one again.
      const held = `repeat:${schedulerId}:${updated.next}`;
      await redis.multi().lrem(queue.keys.active!, 0, held).del(queue.toKey(held)).exec();
      await redis.quit();
      running.push(await start());
      const healed = (await queue.getJobScheduler(schedulerId))!;
      expect(await delayedIds()).toEqual([`repeat:${schedulerId}:${healed.next}`]);
    } finally {
      await queue.close();
    }
  });
});
