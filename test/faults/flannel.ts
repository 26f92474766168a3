// What the CNI faults share: the operators' flannel manifest stored where netdoctor looks for it
// (ConfigMap kube-system/netdoctor-cni-manifest, label netdoctor.io/cni=flannel: the opt-in that
// makes a missing CNI agent an approvable install plan, taken from the manifest the node applied),
// and deleting flannel's agent.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { manifestObjects } from '../cluster/node';
import { eventually } from '../support/eventually';
import { type FaultCluster, configMapPath, create, daemonSetPath, pods, remove } from './fault';

const NAME = 'netdoctor-cni-manifest';

/** flannel's objects of the node's add-ons (its namespace, RBAC, config and DaemonSet). */
function flannelManifest(c: FaultCluster): string {
  const objects = manifestObjects(fs.readFileSync(path.join(c.workDir, 'manifests', 'addons.yaml'), 'utf8'))
    .filter((o) => o.metadata.namespace === 'kube-flannel' || o.metadata.name === 'kube-flannel' || o.metadata.name === 'flannel');
  return objects.map((o) => stringify(o)).join('---\n');
}

export async function storeFlannelManifest(c: FaultCluster): Promise<void> {
  await remove(c, configMapPath('kube-system', NAME));
  await create(c, '/api/v1/namespaces/kube-system/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: NAME, namespace: 'kube-system', labels: { 'netdoctor.io/cni': 'flannel' } },
    data: { 'manifest.yaml': flannelManifest(c) },
  });
}

export const removeFlannelManifest = (c: FaultCluster): Promise<void> => remove(c, configMapPath('kube-system', NAME));

/** How long flannel's pod may take to go after its DaemonSet (the garbage collector, then the kubelet). */
export const FLANNEL_DELETE_BOUND_MS = 60_000;

/** `kubectl -n kube-flannel delete daemonset kube-flannel-ds`, until its pod is gone too (garbage collector). */
export async function deleteFlannelAgent(c: FaultCluster): Promise<void> {
  await remove(c, daemonSetPath('kube-flannel', 'kube-flannel-ds'));
  await eventually(async () => {
    if ((await pods(c, 'kube-flannel', 'app=flannel')).length > 0) throw new Error('flannel pod still there');
  }, FLANNEL_DELETE_BOUND_MS, 500);
}
