// A diagnose/digest worker in its own process, for the crash and shutdown tests.
//   node test/support/ts-register.js test/support/queue-worker-child.ts <scenarioDir> <hold|run>
// Config comes from the environment (REDIS_URL, NETDOCTOR_QUEUE_PREFIX, NETDOCTOR_CLUSTER, …).
// Every ChatSurface call is written to stdout as `CALL {json}`; `READING` when a run starts its
// read. With `hold`, reads never finish, so the test can kill or stop the process mid-run.
// On SIGTERM it shuts down gracefully (as `netdoctor worker` does) and prints `STOPPED`.
import { DumpReader } from '../../src/cluster/dump-reader';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { RecordingSurface } from '../../src/cli/console-surface';
import { startWorkers } from '../../src/queue/workers';

async function main(): Promise<void> {
  const [dir, mode] = process.argv.slice(2);
  const config = loadConfig(process.env);
  const surface = new RecordingSurface({
    tsPrefix: '1800000000',
    onRecord: (call) => process.stdout.write(`CALL ${JSON.stringify({ ...call, report: undefined, digest: undefined })}\n`),
  });
  const workers = await startWorkers({
    config,
    surface,
    log: createLogger({ level: 'error', destination: process.stderr }),
    readerFor: () => {
      const dump = new DumpReader(dir!);
      return {
        apiCalls: 0,
        namespaceExists: (ns) => dump.namespaceExists(ns),
        read: async (scope) => {
          process.stdout.write('READING\n');
          if (mode === 'hold') await new Promise(() => undefined);
          return dump.read(scope);
        },
      };
    },
    tuning: { lockDuration: 1500, stalledInterval: 500, backoffMs: 50 },
  });
  process.stdout.write('READY\n');
  process.once('SIGTERM', () => {
    void workers.close().then(() => process.stdout.write('STOPPED\n'));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`child failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
