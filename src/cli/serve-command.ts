import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { JobType } from 'bullmq';
import { CHECKS } from '../checks';
import { KubeApi } from '../cluster/kube-api';
import { loadKubeConfig } from '../cluster/kubeconfig';
import { type Config, kubeEnv, loadConfig, parseSetting } from '../config';
import { NetdoctorError } from '../domain/errors';
import type { Logger } from '../domain/run-context';
import { loadWorkflows } from '../engine/workflow';
import { clusterReachable, redisPing, slackAuth } from '../observability/health';
import { createLogger } from '../observability/logger';
import { type Metrics, createMetrics, queueSampler } from '../observability/metrics';
import { queueAddress, queueLabel } from '../queue/jobs';
import type { ReaderFactory } from '../domain/cluster-view';
import { Producer, producerOptions } from '../queue/queues';
import { RedisSetupError, type RedisClient, awaitRedis, hashTaggedQueues, redisClient } from '../queue/redis';
import { sharedKey } from '../store/keys';
import { startWorkers } from '../queue/workers';
import { type ServeWorkerThread, startServeWorkers } from './serve-workers';
import { policyFromConfig, readAccessFromConfig } from './approval-policy';
import { AuditLog, auditKey, refusedClicksKey } from '../store/audit-log';
import { type DecisionDeps, decidePlan } from '../remediation/decide-plan';
import { PlanLedger } from '../store/plan-ledger';
import { RunStore } from '../store/run-store';
import type { WriterFactory } from '../domain/cluster-writer';
import type { PlanActionDeps } from '../slack/plan-actions';
import { type SlackSettings, createSlackApp, createWebClient, redisDeliveryDedupe, webClientOptions } from '../slack/app';
import { countingWebClient } from '../observability/slack-metrics';
import type { ClusterStatus } from '../slack/blocks';
import type { CommandDeps } from '../slack/commands';
import { type NamespaceDirectory, redisNamespaceDirectory, startNamespacePublisher } from '../store/namespace-directory';
import { SlackSurface } from '../slack/slack-surface';
import { type ReportPageStores, pageLinksFrom, startReportPages, surfacePageOptions } from '../report-page/report-pages';
import type { PageServer } from '../report-page/server';
import { AdminPortError, type SignalSource, startAdmin, untilSignal } from './admin';
import type { CliIo } from './io';

/** The Slack part of the configuration, checked for the chosen mode (names the variable that is missing). */
export function slackSettings(config: Config): SlackSettings {
  const missing = (name: string, why: string): never => {
    throw new NetdoctorError('bad_input', `${name} is not set: ${why}`);
  };
  const botToken = config.slackBotToken ?? missing('SLACK_BOT_TOKEN', 'netdoctor serve posts as the bot');
  if (config.slackMode === 'socket' && !config.slackAppToken) missing('SLACK_APP_TOKEN', 'Socket Mode needs an app-level token (or set SLACK_MODE=http)');
  if (config.slackMode === 'http' && !config.slackSigningSecret) missing('SLACK_SIGNING_SECRET', 'HTTP mode verifies every request with it');
  return {
    mode: config.slackMode,
    botToken,
    ...(config.slackAppToken ? { appToken: config.slackAppToken } : {}),
    ...(config.slackSigningSecret ? { signingSecret: config.slackSigningSecret } : {}),
    port: config.slackPort,
    host: config.slackHost,
    ...(config.slackApiUrl ? { apiUrl: config.slackApiUrl } : {}),
  };
}

/** Wires `/netdoctor` to the queue (producer side) and the surface; nothing here reads a cluster. */
export function commandDeps(options: { config: Config; producer: Producer; surface: SlackSurface; log: Logger; directory?: NamespaceDirectory }): CommandDeps {
  const { config, producer, surface, log, directory } = options;
  const clusters = config.slackClusters.length > 0 ? config.slackClusters : [config.cluster];
  const workflows = [...loadWorkflows(CHECKS).values()]
    .filter((w) => w.scope === 'namespace')
    .map((w) => w.name)
    .sort((a, b) => (a === 'namespace-triage' ? -1 : b === 'namespace-triage' ? 1 : a.localeCompare(b)));
  return {
    enqueue: (request, requestId) => producer.enqueueDiagnose(request, requestId),
    openRun: (runId, request) => surface.openRun(runId, request),
    parentOf: (runId) => surface.parentOf(runId),
    status: async (): Promise<ClusterStatus[]> =>
      Promise.all(
        clusters.map(async (cluster) => {
          const s = await producer.queueStatus(cluster);
          const d = s.queues.diagnose;
          return { cluster, waiting: d.waiting, active: d.active, failed: d.failed, delayed: d.delayed, workers: d.workers, ...(s.lastDigestDay ? { lastDigest: s.lastDigestDay } : {}), ...(s.nextDigestAt ? { nextDigest: s.nextDigestAt } : {}) };
        }),
      ),
    digestNow: async ({ cluster, channel, requestedBy }) => (await producer.triggerDigestNow(cluster, { channel, requestedBy })).jobId,
    checks: CHECKS.map((c) => ({ id: c.id, title: c.title, codes: c.codes })),
    workflows,
    clusters,
    allowedChannels: config.slackAllowedChannels,
    ...(directory ? { knownNamespaces: (cluster: string) => directory.known(cluster) } : {}),
    log,
  };
}

/** Wires the plan buttons to the decisions (front end side: no cluster access; the remediate worker applies). */
export function planActionDeps(options: { config: Config; producer: Producer; surface: SlackSurface; redis: RedisClient; log: Logger }): PlanActionDeps {
  const { config, producer, surface, redis, log } = options;
  const policy = policyFromConfig(config);
  const ledger = new PlanLedger(redis, config.queuePrefix, config.reportTtlSeconds);
  const deps: DecisionDeps = {
    ledger,
    loadPlan: (cluster, planId) => producer.loadPlan(cluster, planId),
    enqueue: (job, approvalId) => producer.enqueueRemediate(job, approvalId),
    surface,
    audit: new AuditLog(redis, auditKey(config.queuePrefix), log),
    refusals: new AuditLog(redis, refusedClicksKey(config.queuePrefix), log, 1_000),
    policy,
    clock: () => new Date(),
    log,
  };
  return {
    clusterOf: (planId) => ledger.clusterOf(planId),
    decide: (click) => decidePlan(deps, click),
    ...(policy.groups.length > 0 ? { groupsOf: (user: string) => surface.userGroups(user, policy.groups) } : {}),
    log,
  };
}

export interface ServeOptions {
  config: Config;
  slack: SlackSettings;
  /** What the in-process workers read (required unless frontEndOnly). */
  readerFor?: ReaderFactory;
  log: Logger;
  /** Skip the workers (a front end for clusters whose workers run elsewhere: `netdoctor worker`, or serve's workers thread). */
  frontEndOnly?: boolean;
  /**
   * Lists the local cluster's namespaces, published to Redis every 30 s so `/netdoctor typo`
   * is refused at once; without it a missing namespace is reported by the worker.
   */
  listNamespaces?: () => Promise<string[]>;
  /** Cluster writes for approved plans; without it plans are shown for manual application only. */
  writerFor?: WriterFactory;
  /** Prometheus series of the workers (diagnoses, job wait, queue depth), served on the admin port. */
  metrics?: Metrics;
  /** Port of the report pages when they are configured. @defaultValue config.reportPort; tests pass 0 */
  reportPort?: number;
}

export interface RunningServe {
  /** HTTP mode: the port /slack/events listens on. */
  port?: number;
  /** The report pages' port, when NETDOCTOR_REPORT_URL and NETDOCTOR_REPORT_LINK_KEY are set. */
  reportPort?: number;
  surface: SlackSurface;
  producer: Producer;
  /** Stops taking Slack requests first, then lets the workers finish, then closes Redis. */
  stop(): Promise<void>;
}

/** The report pages read runs, plan decisions and the audit stream from Redis (read only). */
function pageStores(config: Config, redis: RedisClient, log: Logger): ReportPageStores {
  return {
    runs: new RunStore(redis, config.queuePrefix, config.reportTtlSeconds),
    ledger: new PlanLedger(redis, config.queuePrefix, config.reportTtlSeconds),
    audit: new AuditLog(redis, auditKey(config.queuePrefix), log),
  };
}

/** The single-cluster install: the Slack front end plus the local cluster's workers, one process. */
export async function startServe({ config, slack, readerFor, log, frontEndOnly = false, listNamespaces, writerFor, metrics, reportPort }: ServeOptions): Promise<RunningServe> {
  const links = pageLinksFrom(config);
  const producer = await Producer.connect(producerOptions(config));
  const surfaceRedis = redisClient(config.redis, 'worker', { lazyConnect: true });
  // Fails fast while Redis is down: the handler has 3 seconds (B3).
  const dedupeRedis = redisClient(config.redis, 'producer', { lazyConnect: true });
  for (const r of [surfaceRedis, dedupeRedis]) r.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'redis (slack) connection error'));
  const closeRedis = async (): Promise<void> => {
    await Promise.all([surfaceRedis, dedupeRedis].map((r) => r.quit().catch(() => r.disconnect())));
  };
  let pages: PageServer | undefined;
  try {
    await Promise.all([surfaceRedis.connect(), dedupeRedis.connect()]);
    const surface = new SlackSurface({
      client: metrics ? countingWebClient(slack.botToken, webClientOptions(slack, log), metrics) : createWebClient(slack, log),
      redis: surfaceRedis,
      log: log.child({ component: 'slack-surface' }),
      prefix: sharedKey(config.queuePrefix, 'slack'),
      ttlSeconds: config.reportTtlSeconds,
      ...surfacePageOptions(links),
    });
    const policy = policyFromConfig(config);
    const remediation = writerFor ? { remediation: { writerFor, surface, policy } } : {};
    const readAccess = { policy: readAccessFromConfig(config), ...(writerFor ? { writerFor } : {}) };
    if (!frontEndOnly && !readerFor) throw new Error('startServe: readerFor is required unless frontEndOnly');
    const workers = frontEndOnly || !readerFor ? undefined : await startWorkers({ config, surface, readerFor, log, readAccess, ...remediation, ...(metrics ? { metrics } : {}) });
    const directory = redisNamespaceDirectory(dedupeRedis, config.queuePrefix);
    const publisher = listNamespaces ? startNamespacePublisher({ cluster: config.cluster, directory, list: listNamespaces, log }) : undefined;
    await publisher?.ready;
    const healthz = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    };
    const front = createSlackApp({
      settings: slack,
      commands: commandDeps({ config, producer, surface, log, directory }),
      dedupe: redisDeliveryDedupe(dedupeRedis, sharedKey(config.queuePrefix, 'slack')),
      log,
      planActions: planActionDeps({ config, producer, surface, redis: surfaceRedis, log }),
      // Socket Mode would open a listener just for this route; the admin port has the probes there.
      routes: slack.mode === 'http' ? [{ path: '/healthz', method: ['GET'], handler: healthz }] : [],
    });
    pages = links ? await startReportPages({ config, links, stores: pageStores(config, surfaceRedis, log), log, ...(reportPort !== undefined ? { port: reportPort } : {}) }) : undefined;
    const { port } = await front.start();
    log.info({ mode: slack.mode, port, cluster: config.cluster }, 'slack front end started');
    let stopping: Promise<void> | undefined;
    return {
      ...(port !== undefined ? { port } : {}),
      ...(pages ? { reportPort: pages.port } : {}),
      surface,
      producer,
      stop: () =>
        (stopping ??= (async () => {
          await front.stop().catch((err: unknown) => log.warn({ err }, 'slack receiver did not stop cleanly'));
          await pages?.close();
          await publisher?.stop();
          await workers?.close();
          await producer.close();
          await closeRedis();
        })()),
    };
  } catch (e) {
    await pages?.close();
    await producer.close();
    await closeRedis();
    throw e;
  }
}


function flags(args: string[], options: NonNullable<ParseArgsConfig['options']>): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new NetdoctorError('bad_input', (e as Error).message);
  }
}

/** What tests change about `netdoctor serve` (production takes everything from the environment). */
export interface ServeCommandOptions {
  /** Port of /healthz, /readyz and /metrics. @defaultValue config.adminPort (NETDOCTOR_ADMIN_PORT); tests pass 0 */
  adminPort?: number;
  /** Told the admin port once it listens (how a test finds the port it passed as 0). */
  onAdminListening?: (port: number) => void;
}

/** Queue depth of every cluster the front end serves (a front end without workers has no other source). */
function frontEndQueues(config: Config, producer: () => Producer | undefined): ReturnType<typeof queueSampler> {
  const clusters = config.slackClusters.length > 0 ? config.slackClusters : [config.cluster];
  const queues = clusters.flatMap((cluster) =>
    (['diagnose', 'digest', 'remediate'] as const).map((kind) => {
      const queue = async () => {
        const p = producer();
        if (!p) throw new Error('producer closed');
        return p.queue(cluster, kind);
      };
      return {
        name: queueLabel(queueAddress(config.queuePrefix, cluster, kind, hashTaggedQueues(config.redis))),
        getJobCounts: async (...types: string[]) => (await queue()).getJobCounts(...(types as JobType[])),
        getWaiting: async (start?: number, end?: number) => (await queue()).getWaiting(start, end),
      };
    }),
  );
  return queueSampler(() => (producer() ? queues : []));
}

/**
 * `netdoctor serve [--cluster NAME] [--from DIR] [--front-end-only]`: Slack front end and the local
 * cluster's workers (none with --front-end-only: multi-cluster installs run `netdoctor worker` per
 * cluster) until SIGTERM/SIGINT, then a graceful stop. The admin server (/healthz; /readyz: Redis,
 * Slack auth, the cluster when workers run here, started; /metrics) comes up before anything connects.
 */
export async function serveCommand(args: string[], io: CliIo, signals: SignalSource = process, options: ServeCommandOptions = {}): Promise<number> {
  const { values } = flags(args, { cluster: { type: 'string' }, from: { type: 'string' }, 'front-end-only': { type: 'boolean', default: false } });
  const cluster = values.cluster as string | undefined;
  const config = loadConfig(io.env, cluster ? { cluster: parseSetting('cluster', cluster, '--cluster') } : {});
  const slack = slackSettings(config);
  const log = createLogger({ level: config.logLevel });
  const frontEndOnly = values['front-end-only'] === true;
  const from = values.from as string | undefined;
  // One long-lived client for the namespace list (the front end itself never reads the cluster).
  const api = from || frontEndOnly ? undefined : await KubeApi.fromKubeConfig(await loadKubeConfig({ context: config.kubeContext, env: kubeEnv(config) }));
  const listNamespaces = api
    ? async (): Promise<string[]> => (await api.json<{ items: { metadata?: { name?: string } }[] }>('/api/v1/namespaces')).items.map((n) => n.metadata?.name ?? '').filter(Boolean)
    : undefined;
  // Readiness: a fail-fast Redis client of its own, and auth.test (cached) with the bot token.
  const probeRedis = redisClient(config.redis, 'producer', { lazyConnect: true });
  probeRedis.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'redis (probe) connection error'));
  const metrics = createMetrics({ defaultLabels: { component: 'serve' } });
  let running: RunningServe | undefined;
  let workers: ServeWorkerThread | undefined;
  let admin: Awaited<ReturnType<typeof startAdmin>> | undefined;
  try {
    admin = await startAdmin({
      port: options.adminPort ?? config.adminPort,
      host: config.adminHost,
      metrics,
      threadMetrics: async () => (await workers?.metrics()) ?? [],
      log,
      readiness: {
        redis: redisPing(probeRedis),
        slack: slackAuth(createWebClient(slack, log)),
        ...(api ? { cluster: clusterReachable(() => api.request('/version')) } : {}),
        started: async () => {
          if (!running) throw new Error('starting');
        },
      },
      ...(options.onAdminListening ? { onListening: options.onAdminListening } : {}),
    });
    // Redis may start beside serve (the chart's StatefulSet): wait for it rather than crash-loop.
    await awaitRedis(config.redis, config.redisWaitSeconds, log);
    // The workers run in a thread of their own, so a diagnosis never holds up a Slack ack (issue 20).
    workers = frontEndOnly ? undefined : await startServeWorkers({ env: io.env, cluster: config.cluster, ...(from ? { from } : {}) }, log);
    running = await startServe({ config, slack, log, frontEndOnly: true, metrics, ...(listNamespaces ? { listNamespaces } : {}) });
    let producer: Producer | undefined = running.producer;
    if (frontEndOnly) metrics.observeQueues(frontEndQueues(config, () => producer));
    const signal = await (workers ? Promise.race([untilSignal(signals), workers.crashed]) : untilSignal(signals));
    log.info({ signal }, 'shutting down');
    admin.markShuttingDown();
    producer = undefined;
    await running.stop();
    await workers?.close();
    return 0;
  } catch (e) {
    if (e instanceof RedisSetupError || e instanceof AdminPortError) {
      io.stderr(`netdoctor: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    await workers?.close();
    await admin?.close();
    probeRedis.disconnect();
    api?.close();
  }
}
