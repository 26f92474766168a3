/**
 * The one module that reads the environment. Every setting is a row in FIELDS: the variable,
 * how to parse it, its default and what it means. `loadConfig` validates all rows and reports
 * every bad variable at once, naming the variable and what is wrong with it.
 *
 * To add a setting: add a row (`setting`, `optional` or `secret`), and the Config type follows.
 */

import { isIP } from 'node:net';
import { NetdoctorError } from './domain/errors';
import { DNS_LABEL } from './domain/object-ref';
import type { HostPort, RedisTarget } from './domain/redis-target';

type Env = Record<string, string | undefined>;

interface Field<T> {
  /** The environment variable. */
  env: string;
  /** Turns the raw string into the value; throws an Error whose message says what is wrong. */
  parse: (raw: string) => T;
  /** Used when the variable is unset or empty; `undefined` means the setting is optional. */
  default: T;
  /** One line for the configuration table (deploy/README.md). */
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
  if (!DNS_LABEL.test(raw)) {
    throw new Error('must be a DNS label: lower-case letters, digits and `-`, at most 63 characters');
  }
  return raw;
}

function nonNegativeInt(raw: string): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new Error('must be a whole number of seconds (0 or more)');
  return Number(raw);
}

function niceValue(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 19) throw new Error('must be a nice value from 0 to 19');
  return Number(raw);
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

/** `host:port,host:port` (Sentinels or Cluster seed nodes; IPv6 hosts in brackets: `[::1]:26379`). */
function hostPorts(raw: string): HostPort[] {
  const list = raw.split(',').map((h) => h.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('must list host:port pairs, comma-separated');
  return list.map((item) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new Error(`must list host:port pairs, comma-separated; "${item}" is not one`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

/** A Sentinel master group name (`sentinel monitor <name> …`). */
function sentinelName(raw: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(raw)) throw new Error('must be the master group name the Sentinels monitor (letters, digits, `.`, `_`, `-`), e.g. mymaster');
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

/** An IP address to listen on (0.0.0.0 / :: for every interface). */
function bindAddress(raw: string): string {
  if (isIP(raw) === 0) throw new Error('must be an IP address such as 127.0.0.1, 0.0.0.0 or ::');
  return raw;
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

/** An HMAC key: long enough that it cannot be guessed. */
function linkKey(raw: string): string {
  if (raw.length < 32) throw new Error('must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)');
  return raw;
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

/** `C123=triton|payments,C456=*`: channel id → namespaces (or `*`), comma-separated. */
function channelNamespaces(raw: string): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([CGD][A-Z0-9]{6,})=([^,=\s]+)$/.exec(pair);
    const namespaces = m ? m[2]!.split('|').filter(Boolean) : [];
    if (!m || namespaces.length === 0 || namespaces.some((n) => n !== '*' && !DNS_LABEL.test(n))) {
      throw new Error('must be a comma-separated list of CHANNELID=namespace[|namespace…] (or =* for every namespace)');
    }
    map[m[1]!] = namespaces;
  }
  return map;
}

// ---- the table ---------------------------------------------------------------------------

export const FIELDS = {
  redisUrl: setting('REDIS_URL', redisUrl, 'redis://127.0.0.1:6379', 'Redis for the queues, reports and plans (maxmemory-policy must be noeviction), when it is one node. Not with REDIS_SENTINELS or REDIS_CLUSTER_NODES.'),
  redisSentinels: optional('REDIS_SENTINELS', hostPorts, 'Sentinel mode: the Sentinels, host:port comma-separated (with REDIS_SENTINEL_NAME); netdoctor follows the primary they elect.'),
  redisSentinelName: optional('REDIS_SENTINEL_NAME', sentinelName, 'Sentinel mode: the master group name the Sentinels monitor (required with REDIS_SENTINELS).'),
  redisSentinelPassword: secret('REDIS_SENTINEL_PASSWORD', 'Sentinel mode: password of the Sentinels themselves (requirepass in sentinel.conf), if any.'),
  redisClusterNodes: optional('REDIS_CLUSTER_NODES', hostPorts, 'Cluster mode: some Redis Cluster nodes, host:port comma-separated (the rest is discovered); queue keys are hash-tagged per cluster.'),
  redisPassword: secret('REDIS_PASSWORD', 'Password of the Redis nodes (every mode; with REDIS_URL it may be in the URL instead, not both).'),
  queuePrefix: setting('NETDOCTOR_QUEUE_PREFIX', dnsLabel, 'netdoctor', 'First part of every Redis key: queues are <prefix>:<cluster>:diagnose|remediate|digest.'),
  cluster: setting('NETDOCTOR_CLUSTER', dnsLabel, 'default', 'The cluster this process serves (its workers consume only that cluster\'s queues).'),
  reportTtlSeconds: setting('NETDOCTOR_REPORT_TTL_SECONDS', positiveInt, 7 * 24 * 3600, 'How long reports and their plans stay in Redis.'),
  workerConcurrency: setting('NETDOCTOR_WORKER_CONCURRENCY', positiveInt, 2, 'Diagnose jobs one worker process runs at once.'),
  serveWorkersNice: setting('NETDOCTOR_SERVE_WORKERS_NICE', niceValue, 10, '`serve`: nice value of its workers thread (Linux; 0–19). Above the receiver\'s 0, a Slack ack gets a core before a diagnosis does; 0: left as the process\'s.'),
  redisWaitSeconds: setting('NETDOCTOR_REDIS_WAIT_SECONDS', nonNegativeInt, 60, 'At startup, how long the workers wait for an unreachable Redis (it may start beside them) before exiting; 0: exit at once. A Redis that may evict keys is refused at once.'),
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
  slackHost: setting('SLACK_HOST', bindAddress, '0.0.0.0', 'HTTP mode: bind address of /slack/events (Slack reaches it through your ingress; every request is signed).'),
  slackApiUrl: optional('SLACK_API_URL', httpUrl, 'Slack Web API base URL (default https://slack.com/api/; tests point it at an emulator).'),
  slackAllowedChannels: setting('SLACK_ALLOWED_CHANNELS', channelIds, [] as string[], 'Comma-separated channel ids where /netdoctor is accepted; empty: every channel the bot is in.'),
  slackClusters: setting('SLACK_CLUSTERS', clusterList, [] as string[], 'Clusters /netdoctor --cluster may name (comma-separated); empty: only NETDOCTOR_CLUSTER. The first is the default.'),
  approvers: setting('NETDOCTOR_APPROVERS', slackIds, [] as string[], 'Slack user ids and user group ids allowed to approve fixes (comma-separated); empty: remediation disabled.'),
  allowSelfApproval: setting('NETDOCTOR_ALLOW_SELF_APPROVAL', bool, false, 'Whether the person who asked for the diagnosis may approve its fix.'),
  planValidityMinutes: setting('NETDOCTOR_PLAN_VALIDITY_MINUTES', positiveInt, 15, 'How long after its dry run a plan can be approved.'),
  planKey: { env: 'NETDOCTOR_PLAN_KEY', parse: linkKey, default: undefined, doc: 'Key (at least 32 characters, e.g. `openssl rand -hex 32`) that seals plans, approvals and rollback data; kept out of Redis (the chart mounts it from a Secret into serve and workers). Required with NETDOCTOR_APPROVERS.', secret: true } as Field<string | undefined>,
  identityMap: setting('NETDOCTOR_IDENTITY_MAP', identityMap, {}, 'Slack user → Kubernetes identity for approval checks (SubjectAccessReview): U123=alice,U456=bob:sre|oncall.'),
  readAccess: setting('NETDOCTOR_READ_ACCESS', oneOf('open', 'checked'), 'open', 'Who sees a diagnosis: open (anyone in an allowed channel) or checked (the requester\'s NETDOCTOR_IDENTITY_MAP identity must be allowed get pods and get pods/log in the namespace, or NETDOCTOR_CHANNEL_NAMESPACES grants it; else the reply says what is missing and shows nothing).'),
  channelNamespaces: setting('NETDOCTOR_CHANNEL_NAMESPACES', channelNamespaces, {}, 'With NETDOCTOR_READ_ACCESS=checked: channel → namespaces whose diagnoses anyone there may see, e.g. C0123ABCD=triton|payments,C0456EFGH=*.'),
  verifyTimeoutSeconds: setting('NETDOCTOR_VERIFY_TIMEOUT_SECONDS', positiveInt, 300, 'How long to wait for an applied fix to take effect before calling it unverified.'),
  adminPort: setting('NETDOCTOR_ADMIN_PORT', port, 9090, 'Port of /healthz, /readyz and /metrics.'),
  adminHost: setting('NETDOCTOR_ADMIN_HOST', bindAddress, '127.0.0.1', 'Bind address of /healthz, /readyz and /metrics (no auth): loopback unless set; the chart sets the pod IP so the kubelet and Prometheus reach it.'),
  reportUrl: optional('NETDOCTOR_REPORT_URL', httpUrl, 'Public base URL of the report pages (e.g. https://netdoctor.example.com/); with NETDOCTOR_REPORT_LINK_KEY, `serve` serves the pages and Slack links "Full report" to them.'),
  reportLinkKey: { env: 'NETDOCTOR_REPORT_LINK_KEY', parse: linkKey, default: undefined, doc: 'Key (at least 32 characters, e.g. `openssl rand -hex 32`) that signs report page links; kept out of Redis, so whoever reads Redis cannot mint links.', secret: true } as Field<string | undefined>,
  reportLinkTtlSeconds: setting('NETDOCTOR_REPORT_LINK_TTL_SECONDS', positiveInt, 7 * 24 * 3600, 'How long a report page link opens the page.'),
  reportPort: setting('NETDOCTOR_REPORT_PORT', port, 8080, 'Port of the read-only report pages (/runs/…, /digests/…), when NETDOCTOR_REPORT_URL is set.'),
} satisfies Record<string, Field<unknown>>;

type Fields = typeof FIELDS;
type Settings = { readonly [K in keyof Fields]: Fields[K]['default'] };
/** The settings, plus the Redis connection mode they add up to (checked across variables). */
export type Config = Settings & { readonly redis: RedisTarget };

/** A user error (the CLI prints it and exits 2). */
export class ConfigError extends NetdoctorError {
  constructor(readonly problems: string[]) {
    super('bad_input', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The connection mode, from the Redis variables together: exactly one of REDIS_URL (or its
 * default), REDIS_SENTINELS + REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES. Pushes a problem per
 * conflicting or missing variable.
 */
function redisTarget(s: Settings, urlSet: boolean, problems: string[]): RedisTarget | undefined {
  const password = s.redisPassword ? { password: s.redisPassword } : {};
  const sentinelOnly = (['redisSentinelName', 'redisSentinelPassword'] as const).filter((k) => s[k] !== undefined && s.redisSentinels === undefined);
  for (const k of sentinelOnly) problems.push(`${FIELDS[k].env} applies only with REDIS_SENTINELS (Sentinel mode), which is not set`);
  if (s.redisSentinels && s.redisClusterNodes) {
    problems.push('REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: choose one connection mode');
    return undefined;
  }
  const other = s.redisSentinels ? 'REDIS_SENTINELS' : s.redisClusterNodes ? 'REDIS_CLUSTER_NODES' : undefined;
  if (other && urlSet) {
    problems.push(`REDIS_URL and ${other} are both set: choose one connection mode (REDIS_PASSWORD carries the password in the other modes)`);
    return undefined;
  }
  if (s.redisSentinels) {
    if (!s.redisSentinelName) {
      problems.push('REDIS_SENTINEL_NAME is not set: Sentinel mode (REDIS_SENTINELS) needs the master group name, e.g. mymaster');
      return undefined;
    }
    return { mode: 'sentinel', sentinels: s.redisSentinels, name: s.redisSentinelName, ...password, ...(s.redisSentinelPassword ? { sentinelPassword: s.redisSentinelPassword } : {}) };
  }
  if (s.redisClusterNodes) return { mode: 'cluster', nodes: s.redisClusterNodes, ...password };
  // The chart and the kustomize base set both: REDIS_URL embeds $(REDIS_PASSWORD), which Kubernetes
  // expands from the Secret, so the manifest never holds the password. The same password twice is fine.
  const urlPassword = new URL(s.redisUrl).password;
  if (s.redisPassword && urlPassword && decodeURIComponent(urlPassword) !== s.redisPassword) {
    problems.push('REDIS_URL has a password and REDIS_PASSWORD is set to a different one: give the password once');
    return undefined;
  }
  return { mode: 'single', url: s.redisUrl, ...password };
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
  if ((out.approvers as string[] | undefined)?.length && !out.planKey) {
    problems.push('NETDOCTOR_PLAN_KEY is required when NETDOCTOR_APPROVERS is set: plans are sealed with it before anything is applied');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const settings = out as Settings;
  const redis = overrides.redis ?? redisTarget(settings, 'redisUrl' in overrides || Boolean(env.REDIS_URL?.trim()), problems);
  if (problems.length > 0 || !redis) throw new ConfigError(problems);
  return Object.freeze({ ...settings, redis });
}

/** Validates a value given on the command line with the same rule as its variable (e.g. `--cluster`). */
export function parseSetting<K extends keyof Fields>(key: K, raw: string, flag: string): NonNullable<Config[K]> {
  try {
    return (FIELDS[key] as Field<unknown>).parse(raw) as NonNullable<Config[K]>;
  } catch (e) {
    throw new ConfigError([`${flag} ${(e as Error).message}`]);
  }
}

/** A default as the table shows it: lists comma-separated; empty lists and maps mean "none", shown blank like unset settings. */
function shownDefault(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === null || Object.keys(value).length === 0 ? '' : JSON.stringify(value);
}

/** The configuration table (for `netdoctor config` / deploy/README.md): variable, default, meaning. */
export function configTable(): { env: string; default: string; doc: string }[] {
  return Object.values(FIELDS as Record<string, Field<unknown>>).map((f) => ({
    env: f.env,
    default: shownDefault(f.default),
    doc: f.doc,
  }));
}

/** The environment a kubeconfig loader needs, rebuilt from the validated config. */
export function kubeEnv(config: Config): Env {
  return { KUBECONFIG: config.kubeconfig, HOME: config.home, KUBERNETES_SERVICE_HOST: config.kubernetesServiceHost };
}
