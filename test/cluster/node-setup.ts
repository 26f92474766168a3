// jest globalSetup of the `node` project: builds or reuses the control-plane binaries
// (build.sh) and the node's binaries and images (build-node.sh), starts a control plane in
// node mode and a real node with its add-ons and the triton app, and exports to the workers:
//   NETDOCTOR_NODE_KUBECONFIG  admin kubeconfig of that cluster
//   NETDOCTOR_NODE_APP_URL     http://127.0.0.1:30081/ (web-service's NodePort)
//   NETDOCTOR_NODE_WORK_DIR    the node's work dir (CNI config and flannel run dirs, the applied manifests)
// (names of their own: the integration project's globalSetup runs in the same process).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBuildScript } from './build-script';
import { startControlPlane, type ControlPlane } from './control-plane';
import { ensureBinaries } from './global-setup';
import { defaultRouteIp, nodeModeControlPlaneOptions, startNode, type TestNode } from './node';

export const NODE_HANDLE_KEY = '__NETDOCTOR_TEST_NODE__';
export interface NodeHandles {
  cluster: ControlPlane;
  node?: TestNode;
}

function modVersion(dir: string, mod: string): string {
  const line = fs.readFileSync(path.join(__dirname, 'go', dir, 'go.mod'), 'utf8').split('\n')
    .find((l) => l.trim().startsWith(`${mod} v`) || l.startsWith(`require ${mod} v`));
  const v = line?.trim().split(/\s+/).find((w) => /^v\d/.test(w));
  if (!v) throw new Error(`node-setup: no version of ${mod} in go/${dir}/go.mod`);
  return v;
}

export default async function nodeSetup(): Promise<void> {
  const t0 = Date.now();
  const cpBin = await ensureBinaries();
  const nodeBin = await runBuildScript(path.join(__dirname, 'build-node.sh'));
  const tBuild = Date.now();
  const log = (l: string) => process.stderr.write(`\n${l}\n`);
  const nodeIp = defaultRouteIp();
  const cluster = await startControlPlane({ binDir: cpBin, log, ...nodeModeControlPlaneOptions(nodeIp) });
  const handles: NodeHandles = { cluster };
  (globalThis as Record<string, unknown>)[NODE_HANDLE_KEY] = handles;
  try {
    handles.node = await startNode({
      binDir: nodeBin,
      cluster,
      nodeIp,
      log,
      versions: {
        kubernetes: modVersion('k8s', 'k8s.io/kubernetes'),
        flannel: modVersion('flannel', 'github.com/flannel-io/flannel'),
        cniPlugins: modVersion('cni', 'github.com/containernetworking/plugins'),
        coredns: modVersion('coredns', 'github.com/coredns/coredns'),
      },
    });
  } catch (e) {
    // jest runs no globalTeardown after a failed globalSetup.
    delete (globalThis as Record<string, unknown>)[NODE_HANDLE_KEY];
    await cluster.stop();
    throw e;
  }
  process.env.NETDOCTOR_NODE_KUBECONFIG = cluster.kubeconfigPath;
  process.env.NETDOCTOR_NODE_APP_URL = handles.node.appUrl;
  process.env.NETDOCTOR_NODE_WORK_DIR = handles.node.workDir;
  log(`[node-setup] builds ${tBuild - t0} ms, control plane ${(cluster.startMs / 1000).toFixed(1)} s, ` +
    `node ${(handles.node.startMs / 1000).toFixed(1)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
