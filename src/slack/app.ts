import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import {
  App,
  type CustomRoute,
  HTTPReceiver,
  LogLevel,
  type Logger as BoltLogger,
  type Middleware,
  type ReceiverProcessEventErrorHandlerArgs,
  type SocketModeReceiverProcessEventErrorHandlerArgs,
  SocketModeReceiver,
  type AnyMiddlewareArgs,
  webApi,
} from '@slack/bolt';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../domain/run-context';
import { type CommandDeps, registerCommands } from './commands';
import { type PlanActionDeps, registerPlanActions } from './plan-actions';

export type SlackMode = 'socket' | 'http';

/** Slack settings (from config.ts; secrets never logged). */
export interface SlackSettings {
  mode: SlackMode;
  botToken: string;
  /** `xapp-…` with connections:write; Socket Mode only. */
  appToken?: string;
  /** HTTP mode only: requests are verified with it (HMAC v0, at most 5 minutes old). */
  signingSecret?: string;
  /** HTTP mode: where the receiver listens (0: any free port). @defaultValue 3000 */
  port?: number;
  /** HTTP mode: bind address. @defaultValue all interfaces */
  host?: string;
  /** HTTP mode: how long a request may take to arrive, headers and body (slow bodies are cut off). @defaultValue 10 s */
  requestTimeoutMs?: number;
  /** Web API base URL (a local emulator in tests). @defaultValue `https://slack.com/api/` */
  apiUrl?: string;
  /** Retries of one Web API call on 429 (after Retry-After) and 5xx. @defaultValue 3 */
  retries?: number;
  /**
   * Per-request timeout of a Web API call. A post that times out is retried though Slack may have
   * made it (chat.postMessage has no idempotency key), so the bound is generous. @defaultValue 30 s
   */
  timeoutMs?: number;
}

/** Which inbound deliveries were already processed (Slack is at-least-once; replays must not queue twice). */
export interface DeliveryDedupe {
  /** True when none of the ids was seen before; records them all. */
  firstSeen(ids: readonly string[]): Promise<boolean>;
}

/** Dedupe in Redis with a TTL longer than Slack's 5-minute signature window. */
export function redisDeliveryDedupe(redis: Redis | Cluster, prefix = '{netdoctor}:slack', ttlSeconds = 600): DeliveryDedupe {
  return {
    async firstSeen(ids) {
      // One round trip for all ids: this runs before the ack, inside Slack's 3 seconds. Under Redis
      // Cluster a pipeline must stay in one slot: the prefix is hash-tagged (store/keys.ts sharedKey).
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.set(`${prefix}:delivery:${createHash('sha256').update(id).digest('hex').slice(0, 32)}`, '1', 'EX', ttlSeconds, 'NX');
      const replies = (await pipeline.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      return replies.every(([, reply]) => reply === 'OK');
    },
  };
}

/** A delivery seen before: HTTP answers 401 (a replayed signed request), Socket Mode acks and drops it. */
export class DuplicateDeliveryError extends Error {
  readonly code = 'netdoctor_duplicate_delivery';
  constructor(message = 'duplicate Slack delivery (replayed request or redelivered envelope)') {
    super(message);
    this.name = 'DuplicateDeliveryError';
  }
}

/** Slack's signature window, both ways: Bolt refuses older requests, the dedupe middleware newer ones. */
const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/**
 * The identity of a signed HTTP delivery: a digest of what the signature covers (timestamp and raw
 * body), not the header text, which Bolt parses loosely (`v0=<sig>=x` verifies like `v0=<sig>`).
 */
function httpDeliveryId(req: { headers: Record<string, string | string[] | undefined>; rawBody?: Buffer }): string {
  return createHash('sha256')
    .update(`${String(req.headers['x-slack-request-timestamp'] ?? '')}:`)
    .update(req.rawBody ?? Buffer.alloc(0))
    .digest('hex');
}

/** Bolt's and web-api's logger interface over our pino-style logger (B13). Debug stays off: it logs request bodies. */
export function boltLogger(log: Logger, name = 'slack'): BoltLogger {
  let level = LogLevel.INFO;
  let bound = log.child({ component: name });
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const enabled = (l: LogLevel): boolean => order.indexOf(l) >= order.indexOf(level);
  const line = (msg: unknown[]): [object, string] => {
    const err = msg.find((m): m is Error => m instanceof Error);
    return [err ? { err } : {}, msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ')];
  };
  return {
    debug: (...msg) => enabled(LogLevel.DEBUG) && bound.debug(...line(msg)),
    info: (...msg) => enabled(LogLevel.INFO) && bound.info(...line(msg)),
    warn: (...msg) => enabled(LogLevel.WARN) && bound.warn(...line(msg)),
    error: (...msg) => enabled(LogLevel.ERROR) && bound.error(...line(msg)),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: (n) => void (bound = log.child({ component: n })),
  };
}

/** WebClient options shared by Bolt's client and the workers' surface: bounded retries, a timeout, the API URL. */
export function webClientOptions(settings: Pick<SlackSettings, 'apiUrl' | 'retries' | 'timeoutMs'>, log: Logger): webApi.WebClientOptions {
  return {
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
    logger: boltLogger(log, 'slack-web-api'),
    // p-retry: 429 waits Retry-After and retries; 5xx and network errors back off 0.5 s, 1 s, 2 s…
    retryConfig: { retries: settings.retries ?? 3, factor: 2, minTimeout: 500, maxTimeout: 10_000, randomize: true },
    timeout: settings.timeoutMs ?? 30_000,
  };
}

/** The Web API client workers post with (not through Bolt). */
export function createWebClient(settings: SlackSettings, log: Logger): webApi.WebClient {
  return new webApi.WebClient(settings.botToken, webClientOptions(settings, log));
}

export interface SlackAppOptions {
  settings: SlackSettings;
  commands: CommandDeps;
  dedupe: DeliveryDedupe;
  log: Logger;
  /** Extra routes served next to /slack/events (HTTP) or on the Socket Mode health port. */
  routes?: CustomRoute[];
  /** Approve / Reject / Rollback buttons; without it no plan buttons are ever posted. */
  planActions?: PlanActionDeps;
}

export interface SlackFrontEnd {
  app: App;
  /** Starts the receiver; in HTTP mode resolves to the port it listens on. */
  start(): Promise<{ port?: number }>;
  stop(): Promise<void>;
}

function deliveryIds(prefix: string, id: unknown, body: Record<string, unknown>): string[] {
  const ids = typeof id === 'string' && id.length > 0 ? [`${prefix}:${id}`] : [];
  // A redelivered slash command or interaction keeps its trigger id, whatever the transport.
  if (typeof body.trigger_id === 'string') ids.push(`trigger:${body.trigger_id}`);
  return ids;
}

/**
 * First in the chain: drops deliveries already seen (signature / envelope id / trigger id).
 * While Redis is unreachable it lets requests through (logged): the enqueue that follows fails
 * anyway and tells the user, and HTTP requests still pass signature and staleness checks.
 */
function dedupeMiddleware(dedupe: DeliveryDedupe, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async ({ context, body, next }) => {
    const sentAt = context.requestTimestamp as number | undefined;
    // The signed timestamp may be old (Bolt refuses that) or in the future: a request dated ahead
    // would stay fresh after its dedupe record expired, so it is refused as well.
    if (sentAt !== undefined && !(sentAt <= Date.now() / 1000 + SIGNATURE_WINDOW_SECONDS)) {
      throw new DuplicateDeliveryError('Slack request timestamp more than 5 minutes in the future');
    }
    const ids = deliveryIds(context.transport as string, context.deliveryId, body as unknown as Record<string, unknown>);
    let first = true;
    try {
      first = ids.length === 0 || (await dedupe.firstSeen(ids));
    } catch (err) {
      log.warn({ err }, 'delivery dedupe unavailable (Redis); processing the request');
    }
    if (!first) throw new DuplicateDeliveryError();
    await next();
  };
}

function isDuplicate(error: unknown): boolean {
  const e = (error ?? {}) as { code?: string; original?: { code?: string } | null };
  return e.code === 'netdoctor_duplicate_delivery' || e.original?.code === 'netdoctor_duplicate_delivery';
}

/**
 * Builds the Bolt app: Socket Mode (default: no ingress needed) or the HTTP receiver (signature
 * verification on the raw body, 5-minute staleness, replays answered 401), the dedupe middleware,
 * `/netdoctor`, and one error handler.
 */
export function createSlackApp({ settings, commands, dedupe, log, routes = [], planActions }: SlackAppOptions): SlackFrontEnd {
  const logger = boltLogger(log, 'bolt');
  const clientOptions = webClientOptions(settings, log);
  let receiver: HTTPReceiver | SocketModeReceiver;
  if (settings.mode === 'http') {
    if (!settings.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
    receiver = new HTTPReceiver({
      signingSecret: settings.signingSecret,
      endpoints: '/slack/events',
      port: settings.port ?? 3000,
      logger,
      customRoutes: routes,
      customPropertiesExtractor: (req) => ({
        transport: 'http',
        deliveryId: httpDeliveryId(req),
        requestTimestamp: Number(req.headers['x-slack-request-timestamp']),
      }),
      processEventErrorHandler: async ({ error, response, logger: l }: ReceiverProcessEventErrorHandlerArgs) => {
        // Returning true marks the request as answered (it clears Bolt's 3 s no-ack timer); the status is written here.
        if (isDuplicate(error)) {
          if (!response.headersSent) {
            response.writeHead(401);
            response.end();
          }
          return true;
        }
        l.error('unhandled error while processing a Slack request', error);
        if (!response.headersSent) {
          response.writeHead(500);
          response.end();
        }
        return true;
      },
    });
  } else {
    if (!settings.appToken) throw new Error('SLACK_APP_TOKEN is required in Socket Mode');
    receiver = new SocketModeReceiver({
      appToken: settings.appToken,
      logger,
      customRoutes: routes,
      installerOptions: { clientOptions, ...(settings.port !== undefined ? { port: settings.port } : {}) },
      customPropertiesExtractor: (args) => ({ transport: 'socket', deliveryId: (args as { envelope_id?: string }).envelope_id ?? '' }),
      processEventErrorHandler: async ({ error, logger: l }: SocketModeReceiverProcessEventErrorHandlerArgs) => {
        if (isDuplicate(error)) return true;
        l.error('unhandled error while processing a Socket Mode event', error);
        // Acked so Slack does not redeliver an event that fails the same way again.
        return true;
      },
    });
  }

  // No conversation store: nothing here keeps per-conversation state, and its middleware ran on every delivery.
  const app = new App({ token: settings.botToken, receiver, logger, clientOptions, convoStore: false });
  app.use(dedupeMiddleware(dedupe, log));
  registerCommands(app, commands);
  if (planActions) registerPlanActions(app, planActions);
  app.error(async (error) => {
    // Duplicates are rethrown so the receiver answers them (401 over HTTP, a silent ack over Socket Mode).
    if (isDuplicate(error)) throw error;
    log.error({ err: error, code: error.code }, 'slack listener failed');
  });

  return {
    app,
    async start() {
      // A slow body holds a connection and a buffer; Slack sends its small requests at once.
      const requestTimeout = settings.requestTimeoutMs ?? 10_000;
      const serverOptions = { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) };
      const started = (settings.mode === 'http' ? await app.start({ port: settings.port ?? 3000, host: settings.host }, serverOptions) : await app.start()) as unknown;
      // HTTP mode resolves to the http.Server; Socket Mode to something without an address.
      const server = started as Partial<Server> | undefined;
      const address = typeof server?.address === 'function' ? server.address() : undefined;
      return { port: address && typeof address === 'object' ? address.port : undefined };
    },
    async stop() {
      await app.stop();
    },
  };
}
