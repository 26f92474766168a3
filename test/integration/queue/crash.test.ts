import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { QueueEvents } from 'bullmq';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { type Config, loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { queueAddress } from '../../../src/queue/jobs';
import { Producer, producerOptions } from '../../../src/queue/queues';
import { RecordingSurface, type SurfaceCall } from '../../../src/cli/console-surface';
import { workerConnection } from '../../../src/queue/redis';
import { type RunningWorkers, startWorkers } from '../../../src/queue/workers';
import { sharedRedisUrl } from '../../support/redis';
import { listScenarios } from '../../support/scenarios';

jest.setTimeout(60_000);

const CLUSTER = 'lab';
const ROOT = join(__dirname, '..', '..', '..');
const scenario = listScenarios().find((s) => s.name === 'triton-kube-proxy-config')!;

/** A worker process running test/support/queue-worker-child.ts; its stdout lines are collected. */
class ChildWorker {
  readonly lines: string[] = [];
  readonly calls: SurfaceCall[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private readonly child: ChildProcess;
  private waiters: { line: string; resolve: () => void }[] = [];

  constructor(env: Record<string, string>, mode: 'hold' | 'run') {
    this.child = spawn(process.execPath, [join(ROOT, 'test/support/ts-register.js'), join(ROOT, 'test/support/queue-worker-child.ts'), scenario.dir, mode], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      if (line.startsWith('CALL ')) this.calls.push(JSON.parse(line.slice(5)) as SurfaceCall);
      for (const w of this.waiters.filter((x) => line === x.line)) w.resolve();
      this.waiters = this.waiters.filter((x) => line !== x.line);
    });
  }

  /** Resolves when the child has printed `line` (or rejects if it exits first). */
  waitForLine(line: string): Promise<void> {
    if (this.lines.includes(line)) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ line, resolve })),
      this.exited.then((e) => Promise.reject(new Error(`worker child exited (${e.code ?? e.signal}) before printing ${line}`))),
    ]);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

let config: Config;
let env: Record<string, string>;
let producer: Producer;
let events: QueueEvents;
const children: ChildWorker[] = [];
const inProcess: RunningWorkers[] = [];

beforeAll(async () => {
  env = {
    REDIS_URL: sharedRedisUrl(),
    NETDOCTOR_QUEUE_PREFIX: `t${process.pid}-crash`,
    NETDOCTOR_CLUSTER: CLUSTER,
    NETDOCTOR_SHUTDOWN_TIMEOUT_SECONDS: '1',
  };
  config = loadConfig(env);
  producer = await Producer.connect(producerOptions(config));
  const at = queueAddress(config.queuePrefix, CLUSTER, 'diagnose');
  events = new QueueEvents(at.name, { connection: workerConnection(config.redisUrl), prefix: at.prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  for (const w of inProcess) await w.close();
  await events?.close();
  await (await producer?.queue(CLUSTER, 'diagnose'))?.obliterate({ force: true });
  await producer?.close();
});

/** A healthy worker in this process, with the same short locks as the child. */
async function rescuer(surface: RecordingSurface, maxStalledCount?: number): Promise<void> {
  inProcess.push(
    await startWorkers({
      config,
      surface,
      log: silentLogger,
      readerFor: () => new DumpReader(scenario.dir),
      tuning: { lockDuration: 1500, stalledInterval: 500, backoffMs: 50, ...(maxStalledCount !== undefined ? { maxStalledCount } : {}) },
    }),
  );
}

async function finished(jobId: string): Promise<void> {
  const job = (await (await producer.queue(CLUSTER, 'diagnose')).getJob(jobId))!;
  await job.waitUntilFinished(events);
}

const request = { cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'U123', channel: 'C0NETOPS' };

describe('worker crash and shutdown (real Redis, worker in a child process)', () => {
  it('recovers a diagnosis whose worker was SIGKILLed mid-run, without posting anything twice', async () => {
    const child = new ChildWorker(env, 'hold');
    children.push(child);
    await child.waitForLine('READY');
    const { jobId } = await producer.enqueueDiagnose(request);
    await child.waitForLine('READING');
    child.kill('SIGKILL');
    expect(await child.exited).toMatchObject({ signal: 'SIGKILL' });

    const surface = new RecordingSurface();
    await rescuer(surface);
    await finished(jobId);

    const opened = child.calls.filter((c) => c.method === 'openRun');
    expect(opened).toHaveLength(1);
    expect(child.calls.some((c) => c.method === 'publishReport')).toBe(false);
    // The rescuer reuses the parent message the killed worker opened, and posts the report once.
    expect(surface.of('openRun')).toHaveLength(0);
    const published = surface.of('publishReport');
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ runId: jobId, parentTs: (opened[0] as { ts: string }).ts });
    expect(await producer.loadReport(CLUSTER, jobId)).toBeDefined();
  });

  it('on SIGTERM stops taking jobs, releases the job it cannot finish in time, and exits; another worker completes it', async () => {
    const child = new ChildWorker(env, 'hold');
    children.push(child);
    await child.waitForLine('READY');
    // Only the child runs now (the rescuer of the previous test is closed first).
    await Promise.all(inProcess.splice(0).map((w) => w.close()));
    const { jobId } = await producer.enqueueDiagnose(request);
    await child.waitForLine('READING');
    child.kill('SIGTERM');
    await child.waitForLine('STOPPED');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    // Released, not left to stall: the job is back in the queue before its lock would expire.
    const job = (await (await producer.queue(CLUSTER, 'diagnose')).getJob(jobId))!;
    expect(await job.getState()).toBe('waiting');

    const surface = new RecordingSurface();
    await rescuer(surface);
    await finished(jobId);
    expect(surface.of('publishReport').map((c) => c.runId)).toEqual([jobId]);
    expect(child.calls.filter((c) => c.method === 'publishReport')).toHaveLength(0);
  });

  it('tells the user once when a run stalls more often than allowed (e.g. its worker keeps being OOM-killed)', async () => {
    await Promise.all(inProcess.splice(0).map((w) => w.close()));
    const child = new ChildWorker(env, 'hold');
    children.push(child);
    await child.waitForLine('READY');
    const { jobId } = await producer.enqueueDiagnose(request);
    await child.waitForLine('READING');
    child.kill('SIGKILL');
    await child.exited;

    // Two workers that allow no stall: the job fails at its first recovery; one of them tells the user.
    const surfaces = [new RecordingSurface(), new RecordingSurface()];
    for (const s of surfaces) await rescuer(s, 0);
    await expect(finished(jobId)).rejects.toThrow('job stalled more than allowable limit');
    const failRun = await Promise.race(surfaces.map((s) => s.waitFor((c) => c.method === 'failRun' && c.runId === jobId)));
    const opened = child.calls.find((c) => c.method === 'openRun') as { ts: string };
    expect(failRun).toMatchObject({ parentTs: opened.ts, reason: expect.stringContaining('stopped several times') });
    await Promise.all(inProcess.splice(0).map((w) => w.close()));
    expect(surfaces.flatMap((s) => s.of('failRun'))).toHaveLength(1);
    expect(surfaces.flatMap((s) => s.of('publishReport'))).toHaveLength(0);
  });
});
