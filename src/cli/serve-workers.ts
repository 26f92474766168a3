// `netdoctor serve` runs the local cluster's BullMQ workers (diagnose, digest, remediate) in a
// worker thread of the same process: a diagnosis (cluster read, JSON parsing, the checks) is CPU
// work, and in the Bolt receiver's event loop it held Slack acks back by hundreds of milliseconds
// (issue 20). The thread is `netdoctor worker` wired from the same configuration; BullMQ still
// does all the scheduling (jobs, locks, stalled checks) inside it.
import type { MessagePort } from 'node:worker_threads';
import { type Config, loadConfig } from '../config';
import { dumpReaderFor, liveReaderFor, liveWriterFor } from '../cluster/connect';
import type { Logger } from '../domain/run-context';
import { siblingThread } from '../domain/source-thread';
import { createLogger } from '../observability/logger';
import { type MetricsSnapshot, createMetrics } from '../observability/metrics';
import { lowerThreadPriority } from '../observability/thread-priority';
import { RedisSetupError } from '../queue/redis';
import { startWorkers } from '../queue/workers';
import { policyFromConfig, readAccessFromConfig } from './approval-policy';
import { workerSlackSurface } from './worker-command';

/** What the thread is started with (structured-cloned): the serve command's environment and choices. */
export interface ServeWorkersData {
  env: Record<string, string | undefined>;
  cluster: string;
  /** `serve --from DIR`: every run reads this dump; otherwise the live cluster. */
  from?: string;
}

type ToThread = { type: 'metrics'; id: number } | { type: 'stop' };
type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; name: string; message: string }
  | { type: 'metrics'; id: number; metrics: MetricsSnapshot }
  | { type: 'stopped' };

/** Inside the thread: starts the workers, answers metric scrapes, stops on request. */
export async function runServeWorkers(data: ServeWorkersData, port: MessagePort): Promise<void> {
  const config: Config = loadConfig(data.env, { cluster: data.cluster });
  const log = createLogger({ level: config.logLevel }).child({ thread: 'workers' });
  // When the receiver and a diagnosis both want a core, the kernel gives it to the acks first (at
  // nice 10 the thread weighs 110 against the receiver's 1024); a diagnosis still has every core the
  // receiver leaves idle (issue 20).
  if (config.serveWorkersNice > 0) {
    try {
      const tid = lowerThreadPriority(config.serveWorkersNice);
      log.debug({ tid, nice: config.serveWorkersNice }, tid ? 'workers thread priority lowered' : 'no per-thread priority on this platform');
    } catch (err) {
      log.warn({ err }, 'could not lower the workers thread priority; diagnoses compete with Slack acks for the CPU');
    }
  }
  // The process-wide series (CPU, memory, event loop) come from the main thread's registry.
  const metrics = createMetrics({ defaultLabels: { component: 'serve' }, defaultMetrics: false });
  const post = (m: FromThread): void => port.postMessage(m);
  const slack = workerSlackSurface(config, config.slackBotToken ?? '', log, metrics);
  const { surface } = slack;
  const closeSurface = (): Promise<void> => slack.close();
  try {
    const readerFor = data.from ? dumpReaderFor(config.cluster, data.from) : liveReaderFor(config);
    const writerFor = data.from ? undefined : liveWriterFor(config);
    const workers = await startWorkers({
      config,
      surface,
      readerFor,
      log,
      metrics,
      readAccess: { policy: readAccessFromConfig(config), ...(writerFor ? { writerFor } : {}) },
      ...(writerFor ? { remediation: { writerFor, surface, policy: policyFromConfig(config) } } : {}),
    });
    port.on('message', (m: ToThread) => {
      if (m.type === 'metrics') {
        metrics.registry.getMetricsAsJSON().then(
          (json) => post({ type: 'metrics', id: m.id, metrics: json }),
          (err: unknown) => log.warn({ err }, 'metrics collection failed'),
        );
        return;
      }
      void workers
        .close()
        .then(closeSurface)
        .catch((err: unknown) => log.warn({ err }, 'serve workers did not stop cleanly'))
        .finally(() => post({ type: 'stopped' }));
    });
    post({ type: 'ready' });
  } catch (e) {
    await closeSurface();
    const err = e as Error;
    post({ type: 'failed', name: err.name, message: err.message });
  }
}

export interface ServeWorkerThread {
  /** The workers' series (diagnoses, job wait, queue depth, Slack calls) for the admin server's /metrics. */
  metrics(): Promise<MetricsSnapshot>;
  /** Rejects when the thread dies on its own (an uncaught error): serve then stops like a crashed process. */
  readonly crashed: Promise<never>;
  /** Lets the running jobs finish (within the shutdown timeout), closes the thread's Redis and Slack clients. */
  close(): Promise<void>;
}

/**
 * Starts the workers' thread and resolves once its workers are ready. A Redis that is
 * unreachable or may evict keys rejects with RedisSetupError, as an in-process start would.
 */
export async function startServeWorkers(data: ServeWorkersData, log: Logger): Promise<ServeWorkerThread> {
  const thread = siblingThread(__filename, 'serve-workers-thread', { workerData: data });
  let stopping = false;
  let nextId = 0;
  const scrapes = new Map<number, (m: MetricsSnapshot) => void>();
  let crash: (e: Error) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => (crash = reject));
  crashed.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  let markStopped: () => void = () => undefined;
  // The thread says when its workers and clients are closed (or exits); then it is terminated.
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
    thread.once('exit', () => resolve());
  });
  const started = new Promise<void>((resolve, reject) => {
    thread.on('message', (m: FromThread) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'failed') reject(m.name === 'RedisSetupError' ? new RedisSetupError(m.message) : new Error(`serve workers did not start: ${m.message}`));
      else if (m.type === 'metrics') scrapes.get(m.id)?.(m.metrics);
      else markStopped();
    });
    thread.on('error', (err) => {
      log.error({ err }, 'serve workers thread failed');
      reject(err);
      crash(err);
    });
    thread.once('exit', (code) => {
      const err = new Error(`serve workers thread exited (code ${code})`);
      reject(err);
      if (!stopping) crash(err);
    });
  });
  try {
    await started;
  } catch (e) {
    stopping = true;
    await thread.terminate();
    throw e;
  }
  return {
    crashed,
    metrics: () =>
      stopping ? Promise.resolve([]) : new Promise<MetricsSnapshot>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          scrapes.delete(id);
          reject(new Error('serve workers thread did not answer the metrics scrape'));
        }, 2_000);
        scrapes.set(id, (m) => {
          clearTimeout(timer);
          scrapes.delete(id);
          resolve(m);
        });
        thread.postMessage({ type: 'metrics', id } satisfies ToThread);
      }),
    close: async () => {
      if (!stopping) {
        stopping = true;
        thread.postMessage({ type: 'stop' } satisfies ToThread);
      }
      await stopped;
      await thread.terminate();
    },
  };
}
