// Benchmark 4a — queue throughput: diagnose jobs per second through BullMQ with 1, 2 and 4
// worker processes (each `startWorkers` with concurrency 1, the dump view of the seed, a
// recording surface): the engine's and the queue's cost without the apiserver or Slack.
//
// Jobs are added straight to the diagnose queue with distinct job ids. (The Producer joins
// identical requests — same cluster/namespace/workflow — into one in-flight run; a backlog of
// identical requests would measure that join, not the workers.)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { Producer, producerOptions } from '../src/queue/queues';
import { figure, nowMs, round, sleep, type Figure } from './stats';

export interface QueueThroughput {
  workers: number;
  jobs: number;
  jobsPerSecond: Figure;
  /** jobs/s relative to one worker, same run. */
  speedup: number;
}

const REGISTER = path.join(__dirname, '..', 'scripts', 'ts-register.js');
const WORKER = path.join(__dirname, 'queue-worker.ts');

function startWorker(env: NodeJS.ProcessEnv, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', REGISTER, WORKER, dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('READY')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`queue worker exited ${code}: ${err.slice(-800)}`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export async function benchQueueThroughput(
  redisUrl: string,
  dumpDir: string,
  namespace: string,
  o: { workerCounts: number[]; jobs: number; reps: number; log: (l: string) => void },
): Promise<QueueThroughput[]> {
  const prefix = `ndbench${randomUUID().slice(0, 8)}`;
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    NETDOCTOR_QUEUE_PREFIX: prefix,
    NETDOCTOR_CLUSTER: 'bench',
    NETDOCTOR_WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'silent',
  };
  const config = loadConfig(env);
  const producer = await Producer.connect(producerOptions(config));
  const queue = await producer.queue('bench', 'diagnose');
  const out: QueueThroughput[] = [];
  try {
    for (const n of o.workerCounts) {
      const workers = await Promise.all(Array.from({ length: n }, () => startWorker(env, dumpDir)));
      try {
        const rates: number[] = [];
        for (let rep = -1; rep < o.reps; rep++) {
          const count = rep < 0 ? Math.max(4, n * 2) : o.jobs; // rep -1: warm-up (JIT, connections)
          await queue.drain(true);
          await queue.clean(0, 100_000, 'completed');
          const t0 = nowMs();
          await queue.addBulk(Array.from({ length: count }, (_, i) => ({
            name: 'diagnose',
            data: { cluster: 'bench', namespace, workflow: 'namespace-triage', requestedBy: 'U0BENCH01', channel: 'C0BENCH01' },
            opts: { jobId: `diagnose-bench-${rep + 1}-${i}-${randomUUID().slice(0, 8)}` },
          })));
          for (;;) {
            const c = await queue.getJobCounts('completed', 'failed');
            if ((c.failed ?? 0) > 0) throw new Error(`queue benchmark: ${c.failed} jobs failed`);
            if ((c.completed ?? 0) >= count) break;
            await sleep(5);
          }
          const s = (nowMs() - t0) / 1000;
          if (rep >= 0) rates.push(count / s);
        }
        const f = figure(rates);
        out.push({ workers: n, jobs: o.jobs, jobsPerSecond: f, speedup: out.length ? round(f.median / out[0]!.jobsPerSecond.median, 2) : 1 });
        o.log(`queue: ${n} worker(s): ${f.median.toFixed(1)} jobs/s [${f.min.toFixed(1)}–${f.max.toFixed(1)}]`);
      } finally {
        await Promise.all(workers.map(stopWorker));
      }
    }
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
  }
  return out;
}
