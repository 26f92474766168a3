// The benchmark's own environment, from the test harness's modules: the real control plane
// (binaries from test/cluster/build.sh's cache, built on first use), a private redis-server
// and one scripted kubelet serving every fake node.
import * as fs from 'node:fs';
import { setPriority } from 'node:os';
import * as path from 'node:path';
import { startControlPlane, type ControlPlane } from '../test/cluster/control-plane';
import { ensureBinaries } from '../test/cluster/global-setup';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../test/cluster/kubelet';
import { startRedis, type TestRedis } from '../test/cluster/redis';
import { BareClient, credsFromKubeconfig } from './kube-client';

export interface BenchEnv {
  cluster: ControlPlane;
  kubelet: ScriptedKubelet;
  client: BareClient;
  binDir: string;
  apiserverVersion: string;
  stop(): Promise<void>;
}

export async function startCluster(log: (l: string) => void): Promise<BenchEnv> {
  const binDir = await ensureBinaries();
  // etcd's own maximum quota: the scale stage's largest size writes copies as JSON (bench/etcd-load.ts).
  // The controllers' default client rate (20 requests/s) made the EndpointSlices of 30,000 pods take minutes.
  const cluster = await startControlPlane({
    binDir,
    log,
    extraEtcdArgs: ['--quota-backend-bytes=8589934592'],
    extraControllerManagerArgs: ['--kube-api-qps=400', '--kube-api-burst=800'],
    // /debug/pprof on the apiserver (the tests' control plane turns it off): where its time goes at scale.
    extraApiserverArgs: ['--profiling=true'],
  });
  try {
    // finalizeDeletions off: its loop LISTs every pod twice a second, which would load the
    // apiserver during measurements on a 10,000-pod cluster.
    const kubelet = await ScriptedKubelet.start({ kubeconfigPath: cluster.kubeconfigPath, tls: kubeletTlsFromPkiDir(cluster.pki.dir), finalizeDeletions: false });
    const client = new BareClient(credsFromKubeconfig(cluster.kubeconfigPath), 32);
    const version = await client.json<{ gitVersion: string }>('GET', '/version');
    return {
      cluster,
      kubelet,
      client,
      binDir,
      apiserverVersion: version.gitVersion,
      stop: async () => {
        client.close();
        await kubelet.stop();
        await cluster.stop();
      },
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/**
 * Sets the nice value of every thread of the control plane's processes (Linux keeps it per thread;
 * threads started later inherit it from the thread that starts them). Lowering it again needs root,
 * as the bench runs.
 */
export function setControlPlaneNice(cluster: ControlPlane, nice: number): void {
  for (const pid of cluster.pids()) {
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited since listed
    }
    for (const tid of tids) {
      try {
        setPriority(Number(tid), nice);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // a thread that ended meanwhile
      }
    }
  }
}

export { startRedis, type TestRedis };
export const REPO = path.resolve(__dirname, '..');
