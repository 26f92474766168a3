// `netdoctor serve` through the CLI entry point: configuration from the environment, a signed
// command served end to end, and a graceful stop on SIGTERM (exit code 0).
import { createHmac, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { serveCommand } from '../../../src/cli/serve-command';
import { FIELDS } from '../../../src/config';
import { listScenarios } from '../../support/scenarios';
import { SlackEmulator } from '../../support/slack-emulator';
import { freePort } from '../../cluster/control-plane';
import { eventually } from '../../support/eventually';
import { niceOf, threadsAtNice } from '../../support/thread-nice';


// The command's wait below holds a diagnosis in the workers' thread (compiled from the sources on
// its first job) on a machine that runs the rest of CI: its deadline bounds a broken run only.
jest.setTimeout(150_000);
const SECRET = `secret-${randomUUID()}`;
let emulator: SlackEmulator;

function io(env: Record<string, string>): CliIo & { err: string[] } {
  const err: string[] = [];
  return { stdout: () => undefined, stderr: (s) => void err.push(s), env, isTTY: false, err };
}


beforeAll(async () => {
  emulator = await SlackEmulator.start();
});

// A failed wait must not leave serve (its thread, servers, Redis clients) running under the other files.
let stopServe: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await stopServe?.();
  stopServe = undefined;
});

afterAll(async () => {
  await emulator?.close();
});

describe('netdoctor serve', () => {
  it('names the missing Slack setting and exits 2', async () => {
    const cli = io({ REDIS_URL: process.env.REDIS_URL!, SLACK_MODE: 'socket', SLACK_BOT_TOKEN: 'xoxb-test', LOG_LEVEL: 'silent' });
    expect(await main(['serve'], cli)).toBe(2);
    expect(cli.err.join('')).toContain('SLACK_APP_TOKEN is not set');
    const http = io({ REDIS_URL: process.env.REDIS_URL!, SLACK_MODE: 'http', SLACK_BOT_TOKEN: 'xoxb-test', LOG_LEVEL: 'silent' });
    expect(await main(['serve'], http)).toBe(2);
    expect(http.err.join('')).toContain('SLACK_SIGNING_SECRET is not set');
  });

  it('serves a signed command end to end from a dump, then stops on SIGTERM with exit code 0', async () => {
    const scenario = listScenarios().find((s) => s.expect.rootCause)!;
    const port = await freePort();
    const signals = new EventEmitter();
    const cli = io({
      REDIS_URL: process.env.REDIS_URL!,
      NETDOCTOR_QUEUE_PREFIX: `ndserve${randomUUID().slice(0, 8)}`,
      NETDOCTOR_CLUSTER: 'prod',
      SLACK_MODE: 'http',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_PORT: String(port),
      SLACK_API_URL: emulator.apiUrl,
      LOG_LEVEL: 'silent',
    });
    let adminPort: number | undefined;
    const exit = serveCommand(['--from', scenario.dir], cli, signals, { adminPort: 0, onAdminListening: (p) => (adminPort = p) });
    stopServe = () => (signals.emit('SIGTERM'), exit);
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200));
    // The admin server: Redis, Slack auth (the emulator's auth.test) and the started front end; no cluster with --from.
    await eventually(async () => {
      const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: { ok: true }, slack: { ok: true }, started: { ok: true } } });
      expect(ready.status).toBe(200);
    });
    // The workers' thread yields the CPU to the receiver's (issue 20); the receiver's keeps the process's priority.
    expect(threadsAtNice(FIELDS.serveWorkersNice.default)).toHaveLength(1);
    expect(niceOf(process.pid)).toBe(0);

    const body = new URLSearchParams({
      command: '/netdoctor',
      text: scenario.expect.namespace,
      user_id: 'U0ALICE01',
      channel_id: 'C0OPS0001',
      team_id: 'T0EMUL',
      trigger_id: `trig.${randomUUID()}`,
      response_url: emulator.responseUrl('serve'),
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const signature = 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex');
    const res = await fetch(`http://127.0.0.1:${port}/slack/events`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
    });
    expect(res.status).toBe(200);
    // On a timeout, what reached Slack (methods, the parent's text, the command's response) says where it stopped.
    const seen = (): string =>
      JSON.stringify({
        calls: emulator.calls.map((c) => c.method),
        parents: emulator.parents().map((m) => SlackEmulator.current(m).text.slice(0, 120)),
        responses: emulator.responses.map((r) => r.body),
        stderr: cli.err.join('').slice(-2_000),
      });
    await eventually(() => {
      const [p] = emulator.parents('C0OPS0001');
      if (!p || !SlackEmulator.current(p).text.startsWith('🔴 ')) throw new Error(`summary not posted yet; Slack saw: ${seen()}`);
      expect(emulator.replies(p.ts).length).toBeGreaterThan(0);
    }, 120_000);
    // The diagnosis ran in the workers' thread: its series reach the admin port's /metrics,
    // merged with the main thread's (each process series once).
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).toMatch(/^netdoctor_diagnoses_total\{[^}]*cluster="prod"[^}]*outcome="broken"[^}]*\} 1$/m);
    expect(metrics.match(/^process_cpu_user_seconds_total\{/gm)).toHaveLength(1);

    stopServe = undefined;
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${adminPort}/healthz`)).rejects.toThrow();
  });

  it('--front-end-only: ready without a cluster; /metrics shows the depth of every served cluster\'s queues', async () => {
    const signals = new EventEmitter();
    const prefix = `ndfe${randomUUID().slice(0, 8)}`;
    const cli = io({
      REDIS_URL: process.env.REDIS_URL!,
      NETDOCTOR_QUEUE_PREFIX: prefix,
      SLACK_CLUSTERS: 'eu,us',
      SLACK_MODE: 'http',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_PORT: String(await freePort()),
      SLACK_API_URL: emulator.apiUrl,
      LOG_LEVEL: 'silent',
    });
    let adminPort: number | undefined;
    const exit = serveCommand(['--front-end-only'], cli, signals, { adminPort: 0, onAdminListening: (p) => (adminPort = p) });
    await eventually(async () => {
      const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: { ok: true }, slack: { ok: true }, started: { ok: true } } });
    });
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    for (const cluster of ['eu', 'us']) {
      for (const kind of ['diagnose', 'digest', 'remediate']) {
        expect(text).toContain(`netdoctor_queue_jobs{queue="${prefix}:${cluster}:${kind}",state="waiting",component="serve"} 0`);
      }
    }
    expect(text).toMatch(/^netdoctor_queue_sampler_errors_total\{component="serve"\} 0$/m);
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(cli.err.join('')).toBe('');
  });
});
