// `netdoctor serve` (HTTP mode, real queue and workers on the test Redis) with report pages
// configured, against the Slack emulator: a slash command runs a diagnosis over a dump, and the
// summary's "Full report" link is read back from what the emulator recorded.
import { createHmac, randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { type RunningServe, startServe } from '../../src/cli/serve-command';
import { DumpReader } from '../../src/cluster/dump-reader';
import { type Config, loadConfig } from '../../src/config';
import { silentLogger } from '../../src/domain/run-context';
import { Redis } from 'ioredis';
import { CHECKS } from '../../src/checks';
import type { Digest } from '../../src/domain/ports';
import { buildDigest } from '../../src/engine/digest';
import { diagnose as runDiagnosis } from '../../src/engine/diagnose';
import { loadWorkflows } from '../../src/engine/workflow';
import { RunStore } from '../../src/store/run-store';
import { type EmulatedMessage, SlackEmulator } from './slack-emulator';
import { eventually } from './eventually';
import { blockActionsPayload } from './slack-http';

export const CHANNEL = 'C0OPS0001';
const SECRET = `test-signing-secret-${randomUUID()}`;
export const LINK_KEY = `test-link-key-${randomUUID()}`;

/** A loopback port free right now (for servers that must know their URL before they listen). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ReportServe {
  config: Config;
  emulator: SlackEmulator;
  serve: RunningServe;
  /** Base URL of the report pages (what NETDOCTOR_REPORT_URL says). */
  pagesUrl: string;
  /** Runs `/netdoctor <namespace>` over the dump (default: the one serve started with) and resolves to the summary's "Full report" link. */
  diagnose(namespace: string, dumpDir?: string): Promise<string>;
  /** Clicks a button of a posted message as `user` (a signed block_actions payload). */
  click(user: string, message: EmulatedMessage, button: { action_id: string; value: string }): Promise<void>;
  /**
   * Records a digest per day as the digest worker does (cluster-health over each day's dump,
   * stored report, history) and publishes the last day's through serve's Slack surface.
   */
  digestDays(days: { day: string; dumpDir: string }[]): Promise<Digest>;
  stop(): Promise<void>;
}

export async function startReportServe(options: { dumpDir: string; linkTtlSeconds?: number }): Promise<ReportServe> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is not set (the integration project globalSetup starts a private redis-server)');
  const emulator = await SlackEmulator.start();
  const reportPort = await freePort();
  const pagesUrl = `http://127.0.0.1:${reportPort}/`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    NETDOCTOR_QUEUE_PREFIX: `ndpage${randomUUID().slice(0, 8)}`,
    NETDOCTOR_CLUSTER: 'prod',
    SLACK_MODE: 'http',
    NETDOCTOR_REPORT_URL: pagesUrl,
    NETDOCTOR_REPORT_LINK_KEY: LINK_KEY,
    ...(options.linkTtlSeconds ? { NETDOCTOR_REPORT_LINK_TTL_SECONDS: String(options.linkTtlSeconds) } : {}),
  });
  const slack = { mode: 'http' as const, botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 };
  let dumpDir = options.dumpDir;
  const serve = await startServe({ config, slack, readerFor: () => new DumpReader(dumpDir), log: silentLogger, reportPort });
  const slackUrl = `http://127.0.0.1:${serve.port}/slack/events`;

  /** Posts a form body to /slack/events signed as Slack signs it. */
  async function signedPost(body: string, what: string): Promise<void> {
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex');
    const res = await fetch(slackUrl, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig } });
    if (res.status !== 200) throw new Error(`${what} answered ${res.status}`);
  }

  async function click(user: string, message: EmulatedMessage, button: { action_id: string; value: string }): Promise<void> {
    const payload = blockActionsPayload(emulator, user, message, message.channel, button.action_id, button.value);
    await signedPost(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'button click');
  }

  async function diagnose(namespace: string, dump = options.dumpDir): Promise<string> {
    // A request for a namespace whose run is still going joins it: wait until the last one is done.
    const queue = await serve.producer.queue(config.cluster, 'diagnose');
    await eventually(async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).some((n) => n > 0)) throw new Error('a diagnosis is still running');
    });
    dumpDir = dump;
    const before = emulator.parents(CHANNEL).length;
    const body = new URLSearchParams({
      team_id: 'T0EMUL',
      channel_id: CHANNEL,
      user_id: 'U0ALICE01',
      command: '/netdoctor',
      text: namespace,
      api_app_id: 'A0NETDOC',
      response_url: emulator.responseUrl(`trig.${randomUUID()}`),
      trigger_id: `trig.${randomUUID()}`,
    }).toString();
    await signedPost(body, 'slash command');
    return eventually(() => {
      const parent = emulator.parents(CHANNEL)[before];
      const m = parent ? /<(http[^|>]+)\|Full report>/.exec(JSON.stringify(SlackEmulator.current(parent).blocks)) : null;
      if (!m) throw new Error('no "Full report" link in the summary yet');
      return m[1]!;
    }, 30_000);
  }

  const redis = new Redis(redisUrl);
  const store = new RunStore(redis, config.queuePrefix, config.reportTtlSeconds);
  const clusterHealth = loadWorkflows(CHECKS).get('cluster-health')!;

  async function digestDays(days: { day: string; dumpDir: string }[]): Promise<Digest> {
    let digest: Digest | undefined;
    for (const { day, dumpDir } of days) {
      const now = new Date(`${day}T09:00:00Z`);
      const report = await runDiagnosis({ runId: `digest-${day}`, log: silentLogger, clock: () => now }, new DumpReader(dumpDir), clusterHealth, { cluster: config.cluster });
      await store.storeReport(config.cluster, `digest-${day}`, report, now);
      const built = buildDigest(config.cluster, day, report, await store.digestHistory(config.cluster), now, config.digestHistory);
      await store.appendDigest(config.cluster, built.record, config.digestHistory);
      digest = built.digest;
    }
    await serve.surface.publishDigest(CHANNEL, digest!);
    return digest!;
  }

  return {
    config,
    emulator,
    serve,
    pagesUrl,
    diagnose,
    click,
    digestDays,
    stop: async () => {
      await serve.stop();
      await emulator.close();
      await redis.quit();
    },
  };
}
