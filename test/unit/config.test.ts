import { ConfigError, FIELDS, configTable, loadConfig, parseSetting } from '../../src/config';
import { NetdoctorError } from '../../src/domain/errors';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    // The queue/worker settings (the Slack settings have their own tests).
    expect(loadConfig({})).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'netdoctor',
      cluster: 'default',
      reportTtlSeconds: 604800,
      workerConcurrency: 2,
      shutdownTimeoutSeconds: 20,
      digestCron: '0 9 * * *',
      digestTimezone: 'UTC',
      digestChannel: undefined,
      digestWorkflow: 'cluster-health',
      digestHistory: 30,
      logLevel: 'info',
      kubeconfig: undefined,
      kubeContext: undefined,
      home: undefined,
      kubernetesServiceHost: undefined,
    });
  });

  it('parses and freezes the values', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://redis.internal:6380/2',
      NETDOCTOR_CLUSTER: 'prod-eu',
      NETDOCTOR_REPORT_TTL_SECONDS: '3600',
      NETDOCTOR_DIGEST_CRON: ' 30  8 * * 1-5 ',
      NETDOCTOR_DIGEST_TIMEZONE: 'Europe/Berlin',
      NETDOCTOR_DIGEST_CHANNEL: 'C0123ABCD',
    });
    expect(config).toMatchObject({ cluster: 'prod-eu', reportTtlSeconds: 3600, digestCron: '30 8 * * 1-5', digestTimezone: 'Europe/Berlin', digestChannel: 'C0123ABCD' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL must start with redis:// or rediss://'],
    ['NETDOCTOR_CLUSTER', 'prod:eu', 'NETDOCTOR_CLUSTER must be a DNS label'],
    ['NETDOCTOR_REPORT_TTL_SECONDS', '-5', 'NETDOCTOR_REPORT_TTL_SECONDS must be a positive integer'],
    ['NETDOCTOR_DIGEST_CRON', 'daily', 'NETDOCTOR_DIGEST_CRON must be a cron pattern'],
    ['NETDOCTOR_DIGEST_TIMEZONE', 'Mars/Olympus', 'NETDOCTOR_DIGEST_TIMEZONE must be an IANA time zone'],
    ['NETDOCTOR_DIGEST_CHANNEL', 'general chat', 'NETDOCTOR_DIGEST_CHANNEL must be a Slack channel id'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    ['NETDOCTOR_PLAN_KEY', 'short', 'NETDOCTOR_PLAN_KEY must be at least 32 characters'],
    ['NETDOCTOR_APPROVERS', 'U0BOB0001', 'NETDOCTOR_PLAN_KEY is required when NETDOCTOR_APPROVERS is set'],
    ['NETDOCTOR_READ_ACCESS', 'maybe', 'NETDOCTOR_READ_ACCESS must be one of open, checked'],
    ['NETDOCTOR_SERVE_WORKERS_NICE', '20', 'NETDOCTOR_SERVE_WORKERS_NICE must be a nice value from 0 to 19'],
    ['NETDOCTOR_CHANNEL_NAMESPACES', 'C0123ABCD=Triton', 'NETDOCTOR_CHANNEL_NAMESPACES must be a comma-separated list of CHANNELID=namespace'],
  ])('rejects %s=%j naming the variable and the problem', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('reports every bad variable at once, as a user error, without echoing values', () => {
    let error: unknown;
    try {
      loadConfig({ NETDOCTOR_CLUSTER: 'A B', NETDOCTOR_WORKER_CONCURRENCY: 'many', REDIS_URL: 'redis://:s3cret@x:1', NETDOCTOR_DIGEST_HISTORY: 's3cret' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(NetdoctorError);
    expect((error as ConfigError).problems).toHaveLength(3);
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('reads who may see diagnoses: the mode and the channel → namespaces list', () => {
    expect(loadConfig({})).toMatchObject({ readAccess: 'open', channelNamespaces: {}, planKey: undefined });
    expect(loadConfig({ NETDOCTOR_READ_ACCESS: 'checked', NETDOCTOR_CHANNEL_NAMESPACES: 'C0123ABCD=triton|payments, C0456EFGH=*' })).toMatchObject({
      readAccess: 'checked',
      channelNamespaces: { C0123ABCD: ['triton', 'payments'], C0456EFGH: ['*'] },
    });
  });

  it('treats empty variables as unset, and takes overrides (command-line flags) as given', () => {
    expect(loadConfig({ NETDOCTOR_CLUSTER: '' }).cluster).toBe('default');
    expect(loadConfig({ NETDOCTOR_CLUSTER: 'a' }, { cluster: 'b' }).cluster).toBe('b');
    expect(parseSetting('cluster', 'lab', '--cluster')).toBe('lab');
    expect(() => parseSetting('cluster', 'La b', '--cluster')).toThrow('--cluster must be a DNS label');
  });

  it('documents every variable for the configuration table', () => {
    const table = configTable();
    expect(table).toHaveLength(Object.keys(FIELDS).length);
    expect(table.find((r) => r.env === 'NETDOCTOR_DIGEST_CRON')).toEqual({ env: 'NETDOCTOR_DIGEST_CRON', default: '0 9 * * *', doc: expect.stringContaining('cron') });
    expect(table.every((r) => r.doc.length > 10)).toBe(true);
  });
});

describe('Redis connection modes', () => {
  it('is one node at REDIS_URL (or its default) unless told otherwise', () => {
    expect(loadConfig({}).redis).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379' });
    expect(loadConfig({ REDIS_URL: 'redis://r:6380/1', REDIS_PASSWORD: 'pw' }).redis).toEqual({ mode: 'single', url: 'redis://r:6380/1', password: 'pw' });
    // As the chart and the kustomize base set it: the URL embeds $(REDIS_PASSWORD), expanded by Kubernetes.
    expect(loadConfig({ REDIS_URL: 'redis://:p%40ss@r:6379/0', REDIS_PASSWORD: 'p@ss' }).redis).toEqual({ mode: 'single', url: 'redis://:p%40ss@r:6379/0', password: 'p@ss' });
  });

  it('follows the Sentinels, with a password for the nodes and one for the Sentinels', () => {
    const config = loadConfig({ REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'nodepw', REDIS_SENTINEL_PASSWORD: 'sentpw' });
    expect(config.redis).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'mymaster',
      password: 'nodepw',
      sentinelPassword: 'sentpw',
    });
  });

  it('connects to a Redis Cluster through its seed nodes', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,b:7001' }).redis).toEqual({ mode: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }] });
  });

  it.each([
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME is not set: Sentinel mode (REDIS_SENTINELS) needs the master group name'],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINEL_NAME applies only with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_PASSWORD: 'x' }, 'REDIS_SENTINEL_PASSWORD applies only with REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_URL and REDIS_CLUSTER_NODES are both set'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_URL and REDIS_SENTINELS are both set'],
    [{ REDIS_URL: 'redis://:a@r:6379', REDIS_PASSWORD: 'b' }, 'REDIS_URL has a password and REDIS_PASSWORD is set to a different one'],
    [{ REDIS_CLUSTER_NODES: 'a' }, 'REDIS_CLUSTER_NODES must list host:port pairs, comma-separated; "a" is not one'],
    [{ REDIS_SENTINELS: 's1:99999', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS must list host:port pairs'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME must be the master group name'],
  ])('refuses %j at start-up, naming the variables', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a password in its errors', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://:s3cret@r:6379', REDIS_PASSWORD: 's3cret2' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret') }) as Error);
  });
});
