// Benchmarks 4b and 5 — the Slack path, with the real Bolt app in HTTP mode (`startServe`:
// front end + workers in one process, as `netdoctor serve` runs), the real queue on a real
// Redis, and the Slack Web API emulated on loopback (test/support/slack-emulator.ts).
//   4b: slash command → final thread reply on the seed scenario (dump view), end to end.
//   5:  500 signed slash commands at concurrency 50 → ack latency (HTTP response) p50/p99/max,
//       sent by a load generator in its own process (bench/ack-load.ts); then Redis stopped →
//       time until the user sees an error.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { jobIdFrom } from '../src/queue/jobs';
import { Producer, producerOptions } from '../src/queue/queues';
import { SlackEmulator } from '../test/support/slack-emulator';
import { type TestRedis } from '../test/cluster/redis';
import type { LoadResult, LoadRound } from './ack-load';
import { BENCH_CHANNEL as CHANNEL, signedCommand } from './slack-request';
import { figure, nowMs, percentile, round, sleep, type Figure } from './stats';

export interface EndToEnd {
  scenario: string;
  /** Slash command sent → HTTP ack. */
  ackMs: Figure;
  /** Slash command sent → the report's last thread reply / parent update posted (job completed). */
  finalReplyMs: Figure;
  threadReplies: number;
  parentText: string;
}

export interface AckLatency {
  variant: string;
  requests: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non200: number;
  targetP99Ms: number;
  met: boolean;
}

export interface RedisDown {
  attempts: number;
  /** HTTP answer to the slash command (status) and when it came. */
  httpStatus: number[];
  httpMs: Figure;
  /** When the user saw an error: the HTTP answer if it is an error (Slack shows "dispatch_failed"/the ephemeral), else the response_url message. */
  userErrorMs: Figure;
  userMessages: string[];
  silent: number;
  targetMs: number;
  met: boolean;
}

interface Harness {
  emulator: SlackEmulator;
  child: ChildProcess;
  producer: Producer;
  url: string;
  secret: string;
}

const REGISTER = path.join(__dirname, '..', 'scripts', 'ts-register.js');
const SERVE = path.join(__dirname, 'serve-child.ts');
const LOAD = path.join(__dirname, 'ack-load.ts');

/** The load generator's process (bench/ack-load.ts): one round of signed commands at a time. */
function startLoad(): { round(h: Harness, text: string, count: number, concurrency: number): Promise<LoadResult['results']>; stop(): void } {
  const child = fork(LOAD, [], { execArgv: ['-r', REGISTER], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`ack-load exited ${code}`))));
  exited.catch(() => undefined);
  return {
    round: (h, text, count, concurrency) =>
      Promise.race([
        exited,
        new Promise<LoadResult['results']>((resolve) => {
          child.once('message', (m: LoadResult) => resolve(m.results));
          child.send({ type: 'round', url: h.url, secret: h.secret, text, responseUrl: h.emulator.responseUrl(''), count, concurrency } satisfies LoadRound);
        }),
      ]),
    stop: () => {
      child.removeAllListeners('exit');
      child.kill();
    },
  };
}

/** `serve`: workers in their own thread (as `netdoctor serve` runs); `in-loop`: in the receiver's event loop (before issue 20). */
type HarnessMode = 'serve' | 'in-loop' | 'front-end-only' | 'bare';

/** `source`: a dump directory, or `live` for the cluster of `extraEnv.KUBECONFIG`. */
async function startHarness(redisUrl: string, source: string, mode: HarnessMode = 'serve', extraEnv: Record<string, string> = {}): Promise<Harness> {
  const emulator = await SlackEmulator.start();
  const secret = `bench-${randomUUID()}`;
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    NETDOCTOR_QUEUE_PREFIX: `ndslack${randomUUID().slice(0, 8)}`,
    NETDOCTOR_CLUSTER: 'prod',
    SLACK_MODE: 'http',
    SLACK_ALLOWED_CHANNELS: CHANNEL,
    SLACK_SIGNING_SECRET: secret,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: emulator.apiUrl,
    LOG_LEVEL: 'silent',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['-r', REGISTER, SERVE, source, ...(mode === 'serve' ? [] : [mode])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      const m = /PORT (\d+)/.exec(c.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve-child exited ${code}: ${err.slice(-800)}`)));
  });
  const producer = await Producer.connect(producerOptions(loadConfig(env)));
  return { emulator, child, producer, url: `http://127.0.0.1:${port}/slack/events`, secret };
}

async function send(h: Harness, text: string): Promise<{ status: number; ms: number; triggerId: string; t0: number; body: string }> {
  const c = signedCommand(h.secret, text, (id) => h.emulator.responseUrl(id));
  const t0 = nowMs();
  const res = await fetch(h.url, { method: 'POST', body: c.body, headers: c.headers });
  const body = await res.text();
  return { status: res.status, ms: nowMs() - t0, triggerId: c.triggerId, t0, body };
}

async function stopHarness(h: Harness): Promise<void> {
  await Promise.race([h.producer.close().catch(() => undefined), sleep(5_000)]);
  if (h.child.exitCode === null) {
    const exited = new Promise<void>((r) => h.child.once('exit', () => r()));
    h.child.kill('SIGTERM');
    await Promise.race([exited, sleep(12_000)]);
    if (h.child.exitCode === null) h.child.kill('SIGKILL');
  }
  await h.emulator.close();
}

/** 4b: one command at a time; the run is over when its job has completed (report published). */
export async function benchEndToEnd(redisUrl: string, dumpDir: string, namespace: string, reps: number, scenario: string): Promise<EndToEnd> {
  const h = await startHarness(redisUrl, dumpDir);
  try {
    const queue = await h.producer.queue('prod', 'diagnose');
    const acks: number[] = [];
    const finals: number[] = [];
    let replies = 0;
    let parentText = '';
    for (let i = -1; i < reps; i++) {
      const r = await send(h, namespace);
      if (r.status !== 200) throw new Error(`slash command answered ${r.status}`);
      const jobId = jobIdFrom('diagnose', r.triggerId);
      for (;;) {
        const state = await queue.getJobState(jobId);
        if (state === 'completed') break;
        if (state === 'failed') throw new Error('end-to-end diagnosis failed');
        if (nowMs() - r.t0 > 60_000) throw new Error('end-to-end diagnosis did not finish in 60 s');
        await sleep(2);
      }
      const done = nowMs() - r.t0;
      if (i >= 0) {
        acks.push(r.ms);
        finals.push(done);
      }
      const parent = h.emulator.parents(CHANNEL).at(-1);
      if (parent) {
        replies = h.emulator.replies(parent.ts).length;
        parentText = SlackEmulator.current(parent).text;
      }
    }
    return { scenario, ackMs: figure(acks), finalReplyMs: figure(finals), threadReplies: replies, parentText: parentText.slice(0, 200) };
  } finally {
    await stopHarness(h);
  }
}

/** 5: the ack under load, then Redis stopped. */
function summarise(variant: string, results: { status: number; ms: number }[], concurrency: number): AckLatency {
  const ms = results.map((r) => r.ms);
  return {
    variant,
    requests: results.length,
    concurrency,
    p50Ms: percentile(ms, 50),
    p99Ms: percentile(ms, 99),
    maxMs: round(Math.max(...ms)),
    non200: results.filter((r) => r.status !== 200).length,
    targetP99Ms: 100,
    met: percentile(ms, 99) < 100,
  };
}

/** Diagnoses of `namespace` kept in flight on a harness's workers: a finished one is replaced at once. */
interface Background {
  /** Resolves once `width` diagnoses are active. */
  running: Promise<void>;
  stop(): Promise<number>;
}

function keepDiagnosing(h: Harness, namespace: string, width: number): Background {
  let stopping = false;
  let finished = 0;
  let active = 0;
  let markRunning: () => void = () => undefined;
  const running = new Promise<void>((r) => (markRunning = r));
  const lane = async (): Promise<void> => {
    const queue = await h.producer.queue('prod', 'diagnose');
    while (!stopping) {
      // Added directly with ids of their own: the producer would join identical requests into one run.
      const jobId = jobIdFrom('diagnose', `bg-${randomUUID()}`);
      await queue.add('diagnose', { cluster: 'prod', workflow: 'namespace-triage', namespace, requestedBy: 'U0BENCH02', channel: CHANNEL }, { jobId });
      let counted = false;
      for (;;) {
        const state = await queue.getJobState(jobId);
        if (state === 'completed' || state === 'failed') break;
        if (state === 'active' && !counted) {
          counted = true;
          if (++active === width) markRunning();
        }
        await sleep(20);
      }
      if (counted) active--;
      finished++;
    }
  };
  const lanes = Array.from({ length: width }, () => lane());
  return {
    running,
    stop: async () => {
      stopping = true;
      await Promise.all(lanes);
      return finished;
    },
  };
}

/** The large namespace the background diagnoses read, and the cluster it lives in. */
export interface AckBackground {
  kubeconfig: string;
  /** Sets the nice value of the apiserver's and etcd's threads (they share the bench's 2 cores; in a cluster they run elsewhere). */
  controlPlaneNice(nice: number): void;
  namespace: string;
  /** How the namespace is described in the rows (its size). */
  description: string;
  diagnoses: number;
}

/**
 * 5: the ack under load, then Redis stopped. The variants run in interleaved rounds (so the
 * machine's drift hits them alike): a bare Node HTTP server (the machine's and the load
 * generator's floor), `/netdoctor help` on the front end alone (the receiver's floor: signature,
 * Redis dedupe, ack, nothing after), `/netdoctor <ns>` on the front end alone, and on
 * `netdoctor serve` with its workers in the receiver's event loop (before issue 20), in their own
 * thread at the receiver's priority, and in their own thread at nice 10 (as serve runs). With
 * `background`, the serve variants read the live cluster and keep `background.diagnoses`
 * diagnoses of its large namespace running through each of their rounds; the last variant also
 * sets the control plane's threads to nice 10.
 */
export async function benchAck(
  redis: TestRedis,
  dumpDir: string,
  namespace: string,
  o: { requests: number; concurrency: number; downAttempts: number; background?: AckBackground },
): Promise<{ acks: AckLatency[]; down: RedisDown; backgroundDiagnoses: number }> {
  const bg = o.background;
  const serveSource = bg ? 'live' : dumpDir;
  const serveEnv: Record<string, string> = bg ? { KUBECONFIG: bg.kubeconfig, NETDOCTOR_WORKER_CONCURRENCY: String(bg.diagnoses) } : {};
  const bare = await startHarness(redis.url, dumpDir, 'bare');
  const front = await startHarness(redis.url, dumpDir, 'front-end-only');
  const inLoop = await startHarness(redis.url, serveSource, 'in-loop', serveEnv);
  const sameNice = await startHarness(redis.url, serveSource, 'serve', { ...serveEnv, NETDOCTOR_SERVE_WORKERS_NICE: '0' });
  const h = await startHarness(redis.url, serveSource, 'serve', serveEnv);
  const during = bg ? `, while ${bg.diagnoses} diagnoses of ${bg.description} run` : '';
  const variants: { name: string; harness: Harness; text: string; background: boolean; controlPlaneNice?: number; results: { status: number; ms: number }[] }[] = [
    { name: 'bare Node HTTP server answering 200 (machine + load generator floor)', harness: bare, text: 'help', background: false, results: [] },
    { name: '`/netdoctor help`, front end only (receiver floor)', harness: front, text: 'help', background: false, results: [] },
    { name: `\`/netdoctor ${namespace}\`, front end only (workers elsewhere)`, harness: front, text: namespace, background: false, results: [] },
    { name: `\`/netdoctor ${namespace}\`, netdoctor serve with the workers in the receiver's event loop (before)${during}`, harness: inLoop, text: namespace, background: true, results: [] },
    { name: `\`/netdoctor ${namespace}\`, netdoctor serve with the workers in their own thread at the receiver's priority (nice 0)${during}`, harness: sameNice, text: namespace, background: true, results: [] },
    { name: `\`/netdoctor ${namespace}\`, netdoctor serve as it runs: the workers in their own thread at nice 10${during}`, harness: h, text: namespace, background: true, results: [] },
    ...(bg
      ? [{ name: `\`/netdoctor ${namespace}\`, netdoctor serve as it runs${during}, the apiserver and etcd at nice 10 (as if on machines of their own)`, harness: h, text: namespace, background: true, controlPlaneNice: 10, results: [] }]
      : []),
  ];
  let backgroundDiagnoses = 0;
  const load = startLoad();
  try {
    for (const v of variants) await load.round(v.harness, v.text, 50, 5); // warm-up (connections, JIT)
    const rounds = 5;
    const perRound = Math.ceil(o.requests / rounds);
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        await sleep(500); // let the previous round's post-ack work settle
        bg?.controlPlaneNice(v.controlPlaneNice ?? 0);
        const diagnoses = bg && v.background ? keepDiagnosing(v.harness, bg.namespace, bg.diagnoses) : undefined;
        if (diagnoses) await Promise.race([diagnoses.running, sleep(60_000).then(() => Promise.reject(new Error('the background diagnoses did not all start within 60 s')))]);
        try {
          v.results.push(...(await load.round(v.harness, v.text, perRound, o.concurrency)));
        } finally {
          backgroundDiagnoses += (await diagnoses?.stop()) ?? 0;
        }
      }
    }
  } catch (e) {
    await stopHarness(h);
    throw e;
  } finally {
    load.stop();
    await stopHarness(bare);
    await stopHarness(front);
    await stopHarness(inLoop);
    await stopHarness(sameNice);
  }
  const acks = variants.map((v) => summarise(v.name, v.results, o.concurrency));
  try {
    await sleep(2000); // let the joined runs' ephemeral replies settle before Redis goes
    await redis.stop();
    const http: number[] = [];
    const statuses: number[] = [];
    const userMs: number[] = [];
    const messages: string[] = [];
    let silent = 0;
    for (let i = 0; i < o.downAttempts; i++) {
      const r = await send(h, namespace);
      http.push(r.ms);
      statuses.push(r.status);
      let seen: number | undefined;
      let text = '';
      if (r.status !== 200 || /error|could not|unavailable|down/i.test(r.body)) {
        seen = r.ms;
        text = `HTTP ${r.status}${r.body ? `: ${r.body.slice(0, 160)}` : ''}`;
      } else {
        const until = r.t0 + 10_000;
        while (nowMs() < until) {
          const resp = h.emulator.responses.find((x) => x.id === r.triggerId);
          if (resp) {
            seen = nowMs() - r.t0;
            text = ((resp.body as { text?: string }).text ?? JSON.stringify(resp.body)).slice(0, 200);
            break;
          }
          await sleep(5);
        }
      }
      if (seen === undefined) silent++;
      else userMs.push(seen);
      messages.push(text || '(nothing within 10 s)');
    }
    const user = figure(userMs);
    const down: RedisDown = {
      attempts: o.downAttempts,
      httpStatus: statuses,
      httpMs: figure(http),
      userErrorMs: user,
      userMessages: [...new Set(messages)],
      silent,
      targetMs: 2000,
      met: silent === 0 && user.max < 2000,
    };
    return { acks, down, backgroundDiagnoses };
  } finally {
    await stopHarness(h);
  }
}
