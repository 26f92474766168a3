import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';

/**
 * Paths pino censors. Set once, on the root: a child's `redact` option replaces the parent's
 * instead of merging, so children never pass one. Wildcards match one level only.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'clientSecret',
  '*.clientSecret',
  'password',
  '*.password',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-slack-signature"]',
  '*.headers["x-slack-signature"]',
  'response_url',
  '*.response_url',
  'responseUrl',
  '*.responseUrl',
  'redisUrl',
  '*.redisUrl',
  'redisPassword',
  '*.redisPassword',
  'redisSentinelPassword',
  '*.redisSentinelPassword',
  'redis.password',
  'redis.sentinelPassword',
  '*.redis.password',
  '*.redis.sentinelPassword',
  'kubeconfig.users',
  'user.token',
  'user["client-key-data"]',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; tests pass an in-memory stream (never a transport: it runs in a worker thread). */
  destination?: DestinationStream;
  /** `service` binding on every line. */
  service?: string;
}

export type RootLogger = PinoLogger;

/** The process's root logger: JSON lines on stdout (or `destination`), secrets censored. */
export function createLogger(options: LoggerOptions = {}): RootLogger {
  const opts = {
    level: options.level ?? 'info',
    base: { service: options.service ?? 'netdoctor' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** What identifies one job's lines; ids only, never untrusted objects as bindings. */
export interface JobBindings {
  jobId: string;
  cluster: string;
  queue: string;
  attempt?: number;
}

/** A child logger for one job (or run); keeps the root's redaction. */
export function jobLogger(root: PinoLogger, bindings: JobBindings): PinoLogger {
  return root.child({ ...bindings });
}
