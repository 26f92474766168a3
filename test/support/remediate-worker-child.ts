// A remediation-capable worker (diagnose + digest + remediate) in its own process, for tests
// that SIGKILL it mid-apply:
//   node test/support/ts-register.js test/support/remediate-worker-child.ts
// Config comes from the environment (REDIS_URL, NETDOCTOR_QUEUE_PREFIX, NETDOCTOR_CLUSTER,
// NETDOCTOR_APPROVERS, NETDOCTOR_IDENTITY_MAP, …); the cluster from two kubeconfigs:
//   ND_READER_KUBECONFIG  what diagnoses read (the admin kubeconfig)
//   ND_WRITER_KUBECONFIG  what plans are applied through (a counting proxy's, so the test counts the writes)
// Every surface call is written to stdout as `CALL {json}` (reports left out); `READY` once started.
import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { KubeWriter } from '../../src/cluster/kube-writer';
import { LiveReader } from '../../src/cluster/live-reader';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { RecordingSurface } from '../../src/cli/console-surface';
import { policyFromConfig } from '../../src/cli/approval-policy';
import { startWorkers } from '../../src/queue/workers';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const readerFile = process.env.ND_READER_KUBECONFIG!;
  const writerFile = process.env.ND_WRITER_KUBECONFIG!;
  const surface = new RecordingSurface({
    tsPrefix: '1800000000',
    onRecord: (call) => process.stdout.write(`CALL ${JSON.stringify({ ...call, report: undefined, digest: undefined })}\n`),
  });
  await startWorkers({
    config,
    surface,
    log: createLogger({ level: 'error', destination: process.stderr }),
    readerFor: async () => {
      const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ file: readerFile, env: {} }));
      return Object.assign(new LiveReader(api, { cluster: config.cluster }), { close: () => api.close() });
    },
    remediation: {
      surface,
      policy: policyFromConfig(config),
      writerFor: async () => {
        const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ file: writerFile, env: {} }));
        return Object.assign(new KubeWriter(api), { close: () => api.close() });
      },
    },
    tuning: { lockDuration: 1500, stalledInterval: 500, backoffMs: 50 },
  });
  process.stdout.write('READY\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`child failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
