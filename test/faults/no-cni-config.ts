// "No CNI config at all": the node's net.d emptied and no agent to write it back (flannel's
// DaemonSet deleted). containerd reports the network not ready, the kubelet turns the node NotReady.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLANNEL_DELETE_BOUND_MS, deleteFlannelAgent, removeFlannelManifest, storeFlannelManifest } from './flannel';
import { type Fault, cniConfDir, get, symptom } from './fault';

interface NodeStatus {
  status: { conditions: { type: string; status: string; message?: string }[] };
}

export const noCniConfig: Fault = {
  name: 'no-cni-config',
  description:
    'No CNI configuration on the real node: DaemonSet kube-flannel/kube-flannel-ds deleted and 10-flannel.conflist removed from the ' +
    'node\'s net.d; the kubelet reports the node NotReady (cni plugin not initialized). The operators stored the flannel manifest in ' +
    'ConfigMap kube-system/netdoctor-cni-manifest (the install opt-in).',
  async break(c) {
    await storeFlannelManifest(c);
    await deleteFlannelAgent(c);
    for (const f of fs.readdirSync(cniConfDir(c))) fs.rmSync(path.join(cniConfDir(c), f), { force: true });
  },
  breakBoundMs: FLANNEL_DELETE_BOUND_MS,
  async ready(c) {
    const node = await get<NodeStatus>(c, '/api/v1/nodes/controlplane');
    const ready = node?.status.conditions.find((k) => k.type === 'Ready');
    symptom([[ready?.status === 'False' && /cni plugin not initialized/.test(ready.message ?? ''), `node Ready=${ready?.status ?? '?'}: ${ready?.message ?? 'no condition'}`]]);
  },
  expected: {
    rootCause: { code: 'CNI-NOT-INSTALLED', subject: { kind: 'Node', name: 'controlplane' }, mentions: ['cni plugin not initialized'] },
    plan: false,
  },
  restore: removeFlannelManifest,
};
