import type { ScriptedKubelet } from '../cluster/kubelet';
import type { RawObject } from '../../src/domain/kube-types';

/**
 * Plays the DaemonSet controller (off in the test cluster, so dump pods stay put) for one
 * rollout of a DaemonSet: its pods replaced by one pod of the current template on the node,
 * running and ready, and its status caught up with its generation.
 */
export async function rollOutDaemonSet(kubelet: ScriptedKubelet, namespace: string, name: string, node = 'controlplane'): Promise<void> {
  const path = `/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}`;
  const ds = await kubelet.rest.request<RawObject>('GET', path);
  const meta = ds.metadata as { uid: string; generation: number };
  const template = (ds.spec as { template: { metadata: { labels: Record<string, string> }; spec: object } }).template;
  const selector = Object.entries(template.metadata.labels).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await kubelet.rest.request<{ items: RawObject[] }>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  for (const p of pods.items) await kubelet.rest.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata!.name!, namespace } }, { gracePeriodSeconds: 0 });
  const pod = `${name}-g${meta.generation}`;
  await kubelet.rest.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...template.metadata, name: pod, namespace, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid: meta.uid, controller: true }] },
    spec: { ...template.spec, nodeName: node },
  });
  await kubelet.markRunning(namespace, pod);
  await kubelet.rest.mergePatch(
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace } },
    { status: { observedGeneration: meta.generation, desiredNumberScheduled: 1, currentNumberScheduled: 1, updatedNumberScheduled: 1, numberReady: 1, numberAvailable: 1, numberMisscheduled: 0 } },
    'status',
  );
}
