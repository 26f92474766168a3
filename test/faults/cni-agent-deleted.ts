// The seed's lab 1 with flannel: the CNI agent DaemonSet deleted while its CNI config stays in the
// node's net.d. flannel's CNI plugin needs flanneld's subnet.env, which lives on tmpfs (/run/flannel):
// after the node's next reboot (played by removing it) every new pod fails in the plugin.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLANNEL_DELETE_BOUND_MS, deleteFlannelAgent, removeFlannelManifest, storeFlannelManifest } from './flannel';
import { type Fault, type FaultCluster, APP_OK, appPage, deletePods, events, excerpt, flannelRunDir, podLines, pods, symptom, waitingReason } from './fault';

/** flannel's agent gone, then the node "reboots" (/run is tmpfs) and webapp's pod is replaced. */
async function agentGoneNodeRebooted(c: FaultCluster): Promise<void> {
  await deleteFlannelAgent(c);
  fs.rmSync(path.join(flannelRunDir(c), 'subnet.env'), { force: true });
  await deletePods(c, 'triton', 'name=webapp-mysql');
}

export const cniAgentDeleted: Fault = {
  name: 'cni-agent-deleted',
  description:
    'The seed lab 1 on the real node: kubectl -n kube-flannel delete daemonset kube-flannel-ds while 10-flannel.conflist stays in net.d; ' +
    'the node reboots (/run/flannel/subnet.env gone) and the webapp pod is deleted: its replacement stays ContainerCreating on the flannel plugin\'s ' +
    'FailedCreatePodSandBox. The operators stored the flannel manifest in ConfigMap kube-system/netdoctor-cni-manifest (the install opt-in).',
  async break(c) {
    await storeFlannelManifest(c);
    await agentGoneNodeRebooted(c);
  },
  breakBoundMs: FLANNEL_DELETE_BOUND_MS,
  // The rollback deletes the DaemonSet the plan created; the symptom shows at the node's next reboot.
  reenact: agentGoneNodeRebooted,
  async ready(c) {
    const web = await pods(c, 'triton', 'name=webapp-mysql');
    const stuck = web.filter((p) => waitingReason(p) === 'ContainerCreating' || p.status.phase === 'Pending');
    const failed = (await events(c, 'triton', 'FailedCreatePodSandBox')).some((e) => stuck.some((p) => p.metadata.name === e.involvedObject.name));
    const page = await appPage(c);
    symptom([
      [stuck.length > 0, `no webapp pod stuck creating: ${podLines(web)}`],
      [failed, 'no FailedCreatePodSandBox event on a stuck webapp pod'],
      [!page.includes(APP_OK), `NodePort 30081 still answers: ${excerpt(page)}`],
    ]);
  },
  expected: {
    rootCause: { code: 'CNI-AGENT-MISSING', mentions: ['flannel', 'subnet.env'] },
    plan: true,
  },
  restore: removeFlannelManifest,
};
