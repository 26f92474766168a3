// One diagnose worker process for the queue-throughput benchmark:
//   node -r ./scripts/ts-register.js bench/queue-worker.ts <dumpDir>
// Config from the environment (REDIS_URL, NETDOCTOR_QUEUE_PREFIX, NETDOCTOR_CLUSTER,
// NETDOCTOR_WORKER_CONCURRENCY). Runs the real startWorkers() with the dump view and a
// recording surface (no Slack: the engine and the queue are what is measured).
// Prints READY; on SIGTERM closes gracefully and exits.
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/domain/run-context';
import { dumpReaderFor } from '../src/cluster/connect';
import { RecordingSurface } from '../src/cli/console-surface';
import { startWorkers } from '../src/queue/workers';

async function main(): Promise<void> {
  const [dir] = process.argv.slice(2);
  const config = loadConfig(process.env);
  let done = 0;
  const surface = new RecordingSurface({
    tsPrefix: String(1800000000 + process.pid),
    onRecord: (call) => {
      if (call.method === 'publishReport') done++;
      surface.calls.length = 0; // keep nothing: memory stays flat over hundreds of jobs
    },
  });
  const workers = await startWorkers({ config, surface, log: silentLogger, readerFor: dumpReaderFor(config.cluster, dir!) });
  process.stdout.write('READY\n');
  process.once('SIGTERM', () => {
    void workers.close().then(() => {
      process.stdout.write(`STOPPED ${done}\n`);
      process.exit(0);
    });
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`queue-worker failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
