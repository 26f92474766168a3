import { type ParseArgsConfig, parseArgs } from 'node:util';
import { webApi } from '@slack/bolt';
import { KubeApi } from '../cluster/kube-api';
import { loadKubeConfig } from '../cluster/kubeconfig';
import { type Config, kubeEnv, loadConfig, parseSetting } from '../config';
import { NetdoctorError } from '../domain/errors';
import type { ChatSurface } from '../domain/ports';
import type { Logger } from '../domain/run-context';
import { clusterReachable, redisPing } from '../observability/health';
import { createLogger } from '../observability/logger';
import { type Metrics, createMetrics } from '../observability/metrics';
import { countingWebClient } from '../observability/slack-metrics';
import { Producer, type QueueStatus, producerOptions } from '../queue/queues';
import { dumpReaderFor, liveReaderFor, liveWriterFor } from '../cluster/connect';
import { readAccessFromConfig } from './approval-policy';
import { consoleSurface } from './console-surface';
import { RedisSetupError, type RedisClient, redisClient } from '../queue/redis';
import { sharedKey } from '../store/keys';
import { type RunningWorkers, startWorkers } from '../queue/workers';
import { safeJson } from '../render/control-chars';
import { webClientOptions } from '../slack/app';
import { redisNamespaceDirectory, startNamespacePublisher } from '../store/namespace-directory';
import { SlackSurface } from '../slack/slack-surface';
import { AdminPortError, type SignalSource, startAdmin, untilSignal } from './admin';
import { surfacePageOptions, pageLinksFrom } from '../report-page/report-pages';
import type { CliIo } from './io';


export interface QueueCommandDeps {
  signals?: SignalSource;
  /**
   * The chat surface the worker posts through, and how to release it (e.g. its Redis client).
   * @defaultValue the Slack surface when SLACK_BOT_TOKEN is set, else the console (stdout)
   */
  makeSurface?: (config: Config, io: CliIo, log: Logger, metrics: Metrics) => Promise<{ surface: ChatSurface; close(): Promise<void> }>;
  /** Port of /healthz, /readyz and /metrics. @defaultValue config.adminPort (NETDOCTOR_ADMIN_PORT); tests pass 0 */
  adminPort?: number;
  /** Told the admin port once it listens (how a test finds the port it passed as 0). */
  onAdminListening?: (port: number) => void;
}

/**
 * Where a worker posts: Slack when SLACK_BOT_TOKEN is set (the same per-run records as the front
 * end's surface, so a run opened by `serve` is continued in its thread), else stdout.
 */
export async function defaultSurface(config: Config, io: CliIo, log: Logger, metrics?: Metrics): Promise<{ surface: ChatSurface; close(): Promise<void> }> {
  if (!config.slackBotToken) return { surface: consoleSurface(io.stdout), close: async () => undefined };
  return workerSlackSurface(config, config.slackBotToken, log, metrics);
}

/** The Slack surface of a process or thread that only posts (workers): its own Web API client and Redis client. */
export function workerSlackSurface(config: Config, botToken: string, log: Logger, metrics?: Metrics): { surface: SlackSurface; close(): Promise<void> } {
  const reportLink = surfacePageOptions(pageLinksFrom(config));
  // Workers only post: no receiver, so neither SLACK_MODE's app token nor the signing secret is needed.
  const options = webClientOptions(config.slackApiUrl ? { apiUrl: config.slackApiUrl } : {}, log);
  const client = metrics ? countingWebClient(botToken, options, metrics) : new webApi.WebClient(botToken, options);
  const redis = redisClient(config.redis, 'worker', { lazyConnect: true });
  redis.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'redis (slack) connection error'));
  const surface = new SlackSurface({ client, redis, log: log.child({ component: 'slack-surface' }), prefix: sharedKey(config.queuePrefix, 'slack'), ttlSeconds: config.reportTtlSeconds, ...reportLink });
  return { surface, close: () => closeRedis(redis) };
}

async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'wait' || redis.status === 'end') { redis.disconnect(); return; }
  await redis.quit().catch(() => redis.disconnect());
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

/** Redis problems (and a busy admin port) are the operator's to fix: one clear line, exit 2. */
async function reportingRedis(io: CliIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof RedisSetupError || e instanceof AdminPortError) {
      io.stderr(`netdoctor: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}


/**
 * `netdoctor worker --cluster NAME [--from DIR]`: the cluster's diagnose and digest workers until
 * SIGTERM/SIGINT, then a graceful stop (current jobs finish within the shutdown timeout).
 * The admin server (/healthz, /readyz: Redis, cluster, workers started; /metrics) comes up first;
 * with a live cluster the worker also publishes its namespace list for the Slack front end.
 */
export async function workerCommand(args: string[], io: CliIo, deps: QueueCommandDeps = {}): Promise<number> {
  const { values } = flags(args, { cluster: { type: 'string' }, from: { type: 'string' } });
  const config = configFrom(values, io);
  const log = createLogger({ level: config.logLevel });
  const makeSurface = deps.makeSurface ?? defaultSurface;
  const readerFor = values.from ? dumpReaderFor(config.cluster, values.from as string) : liveReaderFor(config);
  // One long-lived client for the readiness probe and the namespace list (runs lease their own).
  const api = values.from ? undefined : await KubeApi.fromKubeConfig(await loadKubeConfig({ context: config.kubeContext, env: kubeEnv(config) }));
  // Fails fast while Redis is down: the probe answers within its timeout, the publisher logs and goes on.
  const redis = redisClient(config.redis, 'producer', { lazyConnect: true });
  redis.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'redis (probe) connection error'));
  const metrics = createMetrics({ defaultLabels: { component: 'worker' } });
  let workers: RunningWorkers | undefined;
  return reportingRedis(io, async () => {
    try {
      const admin = await startAdmin({
        port: deps.adminPort ?? config.adminPort,
        host: config.adminHost,
        metrics,
        log,
        readiness: {
          redis: redisPing(redis),
          ...(api ? { cluster: clusterReachable(() => api.request('/version')) } : {}),
          workers: async () => {
            if (!workers) throw new Error('starting');
          },
        },
        ...(deps.onAdminListening ? { onListening: deps.onAdminListening } : {}),
      });
      try {
        const { surface, close } = await makeSurface(config, io, log, metrics); // eslint-disable-line @typescript-eslint/unbound-method -- an object literal's function, no `this`
        try {
          // Read authorization asks this cluster's apiserver (SubjectAccessReview); a dump has none to ask.
          const readAccess = { policy: readAccessFromConfig(config), ...(values.from ? {} : { writerFor: liveWriterFor(config) }) };
          workers = await startWorkers({ config, surface, readerFor, log, metrics, readAccess });
          if (redis.status === 'wait') await redis.connect(); // checked by startWorkers (a /readyz may have started the connect)
          const publisher = api
            ? startNamespacePublisher({
                cluster: config.cluster,
                directory: redisNamespaceDirectory(redis, config.queuePrefix),
                list: async () => (await api.json<{ items: { metadata?: { name?: string } }[] }>('/api/v1/namespaces')).items.map((n) => n.metadata?.name ?? '').filter(Boolean),
                log,
              })
            : undefined;
          const signal = await untilSignal(deps.signals ?? process);
          log.info({ signal }, 'shutting down');
          admin.markShuttingDown();
          await publisher?.stop();
          await workers.close();
          return 0;
        } finally {
          await close();
        }
      } finally {
        await admin.close();
      }
    } finally {
      await closeRedis(redis);
      api?.close();
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
      io.stdout(values.output === 'json' ? safeJson(status) + '\n' : renderStatus(status));
      return 0;
    } finally {
      await producer.close();
    }
  });
}
