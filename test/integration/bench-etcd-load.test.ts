// The scale benchmark writes most of each namespace straight into etcd, as copies of what the
// apiserver stored for the namespace's first app (bench/etcd-load.ts, bench/synth.ts). Its figures
// stand only if the apiserver then serves those copies as it serves objects it created itself:
// one namespace is loaded each way into a control plane of its own and the two are compared,
// apart from what identifies an object (uids, resourceVersions, times, pod IPs).
import { type BenchEnv, startCluster } from '../../bench/cluster-env';
import { EtcdLoader } from '../../bench/etcd-load';
import { ensureNodes, loadNamespace, nodeNames } from '../../bench/synth';

jest.setTimeout(180_000);

const IDENTITY = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'time', 'startTime', 'startedAt', 'lastTransitionTime', 'lastUpdateTime', 'firstTimestamp', 'lastTimestamp', 'podIP', 'ip', 'clusterIP', 'clusterIPs']);

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

/** The last usable address of the control plane's 10.96.0.0/12. */
const TOP_SERVICE_IP = '10.111.255.254';

interface Address {
  metadata: { name: string };
  spec: { parentRef: { namespace: string; name: string } };
}

interface Slice {
  metadata: { labels: Record<string, string> };
  endpoints?: unknown[];
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
  // The apiserver has already given out the first cluster IP the copies would take (the top of
  // the service range): that copy must go to the next IP, not overwrite the other's IPAddress.
  await env.client.create('/api/v1/namespaces/through-apiserver/services', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'holds-top-ip', namespace: 'through-apiserver' },
    spec: { clusterIP: TOP_SERVICE_IP, ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'none' } },
  });
  await loadNamespace(env.client, env.kubelet, { ...spec, name: 'through-etcd', etcd });
  expect(etcd.taken).toBe(1);
  await env.client.json('DELETE', '/api/v1/namespaces/through-apiserver/services/holds-top-ip');
  // Per app after the first: Deployment, ReplicaSet, pods, Service and its IPAddress.
  expect(etcd.puts).toBe((spec.apps - 1) * (2 + spec.replicas + 2) + spec.events - 1);

  for (const path of ['/apis/apps/v1/namespaces/NS/deployments', '/apis/apps/v1/namespaces/NS/replicasets', '/api/v1/namespaces/NS/pods', '/api/v1/namespaces/NS/services']) {
    const [created, copied] = await Promise.all(
      ['through-apiserver', 'through-etcd'].map(async (ns) => comparable((await env!.client.json<{ items: { metadata: { name: string } }[] }>('GET', path.replace('NS', ns))).items, ns)),
    );
    expect(copied).toHaveLength(path.endsWith('pods') ? spec.apps * spec.replicas : spec.apps);
    expect(copied).toEqual(created);
  }
  // Each Service's cluster IP has its IPAddress, naming that Service, as the allocator writes it.
  const { items: addresses } = await env.client.json<{ items: Address[] }>('GET', '/apis/networking.k8s.io/v1/ipaddresses');
  const services = await Promise.all(['through-apiserver', 'through-etcd'].map((ns) => env!.client.json<{ items: { metadata: { name: string }; spec: { clusterIP: string } }[] }>('GET', `/api/v1/namespaces/${ns}/services`)));
  const [createdAddresses, copiedAddresses] = ['through-apiserver', 'through-etcd'].map((ns, i) => {
    const own = addresses.filter((a) => a.spec.parentRef.namespace === ns);
    expect(own.map((a) => `${a.metadata.name} ${a.spec.parentRef.name}`).sort()).toEqual(services[i]!.items.map((s) => `${s.spec.clusterIP} ${s.metadata.name}`).sort());
    return comparable(own.map((a) => ({ ...a, metadata: { ...a.metadata, name: a.spec.parentRef.name } })), ns);
  });
  expect(copiedAddresses).toEqual(createdAddresses);
  // The endpoint-slice controller sees the copied Services and selects the same pods for them.
  const endpointsPerService = async (ns: string): Promise<string[]> => {
    const { items } = await env!.client.json<{ items: Slice[] }>('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`);
    return items.map((s) => `${s.metadata.labels['kubernetes.io/service-name']}: ${s.endpoints?.length ?? 0}`).sort();
  };
  let [want, got] = [[] as string[], [] as string[]];
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    [want, got] = await Promise.all([endpointsPerService('through-apiserver'), endpointsPerService('through-etcd')]);
    if (want.length === spec.apps && JSON.stringify(got) === JSON.stringify(want)) break;
  }
  expect(want).toHaveLength(spec.apps);
  expect(got).toEqual(want);
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
