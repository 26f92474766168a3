// The real Bolt app in HTTP mode on a loopback port, the real queue and workers on the test Redis,
// and the Slack Web API emulated: signed slash commands in, messages recorded by the emulator out.
import { createHmac, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { CHECKS } from '../../../src/checks';
import { startServe, type RunningServe } from '../../../src/cli/serve-command';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { type Config, loadConfig } from '../../../src/config';
import type { Report } from '../../../src/domain/report';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { createLogger } from '../../../src/observability/logger';
import { jobIdFrom } from '../../../src/queue/jobs';
import type { SlackSettings } from '../../../src/slack/app';
import { escapeMrkdwn } from '../../../src/slack/escape';
import { SlackEmulator } from '../../support/slack-emulator';
import { type Scenario, listScenarios } from '../../support/scenarios';
import { eventually } from '../../support/eventually';

jest.setTimeout(60_000);

const SECRET = 'test-signing-secret-' + randomUUID();
const CHANNEL = 'C0OPS0001';
const scenarios = listScenarios();
const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;

let emulator: SlackEmulator;
let serve: RunningServe | undefined;
let config: Config;
let settings: SlackSettings;
let current: Scenario = scenarios.find((s) => s.expect.rootCause) ?? scenarios[0]!;
let url: string;
/** Every log line of the served app, to check that no secret reaches the logs. */
const logLines: string[] = [];
const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });

function sign(body: string, ts: number, secret = SECRET): Record<string, string> {
  const sig = 'v0=' + createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig };
}

function commandBody(text: string, triggerId = `trig.${randomUUID()}`, user = 'U0ALICE01'): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0EMUL',
    team_domain: 'emulated',
    channel_id: CHANNEL,
    channel_name: 'ops',
    user_id: user,
    user_name: 'alice',
    command: '/netdoctor',
    text,
    api_app_id: 'A0NETDOC',
    response_url: emulator.responseUrl(triggerId),
    trigger_id: triggerId,
  }).toString();
}

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/slack/events`, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text() };
}

async function slash(text: string, triggerId?: string): Promise<{ status: number; text: string; triggerId: string; body: string }> {
  const id = triggerId ?? `trig.${randomUUID()}`;
  const body = commandBody(text, id);
  const res = await post(body, sign(body, Math.floor(Date.now() / 1000)));
  return { ...res, triggerId: id, body };
}


async function diagnoseJobs(): Promise<number> {
  const queue = await serve!.producer.queue('prod', 'diagnose');
  const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function expectedReport(scenario: Scenario): Promise<Report> {
  return diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(scenario.dir), workflow, { cluster: 'prod', namespace: scenario.expect.namespace });
}

async function start(frontEndOnly: boolean, listNamespaces?: () => Promise<string[]>): Promise<void> {
  serve = await startServe({ config, slack: settings, readerFor: () => new DumpReader(current.dir), log, frontEndOnly, ...(listNamespaces ? { listNamespaces } : {}) });
  url = `http://127.0.0.1:${serve.port}`;
}

beforeAll(async () => {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is not set (the integration project globalSetup starts a private redis-server)');
  emulator = await SlackEmulator.start();
  config = loadConfig({
    REDIS_URL: redisUrl,
    NETDOCTOR_QUEUE_PREFIX: `ndslack${randomUUID().slice(0, 8)}`,
    NETDOCTOR_CLUSTER: 'prod',
    SLACK_MODE: 'http',
    SLACK_ALLOWED_CHANNELS: `${CHANNEL},C0OTHER01`,
  });
  settings = { mode: 'http', botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 2, timeoutMs: 5_000, requestTimeoutMs: 2_000 };
});

afterAll(async () => {
  await serve?.stop();
  await emulator?.close();
  // After everything ran: tokens, the signing secret and response URLs never reached a log line.
  const all = logLines.join('');
  expect(all.length).toBeGreaterThan(0);
  for (const secret of [SECRET, 'xoxb-test', '/response/', 'v0=']) expect(all).not.toContain(secret);
});

describe('/netdoctor over HTTP against the Slack emulator', () => {
  describe('before any worker runs', () => {
    // This front end has the namespace list a worker-side process published (see the other block for the fallback).
    beforeAll(() => start(true, async () => ['triton', 'other-ns', 'kube-system']));
    afterAll(async () => {
      await serve?.stop();
      serve = undefined;
    });

    it('answers a forged signature with 401 and queues nothing', async () => {
      const body = commandBody('triton');
      const res = await post(body, sign(body, Math.floor(Date.now() / 1000), 'not-the-secret'));
      expect(res.status).toBe(401);
      expect(await diagnoseJobs()).toBe(0);
      expect(emulator.parents()).toHaveLength(0);
    });

    it('answers a stale timestamp (over 5 minutes) with 401 and queues nothing', async () => {
      const body = commandBody('triton');
      const res = await post(body, sign(body, Math.floor(Date.now() / 1000) - 6 * 60));
      expect(res.status).toBe(401);
      expect(await diagnoseJobs()).toBe(0);
    });

    it('answers a timestamp over 5 minutes in the future with 401 and queues nothing', async () => {
      const body = commandBody('triton');
      const res = await post(body, sign(body, Math.floor(Date.now() / 1000) + 6 * 60));
      expect(res.status).toBe(401);
      expect(await diagnoseJobs()).toBe(0);
    });

    it('cuts off a request whose body never finishes arriving', async () => {
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(serve!.port!, '127.0.0.1', () => {
          socket.write('POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=slow');
        });
        let got = '';
        socket.on('data', (d) => (got += d.toString()));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(10_000); // settings.requestTimeoutMs is 2 s here (default 10 s); Node's own default is 300 s
    });

    it('refuses unknown flags, bad namespaces and other channels with an ephemeral reply, nothing queued', async () => {
      for (const text of ['triton --force', 'Not_A_Namespace', 'triton --cluster staging', 'triton --workflow nope']) {
        const res = await slash(text);
        expect(res.status).toBe(200);
        expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral' });
      }
      const other = commandBody('triton').replace(`channel_id=${CHANNEL}`, 'channel_id=C0NOTALLOWED');
      const refused = await post(other, sign(other, Math.floor(Date.now() / 1000)));
      expect(refused.status).toBe(200);
      expect(refused.text).toContain('not enabled in this channel');
      expect(await diagnoseJobs()).toBe(0);
      expect(emulator.parents()).toHaveLength(0);
    });

    it('refuses a namespace missing from the published list with an ephemeral reply, nothing queued', async () => {
      const res = await slash('tritno');
      expect(res.status).toBe(200);
      const r = await eventually(() => {
        const x = emulator.responses.find((y) => y.id === res.triggerId);
        if (!x) throw new Error('no response yet');
        return x;
      });
      expect(r.body).toMatchObject({ response_type: 'ephemeral' });
      expect(String(r.body.text)).toContain('does not exist in cluster');
      expect(await diagnoseJobs()).toBe(0);
      expect(emulator.parents()).toHaveLength(0);
    });

    it('answers help and checks from memory', async () => {
      const help = await slash('help');
      expect(help.text).toContain('/netdoctor NAMESPACE');
      const checks = await slash('checks');
      expect(checks.text).toContain(CHECKS[0]!.id);
    });

    it('acks, posts one parent, and a second request for the same namespace joins the first', async () => {
      const first = await slash('triton');
      expect(first.status).toBe(200);
      expect(first.text).toBe('');
      await eventually(() => expect(emulator.parents(CHANNEL)).toHaveLength(1));
      const parent = emulator.parents(CHANNEL)[0]!;
      expect(parent.text).toContain('Diagnosing namespace triton on cluster prod');
      expect(JSON.stringify(parent.blocks)).toContain('<@U0ALICE01>');

      const second = await slash('triton');
      expect(second.status).toBe(200);
      const notice = await eventually(() => {
        const r = emulator.responses.find((x) => x.id === second.triggerId);
        if (!r) throw new Error('no response yet');
        return r;
      });
      expect(notice.body).toMatchObject({ response_type: 'ephemeral' });
      expect(String(notice.body.text)).toContain('already running');
      expect(String(notice.body.text)).toContain(`p${parent.ts.replace('.', '')}`);
      expect(emulator.parents(CHANNEL)).toHaveLength(1);
      expect(await diagnoseJobs()).toBe(1);

      // A third joiner gets the same link without asking Slack again (a message's permalink never changes).
      const asked = emulator.callsTo('chat.getPermalink').length;
      const third = await slash('triton');
      const again = await eventually(() => {
        const r = emulator.responses.find((x) => x.id === third.triggerId);
        if (!r) throw new Error('no response yet');
        return r;
      });
      expect(String(again.body.text)).toBe(String(notice.body.text));
      expect(emulator.callsTo('chat.getPermalink')).toHaveLength(asked);
    });

    it('answers a replayed request (same signature, within 5 minutes) with 401 and queues nothing more', async () => {
      const body = commandBody('other-ns');
      const headers = sign(body, Math.floor(Date.now() / 1000));
      expect((await post(body, headers)).status).toBe(200);
      await eventually(() => expect(emulator.parents(CHANNEL)).toHaveLength(2));
      const jobs = await diagnoseJobs();
      expect((await post(body, headers)).status).toBe(401);
      expect(await diagnoseJobs()).toBe(jobs);
      expect(emulator.parents(CHANNEL)).toHaveLength(2);
    });

    it('a replay with `=x` appended to the signature header (no trigger_id to fall back on) is still a replay: 401', async () => {
      const params = new URLSearchParams(commandBody('kube-system'));
      params.delete('trigger_id');
      const body = params.toString();
      const headers = sign(body, Math.floor(Date.now() / 1000));
      const before = await diagnoseJobs();
      expect((await post(body, headers)).status).toBe(200);
      // The job is queued after the ack: wait for it, or a late enqueue reads as a replay let through.
      await eventually(async () => expect(await diagnoseJobs()).toBe(before + 1));
      const jobs = await diagnoseJobs();
      // Bolt verifies `v0=<sig>=x` like `v0=<sig>` (it splits on '='), so the header text is no identity.
      expect((await post(body, { ...headers, 'x-slack-signature': `${headers['x-slack-signature']}=x` })).status).toBe(401);
      expect(await diagnoseJobs()).toBe(jobs);
    });
  });

  describe('with workers', () => {
    beforeAll(async () => {
      // Drain what the previous block queued, then serve with workers on a fresh prefix.
      config = { ...config, queuePrefix: `ndslack${randomUUID().slice(0, 8)}` };
      emulator.reset();
      await start(false);
    });

    it.each(scenarios.map((s) => [s.name, s] as const))('scenario %s: one parent edited into the summary, one reply per root cause', async (_name, scenario) => {
      current = scenario;
      emulator.reset();
      const expected = await expectedReport(scenario);
      const roots = expected.findings.filter((f) => f.rootCause);
      const queue = await serve!.producer.queue('prod', 'diagnose');
      // The previous scenario's job may still be finishing after its last post: a request for the
      // same namespace would then (rightly) join that run instead of queueing its own.
      await eventually(async () => expect(await queue.getJobCounts('active', 'waiting', 'delayed')).toEqual({ active: 0, waiting: 0, delayed: 0 }));
      const res = await slash(scenario.expect.namespace);
      expect(res.status).toBe(200);
      const jobId = jobIdFrom('diagnose', res.triggerId);
      // The ack comes before the enqueue, so the job may appear a moment after the 200.
      const job = await eventually(async () => (await queue.getJob(jobId)) ?? Promise.reject(new Error('not queued yet')));
      expect(job.data).toMatchObject({ cluster: 'prod', namespace: scenario.expect.namespace, requestedBy: 'U0ALICE01', channel: CHANNEL });
      expect(JSON.stringify(job.data)).not.toContain('response');

      const parent = await eventually(() => {
        const [p] = emulator.parents(CHANNEL);
        if (!p || SlackEmulator.current(p).text.startsWith('Diagnosing')) throw new Error('summary not posted yet');
        expect(emulator.replies(p.ts)).toHaveLength(roots.length);
        return p;
      });
      expect(emulator.parents(CHANNEL)).toHaveLength(1);
      const summary = SlackEmulator.current(parent);
      // The notification names the top root cause, behind the verdict's colour.
      const icon = roots.some((f) => f.severity === 'critical') ? '🔴' : roots.length ? '🟡' : '[🟢⚪]';
      expect(summary.text).toMatch(new RegExp(`^${icon} ${scenario.expect.namespace}@prod: `, 'u'));
      if (roots[0]) expect(summary.text).toContain(escapeMrkdwn(roots[0].title));
      expect(parent.edits.length).toBeLessThanOrEqual(4);
      const replies = emulator.replies(parent.ts);
      roots.forEach((f, i) => {
        const reply = JSON.stringify(replies[i]!.blocks);
        expect(reply).toContain(JSON.stringify(escapeMrkdwn(f.title)).slice(1, -1));
        // Without the remediation flow a plan is shown once, as what to run by hand; its id is not for humans.
        if (f.plan) expect(reply).toContain(':wrench: *Fix*');
        if (f.plan) expect(reply).not.toContain(f.plan.id);
        expect(reply).not.toContain('"button"');
      });
    });

    it('a 429 with Retry-After on the parent post ends with exactly one parent', async () => {
      current = scenarios.find((s) => s.expect.rootCause) ?? scenarios[0]!;
      // The last scenario's job may still be finishing after its last post; this request must not join it.
      const queue = await serve!.producer.queue('prod', 'diagnose');
      await eventually(async () => expect(await queue.getJobCounts('active', 'waiting', 'delayed')).toEqual({ active: 0, waiting: 0, delayed: 0 }));
      emulator.reset();
      emulator.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
      const res = await slash(`${current.expect.namespace} --cluster prod`);
      expect(res.status).toBe(200);
      await eventually(() => {
        const [p] = emulator.parents(CHANNEL);
        if (!p || SlackEmulator.current(p).text.startsWith('Diagnosing')) throw new Error('summary not posted yet');
      });
      expect(emulator.callsTo('chat.postMessage').filter((c) => c.status === 429)).toHaveLength(1);
      expect(emulator.parents(CHANNEL)).toHaveLength(1);
    });

    it('a namespace that does not exist: the worker turns the parent into the failure, nothing in the thread', async () => {
      emulator.reset();
      const res = await slash('no-such-ns');
      expect(res.status).toBe(200);
      const parent = await eventually(() => {
        const [p] = emulator.parents(CHANNEL);
        if (!p || !SlackEmulator.current(p).text.includes('failed')) throw new Error('failure not shown yet');
        return p;
      });
      expect(JSON.stringify(SlackEmulator.current(parent).blocks)).toContain('namespace \\"no-such-ns\\" does not exist');
      expect(emulator.replies(parent.ts)).toHaveLength(0);
    });

    it('/netdoctor digest queues a digest that the digest worker posts in the channel it was typed in', async () => {
      emulator.reset();
      const res = await slash('digest');
      expect(res.status).toBe(200);
      const digest = await eventually(() => {
        const m = emulator.parents(CHANNEL).find((p) => p.text.startsWith('netdoctor digest'));
        if (!m) throw new Error('no digest yet');
        return m;
      });
      expect(digest.text).toMatch(/^netdoctor digest \d{4}-\d\d-\d\d for prod: /);
      expect(JSON.stringify(digest.attachments)).toContain('Daily network digest');
    });

    it('status shows the queue', async () => {
      const res = await slash('status');
      expect(res.status).toBe(200);
      const r = await eventually(() => {
        const x = emulator.responses.find((y) => y.id === res.triggerId);
        if (!x) throw new Error('no response yet');
        return x;
      });
      expect(JSON.stringify(r.body)).toMatch(/\d+ workers?\b/);
    });
  });
});
