// Synthetic cluster content loaded through the real apiserver: nodes, namespaces of apps
// (Deployment → ReplicaSet → Pods, a Service and a ConfigMap per app), pod statuses through
// the status subresource as a kubelet would write them, and Events. Requests go out
// concurrently with a bounded width. Objects are shaped like a real cluster's (probes,
// resources, env, owner references, managedFields added by the apiserver). For large sizes
// (`etcd`), most of a namespace is written as copies of its first app straight into etcd.
import { randomUUID } from 'node:crypto';
import type { ScriptedKubelet } from '../test/cluster/kubelet';
import type { EtcdLoader, StoredObject } from './etcd-load';
import { type BareClient, HttpError } from './kube-client';
import { nowMs, pool } from './stats';

export interface NamespaceSpec {
  name: string;
  apps: number;
  replicas: number;
  events: number;
  /** Node names to spread pods over (round-robin). */
  nodes: string[];
  /** Pods put in CrashLoopBackOff with previous logs (served by the scripted kubelet). */
  crashing?: number;
  /** Pods stuck in ContainerCreating with FailedCreatePodSandBox events. */
  sandboxFailures?: number;
  /** Services that select no pod at all. */
  orphanServices?: number;
  /**
   * Writes the Deployments, ReplicaSets, pods and Services of every app after the first (each
   * Service with its cluster IP's IPAddress), and every Event after the first, straight into
   * etcd, as copies of what the apiserver stored for the first (bench/etcd-load.ts); ConfigMaps
   * go through the apiserver.
   */
  etcd?: EtcdLoader;
}

export interface LoadStats {
  requests: number;
  objects: { pods: number; services: number; events: number; deployments: number; replicaSets: number; configMaps: number };
  ms: number;
}

const WIDTH = 24;
const ts = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

let ipCounter = 0;
function nextPodIP(): string {
  const i = ipCounter++;
  return `10.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
}

export function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(36).padStart(7, '0').slice(-7).replace(/[^a-z0-9]/g, 'x');
}

export function container(app: string, upstream: string) {
  return {
    name: 'app',
    image: `registry.example.com/${app}:1.4.2`,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'PORT', value: '8080' },
      { name: 'UPSTREAM', value: `http://${upstream}:80` },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ],
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

export function runningStatus(podIP: string, startedAt: string) {
  const c = (type: string) => ({ type, status: 'True', lastTransitionTime: startedAt });
  return {
    phase: 'Running',
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: startedAt,
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(c),
    containerStatuses: [{
      name: 'app', image: 'registry.example.com/app:1.4.2', imageID: 'registry.example.com/app@sha256:' + '0'.repeat(64),
      containerID: 'containerd://' + '1'.repeat(64), ready: true, started: true, restartCount: 0, state: { running: { startedAt } },
    }],
  };
}

/** Creates nodes served by the scripted kubelet (skips existing ones). */
export async function ensureNodes(kubelet: ScriptedKubelet, client: BareClient, names: string[]): Promise<void> {
  const existing = new Set((await client.json<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/nodes')).items.map((n) => n.metadata.name));
  const missing = names.filter((n) => !existing.has(n));
  await pool(missing.length, 8, async (i) => {
    const name = missing[i]!;
    const k = Number(/(\d+)$/.exec(name)?.[1] ?? i);
    await kubelet.createNode(name, { podCIDR: `10.${64 + (k >> 8)}.${k & 255}.0/24` });
  });
}

export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `worker-${String(i).padStart(4, '0')}`);
}

/**
 * Takes a loaded namespace and the nodes added for it out of the cluster, and waits until the
 * namespace controller has emptied it, so a later stage measures only its own objects. Pods go
 * first with no grace period: no kubelet runs them to confirm a graceful stop.
 */
export async function removeNamespace(client: BareClient, ns: string, nodes: string[]): Promise<void> {
  await client.json('DELETE', `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`);
  await client.json('DELETE', `/api/v1/namespaces/${ns}`);
  await pool(nodes.length, 8, (i) => client.json('DELETE', `/api/v1/nodes/${nodes[i]!}`));
  for (const deadline = nowMs() + 300_000; ; ) {
    try {
      await client.json('GET', `/api/v1/namespaces/${ns}`);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) return;
      throw e;
    }
    if (nowMs() > deadline) throw new Error(`namespace ${ns} was not gone 5 min after its deletion`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** An object as the apiserver returns it: what the etcd copies start from. */
interface Stored extends Record<string, unknown> {
  metadata: { name: string; uid: string; resourceVersion?: string; labels?: Record<string, string>; ownerReferences?: { uid: string; name: string }[]; managedFields?: unknown[] };
}

interface PodSpecShape {
  containers: { image?: string; env?: { name: string; value?: string }[] }[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

/**
 * A copy of `stored` under another name, uid and labels (and owner: its first owner reference),
 * without its resourceVersion. managedFields name list items by key (an owner's uid, a pod IP):
 * `renames` ([old, new] strings as they appear there) keep them the copy's own.
 */
function storedCopy(stored: Stored, name: string, labels: Record<string, string> | undefined, owner?: { name: string; uid: string }, renames: [string, string][] = []): Stored {
  const copy = structuredClone(stored);
  delete copy.metadata.resourceVersion;
  copy.metadata.name = name;
  copy.metadata.uid = randomUUID();
  if (labels) copy.metadata.labels = labels;
  const ref = copy.metadata.ownerReferences?.[0];
  if (ref && owner) {
    renames = [...renames, [ref.uid, owner.uid]];
    Object.assign(ref, owner);
  }
  if (copy.metadata.managedFields && renames.length > 0) {
    let text = JSON.stringify(copy.metadata.managedFields);
    for (const [from, to] of renames) text = text.split(from).join(to);
    copy.metadata.managedFields = JSON.parse(text) as unknown[];
  }
  return copy;
}

/** What differs between apps in a stored pod spec: the image, the upstream, the ConfigMap (admission's additions stay). */
function retargetPodSpec(target: PodSpecShape, generated: PodSpecShape): void {
  const [want] = generated.containers;
  const [have] = target.containers;
  if (!want || !have) throw new Error('stored pod spec without its container');
  have.image = want.image;
  have.env = want.env;
  const config = target.volumes?.find((v) => v.name === 'config');
  const wantConfig = generated.volumes?.find((v) => v.name === 'config');
  if (config?.configMap && wantConfig?.configMap) config.configMap.name = wantConfig.configMap.name;
}

/**
 * Cluster IPs for Services written into etcd, counted down from the top of the service range
 * (10.96.0.0/12). The apiserver's allocator starts at a random address, so one of these may be
 * taken already: claimServiceIPs claims each.
 */
let serviceIpCounter = 0;
function nextServiceIP(): string {
  const i = (1 << 20) - 2 - serviceIpCounter++;
  return `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * Services as copies of one the apiserver stored (`first`), each with a cluster IP of its own
 * and that IP's IPAddress object, as the apiserver's ClusterIP allocator writes them. Going
 * around the allocator matters at scale: after each allocation it counts every IPAddress twice
 * for its metrics, so creating N Services through the apiserver costs O(N²).
 * The IPAddresses are claimed first; the Services are written by the returned function, once the
 * apiserver has seen the addresses (its IP repair controller, seeing a Service whose address it
 * has not seen yet, records a ClusterIPNotAllocated event on it).
 */
async function claimServiceIPs(client: BareClient, etcd: EtcdLoader, ns: string, first: string, services: { name: string; labels: Record<string, string>; selector: Record<string, string> }[]): Promise<() => Promise<void>> {
  const stored = await client.json<Stored & { spec: { clusterIP: string } }>('GET', `/api/v1/namespaces/${ns}/services/${first}`);
  const storedAddress = await client.json<Stored>('GET', `/apis/networking.k8s.io/v1/ipaddresses/${stored.spec.clusterIP}`);
  const copy = (s: (typeof services)[number]) => {
    const ip = nextServiceIP();
    const address = storedCopy(storedAddress, ip, undefined);
    Object.assign((address.spec as { parentRef: object }).parentRef, { namespace: ns, name: s.name });
    const claim = `/registry/ipaddresses/${ip}`;
    return { claim, objects: [{ key: claim, value: address }], ip, service: s };
  };
  const claimed: ReturnType<typeof copy>[] = [];
  let pending = services.map(copy);
  while (pending.length > 0) {
    const taken = new Set(await etcd.putClaimed(pending));
    claimed.push(...pending.filter((p) => !taken.has(p)));
    // The apiserver allocated one of these IPs meanwhile: give that Service another.
    pending = [...taken].map((p) => copy(p.service));
  }
  // A LIST at least as new as the last write is answered once the apiserver's cache holds it.
  await client.json('GET', `/apis/networking.k8s.io/v1/ipaddresses?limit=1&resourceVersion=${etcd.revision}&resourceVersionMatch=NotOlderThan`);
  return () =>
    etcd.put(claimed.map(({ ip, service: s }) => {
      const svc = storedCopy(stored, s.name, s.labels);
      Object.assign(svc.spec as object, { selector: s.selector, clusterIP: ip, clusterIPs: [ip] });
      return { key: `/registry/services/specs/${ns}/${s.name}`, value: svc };
    }));
}

/** Loads one namespace of apps; returns what it created and the pods it made fail. */
export async function loadNamespace(client: BareClient, kubelet: ScriptedKubelet, spec: NamespaceSpec): Promise<LoadStats & { failing: string[] }> {
  const t0 = nowMs();
  const before = client.calls;
  const ns = spec.name;
  const base = `/api/v1/namespaces/${ns}`;
  const apps = `/apis/apps/v1/namespaces/${ns}`;
  try {
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: 'bench', 'kubernetes.io/metadata.name': ns } } });
  } catch (e) {
    if (!(e instanceof HttpError && e.status === 409)) throw e;
  }
  const started = ts();
  const podNames: string[] = [];
  const podUids: string[] = [];
  let configMaps = 0;

  // Apps: ConfigMap, Deployment, ReplicaSet (owned), Service, then pods (owned by the RS).
  const appName = (a: number): string => `svc-${String(a).padStart(4, '0')}`;
  const appShape = (a: number) => {
    const app = appName(a);
    const labels = { app, tier: a % 3 === 0 ? 'frontend' : 'backend', 'app.kubernetes.io/part-of': ns };
    const template = {
      metadata: { labels: { ...labels, 'pod-template-hash': hash(app) } },
      spec: {
        containers: [container(app, appName((a + 1) % spec.apps))],
        volumes: [{ name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } }],
        restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler',
      },
    };
    const podName = (r: number): string => `${app}-${hash(app)}-${hash(`${app}/${r}`).slice(0, 5)}`;
    const node = (r: number): string => spec.nodes[(a * spec.replicas + r) % spec.nodes.length]!;
    return { app, labels, template, rsName: `${app}-${hash(app)}`, podName, node };
  };
  /** One app in ten has a ConfigMap (through the apiserver). */
  const config = async (a: number): Promise<void> => {
    if (a % 10 !== 0) return;
    const { app, labels } = appShape(a);
    await client.create(`${base}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${app}-config`, namespace: ns, labels }, data: { 'app.yaml': `listen: :8080\nupstream: ${app}-backend\n`.repeat(4) } });
    configMaps++;
  };
  const serviceSelector = (a: number): Record<string, string> => (a < (spec.orphanServices ?? 0) ? { app: `${appName(a)}-gone` } : { app: appName(a) });
  /** The app's Service through the apiserver (which allocates its cluster IP). */
  const service = async (a: number): Promise<void> => {
    const { app, labels } = appShape(a);
    await client.create(`${base}/services`, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns, labels },
      spec: { selector: serviceSelector(a), ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], type: 'ClusterIP' },
    });
  };
  /** The app's Deployment, ReplicaSet and pods through the apiserver, statuses as the controllers and a kubelet would write them. */
  const workloadThroughApiserver = async (a: number): Promise<void> => {
    const { app, labels, template, rsName, podName, node } = appShape(a);
    const dep = await client.create(`${apps}/deployments`, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: ns, labels },
      spec: { replicas: spec.replicas, selector: { matchLabels: { app } }, template },
    });
    await client.patchStatus(`${apps}/deployments/${app}`, {
      observedGeneration: 1, replicas: spec.replicas, updatedReplicas: spec.replicas, readyReplicas: spec.replicas, availableReplicas: spec.replicas,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: started, lastTransitionTime: started }],
    });
    const rs = await client.create(`${apps}/replicasets`, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name: rsName, namespace: ns, labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: dep.metadata.uid, controller: true, blockOwnerDeletion: true }] },
      spec: { replicas: spec.replicas, selector: { matchLabels: { app, 'pod-template-hash': hash(app) } }, template },
    });
    await client.patchStatus(`${apps}/replicasets/${rsName}`, { replicas: spec.replicas, fullyLabeledReplicas: spec.replicas, readyReplicas: spec.replicas, availableReplicas: spec.replicas, observedGeneration: 1 });
    for (let r = 0; r < spec.replicas; r++) {
      const name = podName(r);
      const pod = await client.create(`${base}/pods`, {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name, namespace: ns, labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }] },
        spec: { ...template.spec, nodeName: node(r) },
      });
      await client.patchStatus(`${base}/pods/${name}`, runningStatus(nextPodIP(), started));
      podNames.push(name);
      podUids.push(pod.metadata.uid);
    }
  };

  if (spec.etcd) {
    // The first app through the apiserver; the others are copies of what it stored, written to etcd.
    await config(0);
    await service(0);
    const writeServices = await claimServiceIPs(client, spec.etcd, ns, appName(0), Array.from({ length: spec.apps - 1 }, (_, i) => {
      const { app, labels } = appShape(i + 1);
      return { name: app, labels, selector: serviceSelector(i + 1) };
    }));
    await workloadThroughApiserver(0);
    const first = appShape(0);
    const stored = {
      dep: await client.json<Stored>('GET', `${apps}/deployments/${first.app}`),
      rs: await client.json<Stored>('GET', `${apps}/replicasets/${first.rsName}`),
      pod: await client.json<Stored>('GET', `${base}/pods/${first.podName(0)}`),
    };
    const objects: StoredObject[] = [];
    for (let a = 1; a < spec.apps; a++) {
      const { app, labels, template, rsName, podName, node } = appShape(a);
      const dep = storedCopy(stored.dep, app, labels);
      const depSpec = dep.spec as { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpecShape } };
      depSpec.selector.matchLabels = { app };
      depSpec.template.metadata.labels = template.metadata.labels;
      retargetPodSpec(depSpec.template.spec, template.spec);
      const rs = storedCopy(stored.rs, rsName, template.metadata.labels, { name: app, uid: dep.metadata.uid });
      const rsSpec = rs.spec as typeof depSpec;
      rsSpec.selector.matchLabels = { app, 'pod-template-hash': hash(app) };
      rsSpec.template.metadata.labels = template.metadata.labels;
      retargetPodSpec(rsSpec.template.spec, template.spec);
      objects.push({ key: `/registry/deployments/${ns}/${app}`, value: dep }, { key: `/registry/replicasets/${ns}/${rsName}`, value: rs });
      for (let r = 0; r < spec.replicas; r++) {
        const ip = nextPodIP();
        const storedIP = (stored.pod.status as { podIP: string }).podIP;
        const pod = storedCopy(stored.pod, podName(r), template.metadata.labels, { name: rsName, uid: rs.metadata.uid }, [[`"${storedIP}\\"`, `"${ip}\\"`]]);
        const podSpec = pod.spec as PodSpecShape & { nodeName: string };
        retargetPodSpec(podSpec, template.spec);
        podSpec.nodeName = node(r);
        Object.assign(pod.status as object, { podIP: ip, podIPs: [{ ip }] });
        objects.push({ key: `/registry/pods/${ns}/${podName(r)}`, value: pod });
        podNames.push(podName(r));
        podUids.push(pod.metadata.uid);
      }
    }
    await spec.etcd.put(objects);
    await writeServices();
    await pool(spec.apps - 1, WIDTH, (i) => config(i + 1));
  } else {
    await pool(spec.apps, WIDTH, async (a) => {
      await config(a);
      await service(a);
      await workloadThroughApiserver(a);
    });
  }

  // A few failing pods (through the scripted kubelet, so logs are served like a kubelet's).
  const failing: string[] = [];
  const crashing = spec.crashing ?? 0;
  for (let i = 0; i < crashing && i < podNames.length; i++) {
    const pod = podNames[podNames.length - 1 - i]!;
    await kubelet.markCrashLoopBackOff(ns, pod, 'app', { restartCount: 6 + i, exitCode: 1 });
    kubelet.setLogs(ns, pod, 'app', {
      previous: Array.from({ length: 40 }, (_, k) => `2026-11-25T10:00:${String(k).padStart(2, '0')}Z INFO request served in ${k} ms`).join('\n') +
        '\npanic: dial tcp 10.96.0.10:53: i/o timeout (resolving upstream)\n',
      current: '',
    });
    failing.push(pod);
  }
  for (let i = 0; i < (spec.sandboxFailures ?? 0) && crashing + i < podNames.length; i++) {
    const pod = podNames[podNames.length - 1 - crashing - i]!;
    await kubelet.markContainerCreating(ns, pod);
    failing.push(pod);
  }

  // Events: the kubelet's usual life-cycle story for pods, plus warnings for the failing ones.
  const reasons: [string, string, string][] = [
    ['Normal', 'Scheduled', 'Successfully assigned {ns}/{pod} to {node}'],
    ['Normal', 'Pulled', 'Container image "registry.example.com/app:1.4.2" already present on machine'],
    ['Normal', 'Created', 'Created container: app'],
    ['Normal', 'Started', 'Started container app'],
  ];
  const warnings = failing.map((pod, i) =>
    i < crashing
      ? (['Warning', 'BackOff', 'Back-off restarting failed container app in pod {pod}'] as [string, string, string])
      : (['Warning', 'FailedCreatePodSandBox', 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "{pod}": plugin type="weave-net" failed (add): unable to connect to weave: dial unix /run/weave/weave.sock: connect: no such file or directory'] as [string, string, string]),
  );
  const total = Math.max(spec.events, warnings.length);
  const eventBody = (e: number) => {
    const warning = e < warnings.length;
    const podIndex = warning ? podNames.indexOf(failing[e]!) : e % podNames.length;
    const pod = podNames[podIndex]!;
    const [type, reason, message] = warning ? warnings[e]! : reasons[Math.floor(e / podNames.length) % reasons.length]!;
    return {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: `${pod}.${(0x180000000000 + e).toString(16)}`, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod, uid: podUids[podIndex], fieldPath: 'spec.containers{app}' },
      type, reason, message: message.replace('{ns}', ns).replace('{pod}', pod).replace('{node}', 'worker'),
      source: { component: 'kubelet', host: 'worker' }, reportingComponent: 'kubelet', reportingInstance: 'worker',
      firstTimestamp: started, lastTimestamp: started, count: warning ? 12 : 1,
    };
  };
  if (spec.etcd && total > 0) {
    // The first through the apiserver, the others copies of what it stored (they carry no TTL lease,
    // which the apiserver gives events; nothing here runs for the hour it lasts).
    const first = eventBody(0);
    await client.create(`${base}/events`, first);
    const stored = await client.json<Stored>('GET', `${base}/events/${first.metadata.name}`);
    const copies: StoredObject[] = [];
    for (let e = 1; e < total; e++) {
      const { metadata, ...fields } = eventBody(e);
      copies.push({ key: `/registry/events/${ns}/${metadata.name}`, value: Object.assign(storedCopy(stored, metadata.name, undefined), fields) });
    }
    await spec.etcd.put(copies);
  } else {
    await pool(total, WIDTH, (e) => client.create(`${base}/events`, eventBody(e)));
  }

  return {
    requests: client.calls - before,
    objects: { pods: podNames.length, services: spec.apps, events: total, deployments: spec.apps, replicaSets: spec.apps, configMaps },
    ms: nowMs() - t0,
    failing,
  };
}
