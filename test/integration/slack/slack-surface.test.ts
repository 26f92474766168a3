// SlackSurface against the Slack emulator and the test Redis: idempotent posting, bounded retries,
// failures surfaced in the thread, oversized replies with the full report attached.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { DiagnoseRequest, Digest } from '../../../src/domain/ports';
import type { Report } from '../../../src/domain/report';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { createWebClient } from '../../../src/slack/app';
import { SlackSurface } from '../../../src/slack/slack-surface';
import { listScenarios } from '../../support/scenarios';
import { SlackEmulator } from '../../support/slack-emulator';


jest.setTimeout(60_000);
const CHANNEL = 'C0OPS0001';
let emulator: SlackEmulator;
let redis: Redis;
let report: Report;

const request: DiagnoseRequest = { cluster: 'prod', namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'U0ALICE01', channel: CHANNEL };

function surface(retries = 2): SlackSurface {
  const client = createWebClient({ mode: 'http', botToken: 'xoxb-test', apiUrl: emulator.apiUrl, retries, timeoutMs: 5_000 }, silentLogger);
  return new SlackSurface({ client, redis, log: silentLogger, prefix: `ndtest:${randomUUID()}`, waitMs: 10_000 });
}

beforeAll(async () => {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the integration project globalSetup starts a private redis-server)');
  redis = new Redis(url);
  emulator = await SlackEmulator.start();
  const scenario = listScenarios().find((s) => s.expect.rootCause)!;
  const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
  report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(scenario.dir), workflow, { cluster: 'prod', namespace: scenario.expect.namespace });
});

afterAll(async () => {
  await redis?.quit();
  await emulator?.close();
});

beforeEach(() => emulator.reset());

const roots = (): number => report.findings.filter((f) => f.rootCause).length;

describe('SlackSurface', () => {
  it('opens a run once, even when called concurrently and again on a retry', async () => {
    const s = surface();
    const [a, b] = await Promise.all([s.openRun('run-1', request), s.openRun('run-1', request)]);
    expect(a).toBe(b);
    expect(await s.openRun('run-1', request)).toBe(a);
    expect(emulator.parents(CHANNEL)).toHaveLength(1);
    expect(await s.parentOf('run-1')).toBe(a);
  });

  it('opens a run once when the other process posts, records and lets go between its read and its lock', async () => {
    // serve's front end and its workers' thread both open each run; CI once saw the thread read
    // "not recorded", then take the lock the front end had just released, and post a second parent.
    const prefix = `ndtest:${randomUUID()}`;
    const client = (): ReturnType<typeof createWebClient> => createWebClient({ mode: 'http', botToken: 'xoxb-test', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 }, silentLogger);
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The workers' Redis client, held after its first read of the run's record.
    class HeldAfterFirstRead extends Redis {
      private held = false;
      override async get(key: string): Promise<string | null> {
        const value = await super.get(key);
        if (!this.held && key.endsWith(':run:run-race:parent')) {
          this.held = true;
          reached();
          await gate;
        }
        return value;
      }
    }
    const workersRedis = new HeldAfterFirstRead(process.env.REDIS_URL!);
    try {
      const frontEnd = new SlackSurface({ client: client(), redis, log: silentLogger, prefix, waitMs: 10_000 });
      const workers = new SlackSurface({ client: client(), redis: workersRedis, log: silentLogger, prefix, waitMs: 10_000 });
      const late = workers.openRun('run-race', request);
      await atGate;
      const first = await frontEnd.openRun('run-race', request);
      open();
      expect(await late).toBe(first);
      expect(emulator.parents(CHANNEL)).toHaveLength(1);
    } finally {
      workersRedis.disconnect();
    }
  });

  it('publishes the summary and one reply per root cause, and a second publish posts nothing new', async () => {
    const s = surface();
    const ts = await s.openRun('run-2', request);
    await s.stage({ runId: 'run-2', request, parentTs: ts }, 'reading');
    await s.stage({ runId: 'run-2', request, parentTs: ts }, 'analysing');
    await s.stage({ runId: 'run-2', request, parentTs: ts }, 'reading'); // a retried job replays stages: never backwards
    await s.stage({ runId: 'run-2', request, parentTs: ts }, 'done');
    await s.publishReport({ runId: 'run-2', request, parentTs: ts }, report);
    await s.publishReport({ runId: 'run-2', request, parentTs: ts }, report);
    const [parent] = emulator.parents(CHANNEL);
    expect(emulator.replies(ts)).toHaveLength(roots());
    // reading, analysing, then the summary (twice: edits are idempotent); no backwards or "done" edit.
    const top = report.findings.find((f) => f.rootCause)!;
    expect(parent!.edits.map((e) => e.text.split(':')[0])).toEqual([
      'Diagnosing namespace triton on cluster prod…',
      'Diagnosing namespace triton on cluster prod…',
      '🔴 triton@prod',
      '🔴 triton@prod',
    ]);
    expect(parent!.edits.at(-1)!.text).toContain(top.title);
  });

  it('retries 5xx within its bound and ends with one message', async () => {
    const s = surface(2);
    emulator.failNext('chat.postMessage', { status: 503 }, 2);
    await s.openRun('run-3', request);
    expect(emulator.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 200]);
    expect(emulator.parents(CHANNEL)).toHaveLength(1);
  });

  it('a reply Slack keeps refusing is logged, surfaced in the thread, and posted by the retry without duplicates', async () => {
    const s = surface(1);
    const ts = await s.openRun('run-4', request);
    emulator.failNext('chat.postMessage', { status: 500 }, 2); // both attempts of the first reply
    await expect(s.publishReport({ runId: 'run-4', request, parentTs: ts }, report)).rejects.toMatchObject({ transient: true, message: expect.stringMatching(/HTTP 500 to root cause 1/) });
    const notice = emulator.replies(ts).find((m) => m.text.includes('could not be posted'));
    expect(notice?.text).toContain('run-4');
    expect(emulator.replies(ts)).toHaveLength(roots()); // the others and the notice; the first is missing
    await s.publishReport({ runId: 'run-4', request, parentTs: ts }, report);
    expect(emulator.replies(ts)).toHaveLength(roots() + 1);
    await s.publishReport({ runId: 'run-4', request, parentTs: ts }, report);
    expect(emulator.replies(ts)).toHaveLength(roots() + 1);
  });

  it('cuts an oversized reply and attaches the full markdown report once', async () => {
    const s = surface();
    const big = structuredClone(report);
    const root = big.findings.find((f) => f.rootCause)!;
    root.evidence = Array.from({ length: 12 }, (_, i) => ({ type: 'log' as const, text: `line ${i} <!channel> `.repeat(800) }));
    const ts = await s.openRun('run-5', request);
    await s.publishReport({ runId: 'run-5', request, parentTs: ts }, big);
    await s.publishReport({ runId: 'run-5', request, parentTs: ts }, big);
    expect(emulator.callsTo('files.getUploadURLExternal')).toHaveLength(1);
    expect(emulator.files).toHaveLength(1);
    const [file] = emulator.files;
    expect(file).toMatchObject({ channel: CHANNEL, thread_ts: ts });
    expect(file!.upload).toContain('# netdoctor');
    // Two of the 12 items show, one line each; the rest are in the attached report.
    expect(JSON.stringify(emulator.replies(ts)[0]!.blocks)).toContain('+10 more items of evidence in the attached report');
  });

  it('a permanent Slack error (channel_not_found) is final, not retried, with an actionable reason', async () => {
    const client = createWebClient({ mode: 'http', botToken: 'xoxb-test', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 }, silentLogger);
    const broken = new SlackSurface({ client, redis, log: silentLogger, prefix: `ndtest:${randomUUID()}` });
    await expect(broken.openRun('run-8', { ...request, channel: '' })).rejects.toMatchObject({ transient: false, message: expect.stringContaining('channel_not_found') });
  });

  it('failRun shows the escaped reason; the digest is posted once per cluster and day', async () => {
    const s = surface();
    const ts = await s.openRun('run-6', request);
    await s.stage({ runId: 'run-6', request, parentTs: ts }, 'failed');
    await s.failRun({ runId: 'run-6', request, parentTs: ts }, 'namespace "triton" does not exist <!channel>');
    const parent = emulator.parents(CHANNEL)[0]!;
    expect(parent.edits).toHaveLength(1);
    expect(JSON.stringify(parent.edits[0]!.blocks)).toContain('does not exist &lt;!channel&gt;');

    const digest: Digest = { cluster: 'prod', day: '2026-11-25', report, newFindings: [], resolved: [], persisting: [], trend: [] };
    await s.publishDigest(CHANNEL, digest);
    await s.publishDigest(CHANNEL, digest);
    expect(emulator.parents(CHANNEL).filter((m) => m.text.startsWith('netdoctor digest'))).toHaveLength(1);
  });
});
