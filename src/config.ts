/**
 * The one module that reads the environment. Every setting is a row in FIELDS: the variable,
 * how to parse it, its default and what it means. `loadConfig` validates all rows and reports
 * every bad variable at once, naming the variable and what is wrong with it.
 *
 * To add a setting: add a row (`setting`, `optional` or `secret`), and the Config type follows.
 */

import { NetdoctorError } from './domain/errors';

type Env = Record<string, string | undefined>;

interface Field<T> {
  /** The environment variable. */
  env: string;
  /** Turns the raw string into the value; throws an Error whose message says what is wrong. */
  parse: (raw: string) => T;
  /** Used when the variable is unset or empty; `undefined` means the setting is optional. */
  default: T;
  /** One line for the README's configuration table. */
  doc: string;
  /** Never printed (describeConfig shows it as set/unset only). */
  secret?: boolean;
}

function setting<T>(env: string, parse: (raw: string) => T, fallback: T, doc: string): Field<T> {
  return { env, parse, default: fallback, doc };
}

function optional<T>(env: string, parse: (raw: string) => T, doc: string): Field<T | undefined> {
  return { env, parse, default: undefined, doc };
}

/** For tokens and signing secrets (e.g. `slackBotToken: secret('SLACK_BOT_TOKEN', '…')`). */
function secret(env: string, doc: string): Field<string | undefined> {
  return { env, parse: text, default: undefined, doc, secret: true };
}

// ---- parsers -----------------------------------------------------------------------------

export function text(raw: string): string {
  return raw;
}

/** A DNS-1123 label (cluster names end up in queue keys and job ids, so no `:` or `.`). */
export function dnsLabel(raw: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(raw)) {
    throw new Error('must be a DNS label: lower-case letters, digits and `-`, at most 63 characters');
  }
  return raw;
}

export function positiveInt(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) throw new Error('must be a positive integer');
  return Number(raw);
}

function redisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL like redis://host:6379/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('must start with redis:// or rediss://');
  return raw;
}

function cron(raw: string): string {
  const parts = raw.trim().split(/\s+/);
  if (parts.length < 5 || parts.length > 6) throw new Error('must be a cron pattern of 5 or 6 fields, e.g. "0 9 * * *"');
  return parts.join(' ');
}

function timeZone(raw: string): string {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: raw });
  } catch {
    throw new Error('must be an IANA time zone such as UTC or Europe/Berlin');
  }
  return raw;
}

function oneOf<T extends string>(...values: T[]): (raw: string) => T {
  return (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
    return raw as T;
  };
}

/** A Slack channel id (C…/G…) or name (#ops); the digest posts there. */
function channel(raw: string): string {
  if (!/^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/.test(raw)) throw new Error('must be a Slack channel id (C0123ABCD) or #name');
  return raw;
}

/** A TCP port (0 is not allowed: operators need to know where it listens). */
function port(raw: string): number {
  const n = positiveInt(raw);
  if (n > 65535) throw new Error('must be a port number between 1 and 65535');
  return n;
}

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL like https://slack.com/api/');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('must start with https:// or http://');
  return raw.endsWith('/') ? raw : `${raw}/`;
}

function channelIds(raw: string): string[] {
  const ids = raw.split(',').map((c) => c.trim()).filter(Boolean);
  const bad = ids.find((c) => !/^[CGD][A-Z0-9]{6,}$/.test(c));
  if (bad !== undefined) throw new Error('must be comma-separated Slack channel ids (C0123ABCD), not names');
  return ids;
}

function clusterList(raw: string): string[] {
  return raw.split(',').map((c) => c.trim()).filter(Boolean).map(dnsLabel);
}

function slackIds(raw: string): string[] {
  const ids = raw.split(',').map((c) => c.trim()).filter(Boolean);
  for (const id of ids) if (!/^[UWS][A-Z0-9]{6,}$/.test(id)) throw new Error(`must list Slack user ids (U…/W…) or user group ids (S…); "${id}" is neither`);
  return ids;
}

function bool(raw: string): boolean {
  if (!/^(true|false|1|0|yes|no)$/i.test(raw)) throw new Error('must be true or false');
  return /^(true|1|yes)$/i.test(raw);
}

/** `U123=alice` or `U123=alice:sre|oncall` (user, then groups), comma-separated. */
function identityMap(raw: string): Record<string, { user: string; groups: string[] }> {
  const map: Record<string, { user: string; groups: string[] }> = {};
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([UW][A-Z0-9]{6,})=([^:|,=\s]+)(?::([^,=\s]+))?$/.exec(pair);
    if (!m) throw new Error('must be a comma-separated list of SLACKID=k8s-user[:group|group]');
    map[m[1]!] = { user: m[2]!, groups: m[3] ? m[3].split('|').filter(Boolean) : [] };
  }
  return map;
}

// ---- the table ---------------------------------------------------------------------------

export const FIELDS = {
  redisUrl: setting('REDIS_URL', redisUrl, 'redis://127.0.0.1:6379', 'Redis for the queues, reports and plans (maxmemory-policy must be noeviction).'),
  queuePrefix: setting('NETDOCTOR_QUEUE_PREFIX', dnsLabel, 'netdoctor', 'First part of every Redis key: queues are <prefix>:<cluster>:diagnose|remediate|digest.'),
  cluster: setting('NETDOCTOR_CLUSTER', dnsLabel, 'default', 'The cluster this process serves (its workers consume only that cluster\'s queues).'),
  reportTtlSeconds: setting('NETDOCTOR_REPORT_TTL_SECONDS', positiveInt, 7 * 24 * 3600, 'How long reports and their plans stay in Redis.'),
  workerConcurrency: setting('NETDOCTOR_WORKER_CONCURRENCY', positiveInt, 2, 'Diagnose jobs one worker process runs at once.'),
  shutdownTimeoutSeconds: setting('NETDOCTOR_SHUTDOWN_TIMEOUT_SECONDS', positiveInt, 20, 'On SIGTERM, how long to let the current job finish before releasing it (keep below terminationGracePeriodSeconds).'),
  digestCron: setting('NETDOCTOR_DIGEST_CRON', cron, '0 9 * * *', 'When the daily digest runs (cron pattern).'),
  digestTimezone: setting('NETDOCTOR_DIGEST_TIMEZONE', timeZone, 'UTC', 'Time zone of the digest cron pattern and of the digest\'s day.'),
  digestChannel: optional('NETDOCTOR_DIGEST_CHANNEL', channel, 'Slack channel for the daily digest; unset: no digest scheduler.'),
  digestWorkflow: setting('NETDOCTOR_DIGEST_WORKFLOW', dnsLabel, 'cluster-health', 'The cluster-wide workflow the digest runs.'),
  digestHistory: setting('NETDOCTOR_DIGEST_HISTORY', positiveInt, 30, 'Digests kept per cluster for new/resolved and the trend.'),
  logLevel: setting('LOG_LEVEL', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), 'info', 'pino log level.'),
  kubeconfig: optional('KUBECONFIG', text, 'Kubeconfig file(s) for the live cluster view; unset in a pod: the ServiceAccount is used.'),
  kubeContext: optional('NETDOCTOR_KUBE_CONTEXT', text, 'Kubeconfig context to use instead of the current one.'),
  home: optional('HOME', text, 'Where ~/.kube/config is looked for.'),
  kubernetesServiceHost: optional('KUBERNETES_SERVICE_HOST', text, 'Set by Kubernetes in a pod; enables the in-cluster ServiceAccount.'),
  slackMode: setting('SLACK_MODE', oneOf('socket', 'http'), 'socket', 'How Slack reaches the bot: socket (Socket Mode, outbound WebSocket, no ingress) or http (Events/commands to SLACK_PORT, signed requests).'),
  slackBotToken: secret('SLACK_BOT_TOKEN', 'Bot token (xoxb-…) for `netdoctor serve`; `netdoctor worker` posts with it when set (else to stdout).'),
  slackAppToken: secret('SLACK_APP_TOKEN', 'App-level token (xapp-…, scope connections:write); required with SLACK_MODE=socket.'),
  slackSigningSecret: secret('SLACK_SIGNING_SECRET', 'Signing secret; required with SLACK_MODE=http (requests are verified, at most 5 minutes old).'),
  slackPort: setting('SLACK_PORT', port, 3000, 'HTTP mode: port of /slack/events and /healthz (unused in Socket Mode: probes are on the admin port).'),
  slackApiUrl: optional('SLACK_API_URL', httpUrl, 'Slack Web API base URL (default https://slack.com/api/; tests point it at an emulator).'),
  slackAllowedChannels: setting('SLACK_ALLOWED_CHANNELS', channelIds, [] as string[], 'Comma-separated channel ids where /netdoctor is accepted; empty: every channel the bot is in.'),
  slackClusters: setting('SLACK_CLUSTERS', clusterList, [] as string[], 'Clusters /netdoctor --cluster may name (comma-separated); empty: only NETDOCTOR_CLUSTER. The first is the default.'),
  approvers: setting('NETDOCTOR_APPROVERS', slackIds, [] as string[], 'Slack user ids and user group ids allowed to approve fixes (comma-separated); empty: remediation disabled.'),
  allowSelfApproval: setting('NETDOCTOR_ALLOW_SELF_APPROVAL', bool, false, 'Whether the person who asked for the diagnosis may approve its fix.'),
  planValidityMinutes: setting('NETDOCTOR_PLAN_VALIDITY_MINUTES', positiveInt, 15, 'How long after its dry run a plan can be approved.'),
  identityMap: setting('NETDOCTOR_IDENTITY_MAP', identityMap, {} as Record<string, { user: string; groups: string[] }>, 'Slack user → Kubernetes identity for approval checks (SubjectAccessReview): U123=alice,U456=bob:sre|oncall.'),
  verifyTimeoutSeconds: setting('NETDOCTOR_VERIFY_TIMEOUT_SECONDS', positiveInt, 300, 'How long to wait for an applied fix to take effect before calling it unverified.'),
  adminPort: setting('NETDOCTOR_ADMIN_PORT', port, 9090, 'Port of /healthz, /readyz and /metrics.'),
} satisfies Record<string, Field<unknown>>;

type Fields = typeof FIELDS;
export type Config = { readonly [K in keyof Fields]: Fields[K]['default'] };

/** A user error (the CLI prints it and exits 2). */
export class ConfigError extends NetdoctorError {
  constructor(readonly problems: string[]) {
    super('bad_input', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment (pass `process.env` from the entry point); throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(FIELDS) as [string, Field<unknown>][]) {
    if (key in overrides) {
      out[key] = (overrides as Record<string, unknown>)[key];
      continue;
    }
    const raw = env[field.env]?.trim();
    if (raw === undefined || raw === '') {
      out[key] = field.default;
      continue;
    }
    try {
      out[key] = field.parse(raw);
    } catch (e) {
      // The value itself is not echoed: it may be a secret.
      problems.push(`${field.env} ${(e as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Config;
}

/** Validates a value given on the command line with the same rule as its variable (e.g. `--cluster`). */
export function parseSetting<K extends keyof Fields>(key: K, raw: string, flag: string): NonNullable<Config[K]> {
  try {
    return (FIELDS[key] as Field<unknown>).parse(raw) as NonNullable<Config[K]>;
  } catch (e) {
    throw new ConfigError([`${flag} ${(e as Error).message}`]);
  }
}

/** The configuration table (for `netdoctor config` / the README): variable, default, meaning. */
export function configTable(): { env: string; default: string; doc: string }[] {
  return Object.values(FIELDS as Record<string, Field<unknown>>).map((f) => ({
    env: f.env,
    // Empty lists and maps mean "none": shown blank like unset settings.
    default: f.default === undefined || (typeof f.default === 'object' && f.default !== null && Object.keys(f.default).length === 0) ? '' : String(f.default),
    doc: f.doc,
  }));
}

/** The environment a kubeconfig loader needs, rebuilt from the validated config. */
export function kubeEnv(config: Config): Env {
  return { KUBECONFIG: config.kubeconfig, HOME: config.home, KUBERNETES_SERVICE_HOST: config.kubernetesServiceHost };
}
