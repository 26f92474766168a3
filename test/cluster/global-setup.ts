// jest globalSetup for the integration project: builds or reuses the control-plane binaries
// (test/cluster/build.sh), starts one real control plane and one private redis-server for
// the whole jest run, and exports their coordinates to the test workers:
//   NETDOCTOR_TEST_KUBECONFIG  admin kubeconfig (https + generated CA, client cert)
//   NETDOCTOR_TEST_SERVER      https://127.0.0.1:<port>
//   NETDOCTOR_TEST_PKI_DIR     PKI dir (ca.crt, kubelet-serving.{crt,key}) for scripted kubelets
//   NETDOCTOR_K8S_BIN_DIR      the binaries' dir
//   REDIS_URL                  redis://127.0.0.1:<port>
// Only node built-ins are imported (jest does not transform node_modules ESM in globalSetup).
import * as path from 'node:path';
import { runBuildScript } from './build-script';
import { startControlPlane, type ControlPlane } from './control-plane';
import { startRedis, type TestRedis } from './redis';

export interface TestEnvironmentHandles {
  cluster: ControlPlane;
  redis: TestRedis;
}

export const HANDLE_KEY = '__NETDOCTOR_TEST_ENV__';

/** Runs test/cluster/build.sh (reuses cached binaries) and returns the bin dir; NETDOCTOR_K8S_BIN_DIR overrides. */
export async function ensureBinaries(): Promise<string> {
  return process.env.NETDOCTOR_K8S_BIN_DIR ?? runBuildScript(path.join(__dirname, 'build.sh'));
}

export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const binDir = await ensureBinaries();
  const tBuild = Date.now();
  const [c, r] = await Promise.allSettled([
    startControlPlane({ binDir, log: (l) => process.stderr.write(`\n${l}\n`) }),
    startRedis(),
  ]);
  if (c.status === 'rejected' || r.status === 'rejected') {
    if (c.status === 'fulfilled') await c.value.stop();
    if (r.status === 'fulfilled') await r.value.stop();
    throw c.status === 'rejected' ? c.reason : (r as PromiseRejectedResult).reason;
  }
  const cluster = c.value;
  const redis = r.value;
  (globalThis as Record<string, unknown>)[HANDLE_KEY] = { cluster, redis } satisfies TestEnvironmentHandles;
  process.env.NETDOCTOR_TEST_KUBECONFIG = cluster.kubeconfigPath;
  process.env.NETDOCTOR_TEST_SERVER = cluster.server;
  process.env.NETDOCTOR_TEST_PKI_DIR = cluster.pki.dir;
  process.env.NETDOCTOR_K8S_BIN_DIR = binDir;
  process.env.REDIS_URL = redis.url;
  process.stderr.write(
    `[global-setup] binaries ${tBuild - t0} ms, control plane ${(cluster.startMs / 1000).toFixed(1)} s, ` +
      `redis ${redis.url}; total ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}
