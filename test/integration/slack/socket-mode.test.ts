// Socket Mode end to end: the real Bolt app opens a WebSocket to the emulator (apps.connections.open,
// hello), receives a slash-command envelope, acks it, and the worker posts the report. A redelivered
// envelope (same envelope id, or a Slack retry with the same trigger id) is acked and dropped.
import { randomUUID } from 'node:crypto';
import { type RunningServe, startServe } from '../../../src/cli/serve-command';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { listScenarios } from '../../support/scenarios';
import { SlackEmulator } from '../../support/slack-emulator';
import { eventually } from '../../support/eventually';


jest.setTimeout(60_000);
const CHANNEL = 'C0OPS0001';
const scenario = listScenarios().find((s) => s.expect.rootCause) ?? listScenarios()[0]!;
let emulator: SlackEmulator;
let serve: RunningServe;


function command(text: string, triggerId: string): Record<string, unknown> {
  return {
    token: 'deprecated',
    team_id: 'T0EMUL',
    channel_id: CHANNEL,
    user_id: 'U0ALICE01',
    command: '/netdoctor',
    text,
    api_app_id: 'A0NETDOC',
    response_url: emulator.responseUrl(triggerId),
    trigger_id: triggerId,
  };
}

beforeAll(async () => {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is not set (the integration project globalSetup starts a private redis-server)');
  emulator = await SlackEmulator.start();
  const config = loadConfig({ REDIS_URL: redisUrl, NETDOCTOR_QUEUE_PREFIX: `ndsock${randomUUID().slice(0, 8)}`, NETDOCTOR_CLUSTER: 'prod' });
  serve = await startServe({
    config,
    slack: { mode: 'socket', botToken: 'xoxb-test', appToken: 'xapp-test', apiUrl: emulator.apiUrl, retries: 1, timeoutMs: 5_000 },
    readerFor: () => new DumpReader(scenario.dir),
    log: silentLogger,
  });
  await eventually(() => expect(emulator.socketClients).toBe(1));
});

afterAll(async () => {
  await serve?.stop();
  await emulator?.close();
});

describe('/netdoctor over Socket Mode', () => {
  it('acks the envelope, posts one parent and the report; redeliveries are acked and dropped', async () => {
    expect(emulator.callsTo('apps.connections.open')).toHaveLength(1);
    const triggerId = `trig.${randomUUID()}`;
    await emulator.deliver('slash_commands', command(scenario.expect.namespace, triggerId), 'env-1');
    expect(emulator.socketAcks.map((a) => a.envelope_id)).toEqual(['env-1']);

    const parent = await eventually(() => {
      const [p] = emulator.parents(CHANNEL);
      if (!p || SlackEmulator.current(p).text.startsWith('Diagnosing')) throw new Error('summary not posted yet');
      return p;
    });
    const queue = await serve.producer.queue('prod', 'diagnose');
    await eventually(async () => expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 }));
    const replies = emulator.replies(parent.ts).length;
    expect(replies).toBeGreaterThan(0);

    // Slack redelivers the same envelope (reconnect), then retries with a new envelope id.
    await emulator.deliver('slash_commands', command(scenario.expect.namespace, triggerId), 'env-1');
    await emulator.deliver('slash_commands', command(scenario.expect.namespace, triggerId), 'env-2', 1);
    expect(emulator.socketAcks.map((a) => a.envelope_id)).toEqual(['env-1', 'env-1', 'env-2']);
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    expect(emulator.parents(CHANNEL)).toHaveLength(1);
    expect(emulator.replies(parent.ts)).toHaveLength(replies);
  });

  it('help is answered in the ack payload', async () => {
    await emulator.deliver('slash_commands', command('help', `trig.${randomUUID()}`), 'env-help');
    const ack = emulator.socketAcks.find((a) => a.envelope_id === 'env-help');
    expect(JSON.stringify(ack?.payload)).toContain('/netdoctor NAMESPACE');
  });
});
