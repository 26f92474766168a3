import { DumpReader } from '../../../src/cluster/dump-reader';
import { type Config, loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { PrivateRedis } from '../../support/redis';
import { listScenarios } from '../../support/scenarios';

jest.setTimeout(60_000);

const CLUSTER = 'lab';
const scenario = listScenarios().find((s) => s.name === 'triton-cni-missing')!;

let redis: PrivateRedis;
let config: Config;
let producer: Producer | undefined;
let workers: RunningWorkers | undefined;

beforeAll(async () => {
  // Its own Redis, with an fsync-always append-only file, so a SIGKILL loses nothing acknowledged.
  redis = await PrivateRedis.start({ aof: true });
  config = loadConfig({ REDIS_URL: redis.url, NETDOCTOR_QUEUE_PREFIX: 'restart', NETDOCTOR_CLUSTER: CLUSTER, NETDOCTOR_WORKER_CONCURRENCY: '1' });
});

afterAll(async () => {
  await workers?.close();
  await producer?.close();
  await redis?.stop();
});

describe('Redis restart (AOF)', () => {
  it('loses no waiting job and the workers resume on their own', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const surface = new RecordingSurface();
    workers = await startWorkers({
      config,
      surface,
      log: silentLogger,
      readerFor: () => {
        const dump = new DumpReader(scenario.dir);
        return { apiCalls: 0, namespaceExists: (ns) => dump.namespaceExists(ns), read: async (scope) => (await gate, dump.read(scope)) };
      },
    });
    producer = await Producer.connect(producerOptions(config));
    const base = { cluster: CLUSTER, requestedBy: 'U1', channel: 'C0NETOPS' };
    const jobs = [
      await producer.enqueueDiagnose({ ...base, namespace: 'triton', workflow: 'namespace-triage' }),
      await producer.enqueueDiagnose({ ...base, namespace: 'kube-system', workflow: 'namespace-triage' }),
      await producer.enqueueDiagnose({ ...base, workflow: 'cluster-health' }),
    ].map((j) => j.jobId);

    // One job is mid-run (held at its read), two wait in the queue.
    await surface.waitFor((c) => c.method === 'stage' && c.stage === 'reading');
    const counts = await (await producer.queue(CLUSTER, 'diagnose')).getJobCounts('waiting', 'active');
    expect(counts).toEqual({ waiting: 2, active: 1 });

    await redis.kill();
    await redis.start();
    release();

    await Promise.all(jobs.map((id) => surface.waitFor((c) => c.method === 'publishReport' && c.runId === id)));
    for (const id of jobs) {
      expect(await producer.loadReport(CLUSTER, id)).toBeDefined();
      expect(surface.of('publishReport').filter((c) => c.runId === id)).toHaveLength(1);
    }
  });
});
