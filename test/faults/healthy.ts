// The healthy state between faults: every object of the node's manifests put back exactly as
// applied (`kubectl replace`, or create when deleted), NetworkPolicies removed, then waited for:
// every workload rolled out and ready, the node Ready, and web-service answering with a database
// connection (which needs kube-proxy, flannel, CoreDNS and mysql).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFESTS, manifestObjects, resourcePaths } from '../cluster/node';
import { eventually } from '../support/eventually';
import { type FaultCluster, appWorks, get } from './fault';

/** Kinds whose live object is left alone when it exists (immutable in the parts the manifests set). */
const KEEP_WHEN_PRESENT = new Set(['Namespace', 'Pod']);
const WORKLOAD_NAMESPACES = ['kube-system', 'kube-flannel', 'triton'];

interface Workload {
  metadata: { name: string; namespace: string; generation: number };
  spec: { replicas?: number };
  status: Record<string, number | undefined>;
}

/** Puts every manifest object back as the node applied it. */
export async function replaceManifests(c: FaultCluster): Promise<void> {
  for (const file of MANIFESTS) {
    for (const o of manifestObjects(fs.readFileSync(path.join(c.workDir, 'manifests', file), 'utf8'))) {
      const { collection, object } = resourcePaths(o);
      await eventually(async () => {
        const live = await get<{ metadata: { resourceVersion: string }; spec?: { clusterIP?: string; clusterIPs?: string[] } }>(c, object);
        if (!live) await c.api.request(collection, { method: 'POST', body: o });
        else if (!KEEP_WHEN_PRESENT.has(o.kind)) {
          // A Service keeps the ClusterIP it was allocated (the manifests name only kube-dns's).
          const spec = o.kind === 'Service' ? { ...(o.spec as object), clusterIP: live.spec?.clusterIP, clusterIPs: live.spec?.clusterIPs } : o.spec;
          await c.api.request(object, { method: 'PUT', body: { ...o, ...(spec ? { spec } : {}), metadata: { ...o.metadata, resourceVersion: live.metadata.resourceVersion } } });
        }
      }, 20_000, 500);
    }
  }
}

function rolledOut(w: Workload, kind: 'Deployment' | 'DaemonSet'): boolean {
  const s = w.status;
  if ((s.observedGeneration ?? 0) < w.metadata.generation) return false;
  if (kind === 'Deployment') {
    const want = w.spec.replicas ?? 1;
    return s.replicas === want && s.updatedReplicas === want && (s.readyReplicas ?? 0) === want && (s.availableReplicas ?? 0) === want;
  }
  const want = s.desiredNumberScheduled ?? -1;
  return want > 0 && s.updatedNumberScheduled === want && s.numberReady === want && s.numberAvailable === want;
}

/** What is not healthy yet (empty when healthy). */
export async function unhealthy(c: FaultCluster): Promise<string[]> {
  const out: string[] = [];
  for (const ns of WORKLOAD_NAMESPACES) {
    for (const [kind, plural] of [['Deployment', 'deployments'], ['DaemonSet', 'daemonsets']] as const) {
      const items = (await c.api.json<{ items: Workload[] }>(`/apis/apps/v1/namespaces/${ns}/${plural}`)).items;
      for (const w of items) if (!rolledOut(w, kind)) out.push(`${kind} ${ns}/${w.metadata.name} not rolled out: ${JSON.stringify(w.status)}`);
    }
  }
  const node = await get<{ status: { conditions: { type: string; status: string; message?: string }[] } }>(c, '/api/v1/nodes/controlplane');
  const ready = node?.status.conditions.find((k) => k.type === 'Ready');
  if (ready?.status !== 'True') out.push(`node not Ready: ${ready?.message ?? 'no condition'}`);
  if (!(await appWorks(c))) out.push('web-service NodePort does not answer with a database connection');
  return out;
}

/** Restores the healthy state after a fault and waits for it (bounded). */
export async function restoreHealthy(c: FaultCluster, restore?: (c: FaultCluster) => Promise<void>, timeoutMs = 180_000): Promise<void> {
  await restore?.(c);
  for (const ns of WORKLOAD_NAMESPACES) await c.api.request(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, { method: 'DELETE' });
  await replaceManifests(c);
  await eventually(async () => {
    const left = await unhealthy(c);
    if (left.length) throw new Error(`not healthy yet:\n${left.join('\n')}`);
  }, timeoutMs, 1000);
}
