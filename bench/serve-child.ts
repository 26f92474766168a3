// `netdoctor serve` as the Slack benchmarks run it, in its own process (so the load generator
// and the emulated Slack do not share its event loop):
//   node -r ./scripts/ts-register.js bench/serve-child.ts <dumpDir|live> [front-end-only|in-loop|bare]
// Default: as `netdoctor serve` runs, the workers in their own thread (src/cli/serve-workers.ts);
// `in-loop`: the workers in the receiver's event loop (how serve ran before issue 20).
// `live` reads the cluster of KUBECONFIG instead of a dump.
// Config from the environment (REDIS_URL, NETDOCTOR_*, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
// SLACK_API_URL). HTTP mode on a free loopback port; prints `PORT <n>`; SIGTERM stops it.
import * as http from 'node:http';
import { startServe } from '../src/cli/serve-command';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/domain/run-context';
import { dumpReaderFor, liveReaderFor } from '../src/cluster/connect';
import { startServeWorkers } from '../src/cli/serve-workers';

async function main(): Promise<void> {
  const [source, mode] = process.argv.slice(2);
  if (mode === 'bare') {
    // The machine's own floor for the ack: a Node HTTP server that reads the body and answers 200.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    process.stdout.write(`PORT ${(server.address() as { port: number }).port}\n`);
    process.once('SIGTERM', () => process.exit(0));
    return;
  }
  const config = loadConfig(process.env);
  const from = source === 'live' ? undefined : source!;
  const workers = mode === undefined ? await startServeWorkers({ env: process.env, cluster: config.cluster, ...(from ? { from } : {}) }, silentLogger) : undefined;
  const serve = await startServe({
    config,
    slack: {
      mode: 'http',
      botToken: config.slackBotToken!,
      signingSecret: config.slackSigningSecret!,
      port: 0,
      host: '127.0.0.1',
      ...(config.slackApiUrl ? { apiUrl: config.slackApiUrl } : {}),
      retries: 2,
      timeoutMs: 5_000,
    },
    ...(mode === 'in-loop' ? { readerFor: from ? dumpReaderFor(config.cluster, from) : liveReaderFor(config) } : {}),
    log: silentLogger,
    frontEndOnly: mode !== 'in-loop',
  });
  process.stdout.write(`PORT ${serve.port}\n`);
  process.once('SIGTERM', () => {
    const force = setTimeout(() => process.exit(0), 10_000);
    void serve.stop().then(() => workers?.close()).finally(() => {
      clearTimeout(force);
      process.exit(0);
    });
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`serve-child failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
