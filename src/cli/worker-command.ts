import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Config, loadConfig, parseSetting } from '../config';
import { NetdoctorError } from '../domain/errors';
import type { ChatSurface } from '../domain/ports';
import type { Logger } from '../domain/run-context';
import { createLogger } from '../observability/logger';
import { Producer, type QueueStatus, producerOptions } from '../queue/queues';
import { dumpReaderFor, liveReaderFor } from '../queue/readers';
import { consoleSurface } from '../queue/recording-surface';
import { RedisSetupError } from '../queue/redis';
import { startWorkers } from '../queue/workers';
import type { CliIo } from './main';

/** Where shutdown signals come from (the process; tests pass an EventEmitter). */
export interface SignalSource {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  removeListener(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface QueueCommandDeps {
  signals?: SignalSource;
  /**
   * The chat surface the worker posts through, and how to release it (e.g. its Redis client).
   * @defaultValue the console (stdout); main.ts passes the Slack surface when Slack is configured.
   */
  makeSurface?: (config: Config, io: CliIo, log: Logger) => Promise<{ surface: ChatSurface; close(): Promise<void> }>;
}

function flags(args: string[], options: NonNullable<ParseArgsConfig['options']>): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new NetdoctorError('bad_input', (e as Error).message);
  }
}

function configFrom(values: Record<string, unknown>, io: CliIo): Config {
  const cluster = values.cluster as string | undefined;
  return loadConfig(io.env, cluster ? { cluster: parseSetting('cluster', cluster, '--cluster') } : {});
}

/** Redis problems are the operator's to fix: one clear line, exit 2. */
async function reportingRedis(io: CliIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof RedisSetupError) {
      io.stderr(`netdoctor: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function untilSignal(signals: SignalSource): Promise<string> {
  return new Promise((resolve) => {
    const onTerm = (): void => done('SIGTERM');
    const onInt = (): void => done('SIGINT');
    const done = (name: string): void => {
      signals.removeListener('SIGTERM', onTerm);
      signals.removeListener('SIGINT', onInt);
      resolve(name);
    };
    signals.once('SIGTERM', onTerm);
    signals.once('SIGINT', onInt);
  });
}

/**
 * `netdoctor worker --cluster NAME [--from DIR]`: the cluster's diagnose and digest workers until
 * SIGTERM/SIGINT, then a graceful stop (current jobs finish within the shutdown timeout).
 */
export async function workerCommand(args: string[], io: CliIo, deps: QueueCommandDeps = {}): Promise<number> {
  const { values } = flags(args, { cluster: { type: 'string' }, from: { type: 'string' } });
  const config = configFrom(values, io);
  const log = createLogger({ level: config.logLevel });
  const makeSurface = deps.makeSurface ?? (async (_c, cliIo) => ({ surface: consoleSurface(cliIo.stdout), close: async () => undefined }));
  const readerFor = values.from ? dumpReaderFor(config.cluster, values.from as string) : liveReaderFor(config);
  return reportingRedis(io, async () => {
    const { surface, close } = await makeSurface(config, io, log);
    try {
      const workers = await startWorkers({ config, surface, readerFor, log });
      const signal = await untilSignal(deps.signals ?? process);
      log.info({ signal }, 'shutting down');
      await workers.close();
      return 0;
    } finally {
      await close();
    }
  });
}

/** `netdoctor digest --cluster NAME [--channel C]`: queues a digest now. */
export async function digestCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = flags(args, { cluster: { type: 'string' }, channel: { type: 'string' } });
  const config = configFrom(values, io);
  const channel = (values.channel as string | undefined) ?? config.digestChannel;
  if (!channel) throw new NetdoctorError('bad_input', 'no digest channel: pass --channel or set NETDOCTOR_DIGEST_CHANNEL');
  return reportingRedis(io, async () => {
    const producer = await Producer.connect(producerOptions(config));
    try {
      const { jobId } = await producer.triggerDigestNow(config.cluster, { channel: parseSetting('digestChannel', channel, '--channel'), requestedBy: 'cli' });
      io.stdout(`digest for cluster ${config.cluster} queued as job ${jobId}\n`);
      return 0;
    } finally {
      await producer.close();
    }
  });
}

export function renderStatus(status: QueueStatus): string {
  const rows = Object.values(status.queues).map((q) => [q.name, q.waiting, q.active, q.delayed, q.failed, q.workers].map(String));
  const head = ['queue', 'waiting', 'active', 'delayed', 'failed', 'workers'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const digest = `last digest: ${status.lastDigestAt ?? 'never'}${status.nextDigestAt ? `; next: ${status.nextDigestAt}` : '; not scheduled'}`;
  return [line(head), ...rows.map(line), digest].join('\n') + '\n';
}

/** `netdoctor status [--cluster NAME] [--output text|json]`: the operator view of a cluster's queues. */
export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = flags(args, { cluster: { type: 'string' }, output: { type: 'string', default: 'text' } });
  if (values.output !== 'text' && values.output !== 'json') throw new NetdoctorError('bad_input', '--output must be text or json');
  const config = configFrom(values, io);
  return reportingRedis(io, async () => {
    const producer = await Producer.connect(producerOptions(config));
    try {
      const status = await producer.queueStatus(config.cluster);
      io.stdout(values.output === 'json' ? JSON.stringify(status, null, 2) + '\n' : renderStatus(status));
      return 0;
    } finally {
      await producer.close();
    }
  });
}
