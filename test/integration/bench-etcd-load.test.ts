// The scale benchmark writes most of each namespace straight into etcd, as copies of what the
// apiserver stored for the namespace's first app (bench/etcd-load.ts, bench/synth.ts). Its figures
// stand only if the apiserver then serves those copies as it serves objects it created itself:
// one namespace is loaded each way into a control plane of its own and the two are compared,
// apart from what identifies an object (uids, resourceVersions, times, pod IPs).
import { type BenchEnv, startCluster } from '../../bench/cluster-env';
import { EtcdLoader } from '../../bench/etcd-load';
import { ensureNodes, loadNamespace, nodeNames } from '../../bench/synth';

jest.setTimeout(180_000);

const IDENTITY = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'time', 'startTime', 'startedAt', 'lastTransitionTime', 'lastUpdateTime', 'firstTimestamp', 'lastTimestamp', 'podIP', 'ip']);

/** The objects of a namespace with what identifies each one masked, in name order. */
function comparable(items: { metadata: { name: string } }[], namespace: string): string[] {
  return [...items]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((item) =>
      JSON.stringify(item, (key, value: unknown) => (IDENTITY.has(key) ? '*' : typeof value === 'string' ? value.split(namespace).join('NS') : value))
        // managedFields name list items by key: an owner's uid, a pod IP.
        .replace(/k:\{\\"(uid|ip)\\":\\"[^\\]*\\"\}/g, 'k:{\\"$1\\":*}'),
    );
}

let env: BenchEnv | undefined;

afterAll(async () => {
  await env?.stop();
});

it('serves the copies written into etcd as it serves the objects it created itself', async () => {
  env = await startCluster(() => undefined);
  const nodes = nodeNames(3);
  await ensureNodes(env.kubelet, env.client, nodes);
  const etcd = new EtcdLoader(`http://127.0.0.1:${env.cluster.ports.etcd}`);
  const spec = { apps: 5, replicas: 3, events: 20, nodes, orphanServices: 1 };
  await loadNamespace(env.client, env.kubelet, { ...spec, name: 'through-apiserver' });
  await loadNamespace(env.client, env.kubelet, { ...spec, name: 'through-etcd', etcd });
  expect(etcd.puts).toBe((spec.apps - 1) * (2 + spec.replicas) + spec.events - 1);

  for (const path of ['/apis/apps/v1/namespaces/NS/deployments', '/apis/apps/v1/namespaces/NS/replicasets', '/api/v1/namespaces/NS/pods']) {
    const [created, copied] = await Promise.all(
      ['through-apiserver', 'through-etcd'].map(async (ns) => comparable((await env!.client.json<{ items: { metadata: { name: string } }[] }>('GET', path.replace('NS', ns))).items, ns)),
    );
    expect(copied).toHaveLength(path.endsWith('pods') ? spec.apps * spec.replicas : spec.apps);
    expect(copied).toEqual(created);
  }
  // Events name pods in the order their creation finished, which differs between the two: compared as a whole.
  const events = await Promise.all(
    ['through-apiserver', 'through-etcd'].map(async (ns) => {
      const items = (await env!.client.json<{ items: { metadata: { name: string }; involvedObject: { name: string }; message: string }[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items;
      return comparable(items.map((e) => ({ ...e, metadata: { ...e.metadata, name: 'event' }, involvedObject: { ...e.involvedObject, name: 'pod' }, message: e.message.split(e.involvedObject.name).join('pod') })), ns).sort();
    }),
  );
  expect(events[1]).toHaveLength(spec.events);
  expect(events[1]).toEqual(events[0]);
});
