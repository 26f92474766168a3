// Smoke test of the test cluster itself (test/cluster): the real apiserver answers, a
// scenario dump loads, reads through @kubernetes/client-node see the dump's statuses,
// the real EndpointSlice controller builds slices from them, and pod logs are read through
// the apiserver's pods/log proxy from the scripted kubelet.
import * as net from 'node:net';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../cluster/kubelet';
import { loadScenario, type LoadedScenario } from '../cluster/load-scenario';
import { SCENARIO_DIR } from '../support/scenarios';

jest.setTimeout(120_000);

const SCENARIOS = SCENARIO_DIR;

/** Polls until fn returns a value (not a timing assertion: the deadline only bounds a hang). */
async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The metav1.Status message of a failed call (client-node 1.x ApiException carries the raw body). */
async function statusOf(call: Promise<unknown>): Promise<{ code?: number; message?: string }> {
  try {
    await call;
  } catch (e) {
    const body = (e as { body?: unknown }).body;
    const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string });
    return { code: (e as { code?: number }).code, message: parsed?.message };
  }
  throw new Error('expected the call to fail');
}

describe('test control plane', () => {
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  const smokeNs = `cp-smoke-${process.pid}`;

  beforeAll(async () => {
    const kubeconfig = process.env.NETDOCTOR_TEST_KUBECONFIG;
    if (!kubeconfig) throw new Error('NETDOCTOR_TEST_KUBECONFIG not set: run through the integration jest project (globalSetup)');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    kubelet = await ScriptedKubelet.start({ kubeConfig: kc, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(path.join(SCENARIOS, 'triton-kube-proxy-config'), { kubelet });
  });

  afterAll(async () => {
    await scenario?.unload();
    // no real kubelet confirms graceful deletion: force-delete the smoke pods, then the namespace
    await core?.deleteCollectionNamespacedPod({ namespace: smokeNs, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core?.deleteNamespace({ name: smokeNs }).catch(() => undefined);
    await kubelet?.stop();
  });

  test('the apiserver answers with the pinned, version-stamped release', async () => {
    const v = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(v.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(v.gitVersion).not.toContain('v0.0.0');
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'triton']));
  });

  test('the loaded pods carry the dump’s statuses and stay bound to the dump’s node', async () => {
    const pods = await core.listNamespacedPod({ namespace: 'kube-system' });
    const proxy = pods.items.find((p) => p.metadata?.name === 'kube-proxy-k58g8');
    expect(proxy?.spec?.nodeName).toBe('controlplane');
    const cs = proxy?.status?.containerStatuses?.[0];
    expect(cs?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs?.restartCount).toBe(5);
    expect(cs?.lastState?.terminated?.exitCode).toBe(1);
    expect(proxy?.spec?.containers[0]?.command).toContain('--config=/var/lib/kube-proxy/configuration.conf');
    const coredns = pods.items.filter((p) => p.metadata?.name?.startsWith('coredns-'));
    expect(coredns).toHaveLength(2);
    for (const p of coredns) {
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    // owner references were remapped to the live owners, so the garbage collector keeps the pods
    const rs = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedReplicaSet({ name: 'coredns-787d4945fb', namespace: 'kube-system' });
    expect(coredns.map((p) => p.metadata?.ownerReferences?.[0]?.uid)).toEqual([rs.metadata?.uid, rs.metadata?.uid]);
    const node = await core.readNode({ name: 'controlplane' });
    expect(node.status?.addresses).toEqual(expect.arrayContaining([{ type: 'InternalIP', address: '172.17.0.12' }]));
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(kubelet.port);
    const events = await core.listNamespacedEvent({ namespace: 'kube-system' });
    const backoff = events.items.find((e) => e.reason === 'BackOff');
    expect(backoff?.involvedObject.uid).toBe(proxy?.metadata?.uid);
    expect(backoff?.count).toBe(25);
  });

  test('the real EndpointSlice controller builds slices from the written pod statuses', async () => {
    const svc = await core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    expect(svc.spec?.clusterIP).toBe('10.96.0.10');
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const addresses = await eventually(async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: 'kube-system',
        labelSelector: 'kubernetes.io/service-name=kube-dns',
      });
      const ready = slices.items.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
      return ready.length === 2 ? ready.sort() : undefined;
    }, 'EndpointSlice for kube-system/kube-dns');
    expect(addresses).toEqual(['10.32.0.3', '10.32.0.4']);
  });

  test('pod logs are read through the apiserver from the scripted kubelet', async () => {
    const current = await core.readNamespacedPodLog({ name: 'kube-proxy-k58g8', namespace: 'kube-system' });
    expect(current).toContain('open /var/lib/kube-proxy/configuration.conf: no such file or directory');
    const previous = await core.readNamespacedPodLog({ name: 'kube-proxy-k58g8', namespace: 'kube-system', previous: true });
    expect(previous).toContain('configuration.conf: no such file or directory');
    const coredns = await core.readNamespacedPodLog({ name: 'coredns-787d4945fb-jbvcb', namespace: 'kube-system', tailLines: 1 });
    expect(coredns.trimEnd().split('\n')).toHaveLength(1);
    const limited = await core.readNamespacedPodLog({ name: 'coredns-787d4945fb-jbvcb', namespace: 'kube-system', limitBytes: 5 });
    expect(Buffer.byteLength(limited)).toBe(5);
    // a running container has no previous instance: the kubelet's 400 comes back as an API error
    expect(
      await statusOf(core.readNamespacedPodLog({ name: 'coredns-787d4945fb-jbvcb', namespace: 'kube-system', previous: true })),
    ).toEqual({ code: 400, message: 'previous terminated container "coredns" in pod "coredns-787d4945fb-jbvcb" not found' });
  });

  test('a waiting container answers with the kubelet’s 400', async () => {
    await core.createNamespace({ body: { metadata: { name: smokeNs } } }).catch(() => undefined);
    await core.createNamespacedPod({
      namespace: smokeNs,
      body: { metadata: { name: 'web' }, spec: { nodeName: 'controlplane', containers: [{ name: 'app', image: 'app:1' }] } },
    });
    await kubelet.markContainerCreating(smokeNs, 'web');
    expect(await statusOf(core.readNamespacedPodLog({ name: 'web', namespace: smokeNs }))).toEqual({
      code: 400,
      message: 'container "app" in pod "web" is waiting to start: ContainerCreating',
    });
  });

  test('the scripted kubelet’s status helpers write statuses the apiserver accepts', async () => {
    const pod = (name: string, extra: Record<string, unknown> = {}) =>
      core.createNamespacedPod({
        namespace: smokeNs,
        body: { metadata: { name, labels: { app: 'helpers' } }, spec: { containers: [{ name: 'app', image: 'app:1' }], ...extra } },
      });
    await core.createNamespace({ body: { metadata: { name: smokeNs } } }).catch(() => undefined);
    await pod('running', { nodeName: 'controlplane' });
    await pod('crashing', { nodeName: 'controlplane' });
    // no nodeName and a scheduler that does not exist: the real scheduler leaves it alone
    await pod('pending', { schedulerName: 'netdoctor-test-frozen' });

    const running = await kubelet.markRunning(smokeNs, 'running');
    expect(running.status?.phase).toBe('Running');
    expect(running.status?.podIP).toMatch(/^10\.244\./);
    const crashing = await kubelet.markCrashLoopBackOff(smokeNs, 'crashing', 'app', { restartCount: 7 });
    expect(crashing.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(crashing.status?.containerStatuses?.[0]?.restartCount).toBe(7);
    const pending = await kubelet.markUnschedulable(smokeNs, 'pending');
    expect(pending.status?.conditions?.[0]?.reason).toBe('Unschedulable');

    const ev = await kubelet.createEvent({ ...crashing, apiVersion: 'v1', kind: 'Pod' } as never, {
      reason: 'BackOff',
      message: 'Back-off restarting failed container app',
      host: 'controlplane',
      count: 3,
    });
    expect(ev.involvedObject.uid).toBe(crashing.metadata?.uid);

    kubelet.setLogs(smokeNs, 'crashing', 'app', { current: 'boom\n', previous: 'first\nsecond\n' });
    expect(await core.readNamespacedPodLog({ name: 'crashing', namespace: smokeNs })).toBe('boom\n');
    expect(await core.readNamespacedPodLog({ name: 'crashing', namespace: smokeNs, previous: true, tailLines: 1 })).toBe('second\n');
  });

  test('a private redis-server is exported as REDIS_URL', async () => {
    const url = new URL(process.env.REDIS_URL ?? '');
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).not.toBe('6379');
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: url.hostname, port: Number(url.port) }, () => s.write('PING\r\n'));
      s.on('data', (d) => {
        resolve(d.toString());
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(reply).toBe('+PONG\r\n');
  });
});
