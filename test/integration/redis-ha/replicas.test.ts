// Two `serve` replicas (each with its cluster's workers, as the chart's single-cluster install
// runs them) against one Redis, behind "any load balancer": the same Slack delivery reaching
// both starts one run; distinct commands spread over both each start exactly one; both workers
// upsert one digest scheduler, and two scheduled digest ticks of one day post one digest.
import { randomUUID } from 'node:crypto';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { startServe, type RunningServe } from '../../../src/cli/serve-command';
import { type Config, loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { JOB_OPTIONS } from '../../../src/queue/queues';
import type { SlackSettings } from '../../../src/slack/app';
import { eventually } from '../../support/eventually';
import { sharedRedisUrl } from '../../support/redis';
import { listScenarios } from '../../support/scenarios';
import { signedHeaders, slashBody } from '../../support/signed-slack';
import { SlackEmulator } from '../../support/slack-emulator';

jest.setTimeout(120_000);

const SECRET = `secret-${randomUUID()}`;
const CHANNEL = 'C0OPS0001';
const DIGEST_CHANNEL = 'C0DIGEST1';
const scenario = listScenarios().find((s) => s.expect.rootCause)!;

let emulator: SlackEmulator;
let config: Config;
const replicas: RunningServe[] = [];

const send = async (replica: RunningServe, body: string): Promise<number> =>
  (await fetch(`http://127.0.0.1:${replica.port}/slack/events`, { method: 'POST', body, headers: signedHeaders(SECRET, body) })).status;

beforeAll(async () => {
  emulator = await SlackEmulator.start();
  config = loadConfig({
    REDIS_URL: sharedRedisUrl(),
    NETDOCTOR_QUEUE_PREFIX: `ndrep${randomUUID().slice(0, 8)}`,
    NETDOCTOR_CLUSTER: 'prod',
    NETDOCTOR_DIGEST_CHANNEL: DIGEST_CHANNEL,
    SLACK_MODE: 'http',
  });
  const slack: SlackSettings = { mode: 'http', botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 };
  for (let i = 0; i < 2; i++) replicas.push(await startServe({ config, slack, log: silentLogger, readerFor: () => new DumpReader(scenario.dir) }));
});

afterAll(async () => {
  for (const r of replicas) await r.stop();
  await emulator?.close();
});

const finished = async (queue: Awaited<ReturnType<RunningServe['producer']['queue']>>): Promise<void> =>
  eventually(async () => expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).toEqual({ waiting: 0, active: 0, delayed: 0, prioritized: 0 }));

describe('two serve replicas and two workers on one Redis', () => {
  it('starts one run for a delivery that reaches both replicas, and one per distinct command', async () => {
    const [a, b] = replicas as [RunningServe, RunningServe];
    const same = slashBody(emulator, { text: scenario.expect.namespace, user: 'U0ALICE01', channel: CHANNEL });
    const statuses = await Promise.all([send(a, same), send(b, same)]);
    // One replica takes it; the other sees the delivery again and drops it (401: a replayed signed request).
    expect(statuses.sort()).toEqual([200, 401]);
    const namespaces = ['kube-system', 'default', 'kube-public', 'kube-node-lease'];
    for (const [i, namespace] of namespaces.entries()) {
      expect(await send(i % 2 === 0 ? a : b, slashBody(emulator, { text: namespace, user: 'U0ALICE01', channel: CHANNEL }))).toBe(200);
    }
    const diagnose = await a.producer.queue('prod', 'diagnose');
    await eventually(async () => expect(await diagnose.getJobCounts('completed')).toEqual({ completed: 1 + namespaces.length }));
    await finished(diagnose);
    expect(emulator.parents(CHANNEL)).toHaveLength(1 + namespaces.length);
  });

  it('keeps one digest scheduler, and two scheduled ticks of one day post one digest', async () => {
    const digest = await replicas[0]!.producer.queue('prod', 'digest');
    expect(await digest.getJobSchedulers()).toHaveLength(1);
    // As two schedulers (or a retried tick) would: two scheduled (not manual) jobs on the same day, one per worker.
    await digest.add('digest', { cluster: 'prod' }, { ...JOB_OPTIONS.digest, jobId: 'digest-tick-1' });
    await digest.add('digest', { cluster: 'prod' }, { ...JOB_OPTIONS.digest, jobId: 'digest-tick-2' });
    await eventually(async () => {
      for (const id of ['digest-tick-1', 'digest-tick-2']) expect(await (await digest.getJob(id))?.getState()).toBe('completed');
    });
    expect(emulator.parents(DIGEST_CHANNEL)).toHaveLength(1);
  });
});
