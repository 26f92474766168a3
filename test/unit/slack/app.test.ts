// The real Bolt app (HTTP receiver on loopback) with injected dedupe and command deps: no Redis.
import { createHmac } from 'node:crypto';
import { LogLevel } from '@slack/bolt';
import type { Logger } from '../../../src/domain/run-context';
import { type DeliveryDedupe, type SlackFrontEnd, boltLogger, createSlackApp } from '../../../src/slack/app';
import type { CommandDeps } from '../../../src/slack/commands';
import { eventually } from '../../support/eventually';
import { SlackEmulator } from '../../support/slack-emulator';

const SECRET = 'unit-secret';
let emulator: SlackEmulator;

function recordingLogger(lines: { level: string; obj: object; msg?: string }[]): Logger {
  const make = (): Logger => ({
    debug: (obj, msg) => void lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
    child: () => make(),
  });
  return make();
}

const deps = (log: Logger): CommandDeps => ({
  enqueue: async () => ({ jobId: 'j', joined: false }),
  openRun: async () => '1.1',
  status: async () => [],
  checks: [],
  workflows: ['namespace-triage'],
  clusters: ['prod'],
  allowedChannels: [],
  log,
});

async function withApp(
  dedupe: DeliveryDedupe,
  run: (url: string, lines: { level: string; obj: object; msg?: string }[]) => Promise<void>,
  overrides: Partial<CommandDeps> = {},
): Promise<{ level: string; obj: object; msg?: string }[]> {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const log = recordingLogger(lines);
  const front: SlackFrontEnd = createSlackApp({
    settings: { mode: 'http', botToken: 'xoxb-unit', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 2_000 },
    commands: { ...deps(log), ...overrides },
    dedupe,
    log,
  });
  const { port } = await front.start();
  try {
    await run(`http://127.0.0.1:${port}/slack/events`, lines);
  } finally {
    await front.stop();
  }
  return lines;
}

async function signedHelp(url: string, text = 'help'): Promise<Response> {
  const body = new URLSearchParams({ command: '/netdoctor', text, user_id: 'U0ALICE01', channel_id: 'C0OPS0001', team_id: 'T0EMUL', trigger_id: 't.1', response_url: emulator.responseUrl() }).toString();
  const ts = Math.floor(Date.now() / 1000);
  const sig = 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig } });
}

beforeAll(async () => {
  emulator = await SlackEmulator.start();
});
afterAll(async () => {
  await emulator.close();
});

describe('createSlackApp (HTTP)', () => {
  it('a delivery the dedupe has seen is answered 401', async () => {
    await withApp({ firstSeen: async () => false }, async (url) => {
      expect((await signedHelp(url)).status).toBe(401);
    });
  });

  it('keys deliveries by a digest of the signed timestamp and body, and by trigger id', async () => {
    const seen: string[][] = [];
    await withApp({ firstSeen: async (ids) => (seen.push([...ids]), true) }, async (url) => {
      expect((await signedHelp(url)).status).toBe(200);
    });
    expect(seen).toEqual([[expect.stringMatching(/^http:[0-9a-f]{64}$/), 'trigger:t.1']]);
  });

  it('fails open (logged) when the dedupe store is down', async () => {
    const lines = await withApp(
      {
        firstSeen: async () => {
          throw new Error('Stream is not writeable');
        },
      },
      async (url) => {
        const res = await signedHelp(url);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('/netdoctor NAMESPACE');
      },
    );
    expect(lines.some((l) => l.level === 'warn' && l.msg?.includes('dedupe unavailable'))).toBe(true);
  });
});

describe('createSlackApp errors', () => {
  it('a queue that cannot be reached: acked, the user is told, the error is logged once', async () => {
    emulator.reset();
    const lines = await withApp(
      { firstSeen: async () => true },
      async (url, lines) => {
        expect((await signedHelp(url, 'triton')).status).toBe(200);
        const r = await new Promise<{ body: Record<string, unknown> }>((resolve) => {
          const poll = (): void => {
            if (emulator.responses[0]) resolve(emulator.responses[0]);
            else setTimeout(poll, 20);
          };
          poll();
        });
        expect(r.body).toMatchObject({ response_type: 'ephemeral' });
        expect(String(r.body.text)).toContain('could not handle');
        expect(String(r.body.text)).not.toContain('ECONNREFUSED');
        // Bolt calls the error handler after the listener has told the user: wait for it before stopping.
        await eventually(() => expect(lines.some((l) => l.msg === 'slack listener failed')).toBe(true), 5_000);
      },
      {
        enqueue: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
        },
      },
    );
    expect(lines.filter((l) => l.level === 'error' && l.msg === 'slack listener failed')).toHaveLength(1);
  });
});

describe('boltLogger', () => {
  it('drops debug (request bodies) at the default level and keeps errors with their cause', () => {
    const lines: { level: string; obj: object; msg?: string }[] = [];
    const logger = boltLogger(recordingLogger(lines));
    logger.debug('http request body: {"token":"xoxb-secret"}');
    logger.error('failed', new Error('boom'));
    expect(lines).toEqual([{ level: 'error', obj: { err: expect.any(Error) }, msg: 'failed boom' }]);
    logger.setLevel(LogLevel.DEBUG);
    expect(logger.getLevel()).toBe(LogLevel.DEBUG);
  });
});
