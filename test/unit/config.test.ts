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

  it('treats empty variables as unset, and takes overrides (command-line flags) as given', () => {
    expect(loadConfig({ NETDOCTOR_CLUSTER: '' }).cluster).toBe('default');
    expect(loadConfig({ NETDOCTOR_CLUSTER: 'a' }, { cluster: 'b' }).cluster).toBe('b');
    expect(parseSetting('cluster', 'lab', '--cluster')).toBe('lab');
    expect(() => parseSetting('cluster', 'La b', '--cluster')).toThrow('--cluster must be a DNS label');
  });

  it('documents every variable for the README', () => {
    const table = configTable();
    expect(table).toHaveLength(Object.keys(FIELDS).length);
    expect(table.find((r) => r.env === 'NETDOCTOR_DIGEST_CRON')).toEqual({ env: 'NETDOCTOR_DIGEST_CRON', default: '0 9 * * *', doc: expect.stringContaining('cron') });
    expect(table.every((r) => r.doc.length > 10)).toBe(true);
  });
});
