// `netdoctor serve` as the Slack benchmarks run it, in its own process (so the load generator
// and the emulated Slack do not share its event loop):
//   node -r ./bench/register.js bench/serve-child.ts <dumpDir> [front-end-only|bare]
// Config from the environment (REDIS_URL, NETDOCTOR_*, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
// SLACK_API_URL). HTTP mode on a free loopback port; prints `PORT <n>`; SIGTERM stops it.
import * as http from 'node:http';
import { startServe } from '../src/cli/serve-command';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/domain/run-context';
import { dumpReaderFor } from '../src/queue/readers';

async function main(): Promise<void> {
  const [dir, mode] = process.argv.slice(2);
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
    readerFor: dumpReaderFor(config.cluster, dir!),
    log: silentLogger,
    frontEndOnly: mode === 'front-end-only',
  });
  process.stdout.write(`PORT ${serve.port}\n`);
  process.once('SIGTERM', () => {
    const force = setTimeout(() => process.exit(0), 10_000);
    void serve.stop().finally(() => {
      clearTimeout(force);
      process.exit(0);
    });
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`serve-child failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
