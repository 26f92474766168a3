// Credentials seeded in a scenario (a password in DB_URL's userinfo, API_TOKEN, DB_Password) must not
// reach anything the diagnose worker writes: the report and plans in Redis, every other key under the
// queue prefix (BullMQ job data and return values included), the log, the chat surface's messages.
import { Writable } from 'node:stream';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { loadConfig } from '../../../src/config';
import type { LeasedReader } from '../../../src/domain/cluster-view';
import { createLogger } from '../../../src/observability/logger';
import { queueAddress } from '../../../src/queue/jobs';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { workerConnection } from '../../../src/queue/redis';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { rootCauseMessage, summaryMessage } from '../../../src/slack/blocks';
import { sharedRedisUrl } from '../../support/redis';
import { listAllScenarios } from '../../support/scenarios';

jest.setTimeout(60_000);

const CLUSTER = 'vault';
const SECRETS = ['S3cr3t', 'tok-9f8e7d6c5b4a', 'paswrd'];
const scenario = listAllScenarios().find((s) => s.name === 'repo/credentials-in-env')!;
const prefix = `t${process.pid}-redact`;
const logLines: string[] = [];
const surface = new RecordingSurface();
let workers: RunningWorkers;
let producer: Producer;
let events: QueueEvents;
let redis: Redis;

beforeAll(async () => {
  const config = loadConfig({ REDIS_URL: sharedRedisUrl(), NETDOCTOR_QUEUE_PREFIX: prefix, NETDOCTOR_CLUSTER: CLUSTER, NETDOCTOR_REPORT_TTL_SECONDS: '600' });
  const log = createLogger({ level: 'debug', destination: new Writable({
      write: (c, _e, cb) => {
        logLines.push(String(c));
        cb();
      },
    }),
  });
  const dump = new DumpReader(scenario.dir);
  const readerFor = (): LeasedReader => ({ apiCalls: 0, namespaceExists: (ns) => dump.namespaceExists(ns), read: (scope) => dump.read(scope) });
  workers = await startWorkers({ config, surface, readerFor, log, tuning: { backoffMs: 50 } });
  producer = await Producer.connect(producerOptions(config));
  const at = queueAddress(config.queuePrefix, CLUSTER, 'diagnose');
  events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
  await events.waitUntilReady();
  redis = new Redis(sharedRedisUrl());
});

afterAll(async () => {
  await workers?.close();
  await events?.close();
  await (await producer?.queue(CLUSTER, 'diagnose'))?.obliterate({ force: true });
  await producer?.close();
  redis?.disconnect();
});

/** Every value stored under the prefix, whatever the key type. */
async function everythingStored(): Promise<string> {
  const keys = await redis.keys(`*${prefix}*`);
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
    else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
    else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
    else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
    else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
  }
  return `${keys.length} keys\n${parts.join('\n')}`;
}

it('the diagnose worker stores, logs and publishes the report without the seeded credentials', async () => {
  const request = { cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'U1', channel: 'C1' };
  const { jobId } = await producer.enqueueDiagnose(request);
  await (await (await producer.queue(CLUSTER, 'diagnose')).getJob(jobId))!.waitUntilFinished(events);
  const report = surface.of('publishReport').find((c) => c.runId === jobId)!.report;
  expect(report.findings[0]!.code).toBe('WL-ENV-UNKNOWN-SERVICE');
  const stored = await everythingStored();
  expect(stored).toContain('WL-ENV-UNKNOWN-SERVICE');
  const outputs = {
    redis: stored,
    log: logLines.join(''),
    surface: JSON.stringify(surface.calls),
    blockKit: JSON.stringify([summaryMessage(report, request), ...report.findings.filter((f) => f.rootCause).map((f, i) => rootCauseMessage(report, f, i))]),
  };
  for (const [name, out] of Object.entries(outputs)) {
    for (const secret of SECRETS) expect({ name, leaks: out.includes(secret) ? secret : null }).toEqual({ name, leaks: null });
  }
});
