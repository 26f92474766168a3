// A scripted kubelet for the test control plane.
//
// It plays the parts of a kubelet that netdoctor can observe through the API:
//  - Node objects (Ready, InternalIP 127.0.0.1, daemonEndpoints.kubeletEndpoint.Port =
//    this process's HTTPS server),
//  - pod statuses written through the pods/status subresource (Running/Ready,
//    ContainerCreating, CrashLoopBackOff, Pending/Unschedulable, or any status verbatim),
//  - core/v1 Events,
//  - the kubelet's /containerLogs/{ns}/{pod}/{container} endpoint, so
//    `GET pods/{name}/log` through the apiserver works (current, previous=true,
//    tailLines, limitBytes, timestamps; the kubelet's 400s for waiting containers),
//  - (optional) completing graceful pod deletion for pods on its nodes, as a kubelet
//    does once containers are gone (otherwise deleted pods stay Terminating forever).
// It never starts containers: pods keep exactly the status written by the test.
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { Rest, RestError, type Obj } from './rest';

export interface KubeletTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that signed the apiserver's kubelet client cert; when set, client certs are required. */
  ca?: string | Buffer;
}

/** Serving cert/key and CA from the PKI dir exported by global-setup (NETDOCTOR_TEST_PKI_DIR). */
export function kubeletTlsFromPkiDir(dir = process.env.NETDOCTOR_TEST_PKI_DIR): KubeletTls {
  if (!dir) throw new Error('NETDOCTOR_TEST_PKI_DIR is not set (is the jest globalSetup configured?)');
  return {
    cert: fs.readFileSync(path.join(dir, 'kubelet-serving.crt')),
    key: fs.readFileSync(path.join(dir, 'kubelet-serving.key')),
    ca: fs.readFileSync(path.join(dir, 'ca.crt')),
  };
}

export interface ScriptedKubeletOptions {
  kubeconfigPath?: string;
  kubeConfig?: k8s.KubeConfig;
  tls: KubeletTls;
  /** Force-delete pods with a deletionTimestamp on this kubelet's nodes (default true). */
  finalizeDeletions?: boolean;
}

export interface ContainerLogs {
  current?: string;
  previous?: string;
}

export interface NodeOptions {
  labels?: Record<string, string>;
  ready?: boolean;
  taints?: k8s.V1Taint[];
  podCIDR?: string;
  capacity?: Record<string, string>;
  kubeletVersion?: string;
}

type Pod = k8s.V1Pod;
type ContainerStatus = k8s.V1ContainerStatus;

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class ScriptedKubelet {
  readonly rest: Rest;
  readonly kc: k8s.KubeConfig;
  private server!: https.Server;
  private _port = 0;
  private readonly logs = new Map<string, ContainerLogs>();
  private readonly nodes = new Set<string>();
  private deletionTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(kc: k8s.KubeConfig) {
    this.kc = kc;
    this.rest = new Rest(kc);
  }

  static async start(opts: ScriptedKubeletOptions): Promise<ScriptedKubelet> {
    let kc = opts.kubeConfig;
    if (!kc) {
      kc = new k8s.KubeConfig();
      const file = opts.kubeconfigPath ?? process.env.NETDOCTOR_TEST_KUBECONFIG;
      if (!file) throw new Error('ScriptedKubelet: no kubeconfig (kubeconfigPath or NETDOCTOR_TEST_KUBECONFIG)');
      kc.loadFromFile(file);
    }
    const k = new ScriptedKubelet(kc);
    k.server = https.createServer(
      {
        cert: opts.tls.cert,
        key: opts.tls.key,
        ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
      },
      (req, res) => {
        k.handle(req, res).catch((e: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(String(e));
        });
      },
    );
    await new Promise<void>((resolve, reject) => {
      k.server.once('error', reject);
      k.server.listen(0, '127.0.0.1', () => resolve());
    });
    k.server.unref(); // never keep a test worker alive on its own
    const addr = k.server.address();
    k._port = typeof addr === 'object' && addr ? addr.port : 0;
    if (opts.finalizeDeletions !== false) k.startDeletionLoop();
    return k;
  }

  /** Port of the HTTPS kubelet endpoint (what nodes advertise). */
  get port(): number {
    return this._port;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.deletionTimer) clearTimeout(this.deletionTimer);
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // ---------------------------------------------------------------- nodes

  /** Creates a Ready node served by this kubelet (InternalIP 127.0.0.1). */
  async createNode(name: string, o: NodeOptions = {}): Promise<k8s.V1Node> {
    const capacity = o.capacity ?? { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const node: k8s.V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...o.labels },
      },
      spec: { ...(o.podCIDR ? { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR] } : {}), ...(o.taints ? { taints: o.taints } : {}) },
      status: {
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: name },
        ],
        capacity,
        allocatable: capacity,
        conditions: nodeConditions(o.ready !== false),
        daemonEndpoints: { kubeletEndpoint: { Port: this.port } },
        nodeInfo: {
          architecture: 'amd64',
          bootID: '',
          containerRuntimeVersion: 'containerd://1.7.0',
          kernelVersion: '6.1.0',
          kubeProxyVersion: '',
          kubeletVersion: o.kubeletVersion ?? 'v1.36.3',
          machineID: '',
          operatingSystem: 'linux',
          osImage: 'netdoctor scripted kubelet',
          systemUUID: '',
        },
      },
    };
    return this.adoptNode(node as Obj);
  }

  /**
   * Creates (or replaces) a Node given verbatim — e.g. from a dump — pointing its kubelet
   * endpoint at this kubelet. The dumped addresses are kept; an `InternalDNS: 127.0.0.1`
   * address is added (the apiserver prefers InternalDNS) unless an address is already 127.0.0.1.
   */
  async adoptNode(node: Obj): Promise<Obj> {
    const n = structuredClone(node) as Obj & { status?: k8s.V1NodeStatus };
    const name = n.metadata!.name!;
    n.status = n.status ?? {};
    n.status.daemonEndpoints = { kubeletEndpoint: { Port: this.port } };
    const addrs = n.status.addresses ?? [];
    if (!addrs.some((a) => a.address === '127.0.0.1')) addrs.unshift({ type: 'InternalDNS', address: '127.0.0.1' });
    n.status.addresses = addrs;
    this.nodes.add(name);
    try {
      return await this.rest.create(n);
    } catch (e) {
      if (!(e instanceof RestError && e.reason === 'AlreadyExists')) throw e;
      const live = await this.rest.get<Obj>(n);
      const merged = { ...n, metadata: { ...n.metadata, resourceVersion: live.metadata!.resourceVersion } };
      await this.rest.replace(merged);
      return this.rest.replace(merged, 'status');
    }
  }

  async setNodeReady(name: string, ready: boolean): Promise<void> {
    const node = await this.rest.get<Obj & { status: k8s.V1NodeStatus }>({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    const conds = (node.status.conditions ?? []).filter((c) => c.type !== 'Ready');
    conds.push(nodeConditions(ready).find((c) => c.type === 'Ready')!);
    await this.rest.mergePatch({ apiVersion: 'v1', kind: 'Node', metadata: { name } }, { status: { conditions: conds } }, 'status');
  }

  // ---------------------------------------------------------------- pod statuses

  /** Writes `status` verbatim through pods/status (GET + PUT, retried on conflicts). */
  async setPodStatus(namespace: string, name: string, status: k8s.V1PodStatus | ((pod: Pod) => k8s.V1PodStatus)): Promise<Pod> {
    const ref: Obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } };
    for (let attempt = 0; ; attempt++) {
      const pod = await this.rest.get<Pod & Obj>(ref);
      const next = typeof status === 'function' ? status(pod) : structuredClone(status);
      // qosClass is computed by the apiserver at create time and may not change.
      if (pod.status?.qosClass) next.qosClass = pod.status.qosClass;
      pod.status = next;
      try {
        return await this.rest.replace(pod, 'status');
      } catch (e) {
        if (e instanceof RestError && e.status === 409 && attempt < 5) continue;
        throw e;
      }
    }
  }

  /** All containers running; ready unless `ready: false`. */
  markRunning(namespace: string, name: string, o: { ready?: boolean; podIP?: string; restartCount?: number; startedAt?: string } = {}): Promise<Pod> {
    return this.setPodStatus(namespace, name, (pod) => {
      const ready = o.ready !== false;
      const started = o.startedAt ?? now();
      const podIP = o.podIP ?? pod.status?.podIP ?? fakePodIP(pod);
      return {
        ...baseStatus(pod, 'Running', podIP),
        conditions: podConditions(pod, { scheduled: true, initialized: true, ready }),
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          containerID: `containerd://${fakeId(pod, c.name, o.restartCount ?? 0)}`,
          ready,
          started: true,
          restartCount: o.restartCount ?? 0,
          state: { running: { startedAt: started as unknown as Date } },
        })),
      };
    });
  }

  /** Pod bound but containers not created yet (e.g. CNI failure): waiting ContainerCreating. */
  markContainerCreating(namespace: string, name: string): Promise<Pod> {
    return this.setPodStatus(namespace, name, (pod) => ({
      ...baseStatus(pod, 'Pending', undefined),
      conditions: podConditions(pod, { scheduled: true, initialized: true, ready: false }),
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
    }));
  }

  /** One container in CrashLoopBackOff (the others running), with restartCount and lastState.terminated. */
  markCrashLoopBackOff(
    namespace: string,
    name: string,
    container: string,
    o: { restartCount?: number; exitCode?: number; reason?: string; podIP?: string; backOff?: string } = {},
  ): Promise<Pod> {
    return this.setPodStatus(namespace, name, (pod) => {
      const restarts = o.restartCount ?? 5;
      const podIP = o.podIP ?? pod.status?.podIP ?? fakePodIP(pod);
      const t1 = now();
      const statuses: ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => {
        if (c.name !== container) {
          return {
            name: c.name, image: c.image ?? '', imageID: '', containerID: `containerd://${fakeId(pod, c.name, 0)}`,
            ready: true, started: true, restartCount: 0, state: { running: { startedAt: t1 as unknown as Date } },
          };
        }
        return {
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          containerID: `containerd://${fakeId(pod, c.name, restarts)}`,
          ready: false,
          started: false,
          restartCount: restarts,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${o.backOff ?? '5m0s'} restarting failed container=${c.name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${pod.metadata!.uid})`,
            },
          },
          lastState: {
            terminated: {
              exitCode: o.exitCode ?? 1,
              reason: o.reason ?? 'Error',
              startedAt: t1 as unknown as Date,
              finishedAt: t1 as unknown as Date,
              containerID: `containerd://${fakeId(pod, c.name, restarts)}`,
            },
          },
        };
      });
      return {
        ...baseStatus(pod, 'Running', podIP),
        conditions: podConditions(pod, { scheduled: true, initialized: true, ready: false, notReady: [container] }),
        containerStatuses: statuses,
      };
    });
  }

  /** Pending, PodScheduled=False reason Unschedulable (as the scheduler writes it). */
  markUnschedulable(namespace: string, name: string, message = '0/1 nodes are available: 1 node(s) had untolerated taint.'): Promise<Pod> {
    return this.setPodStatus(namespace, name, () => ({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now() as unknown as Date }],
    }));
  }

  // ---------------------------------------------------------------- events

  /** Creates a core/v1 Event about `involved` (a live object: its uid is used). */
  async createEvent(
    involved: Obj & { metadata?: { uid?: string; namespace?: string; name?: string } },
    e: { type?: 'Normal' | 'Warning'; reason: string; message: string; count?: number; host?: string; component?: string; name?: string },
  ): Promise<k8s.CoreV1Event> {
    const ns = involved.metadata?.namespace ?? 'default';
    const t = now();
    const body: k8s.CoreV1Event & Obj = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: e.name ?? `${involved.metadata!.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`, namespace: ns },
      involvedObject: {
        apiVersion: involved.apiVersion ?? 'v1',
        kind: involved.kind ?? 'Pod',
        namespace: ns,
        name: involved.metadata!.name!,
        uid: involved.metadata?.uid,
      },
      type: e.type ?? 'Warning',
      reason: e.reason,
      message: e.message,
      source: { component: e.component ?? 'kubelet', host: e.host },
      reportingComponent: e.component ?? 'kubelet',
      reportingInstance: e.host ?? '',
      firstTimestamp: t as unknown as Date,
      lastTimestamp: t as unknown as Date,
      count: e.count ?? 1,
    };
    return this.rest.create(body);
  }

  // ---------------------------------------------------------------- logs

  /** Registers container logs served at /containerLogs/{ns}/{pod}/{container}. */
  setLogs(namespace: string, pod: string, container: string, logs: ContainerLogs): void {
    this.logs.set(`${namespace}/${pod}/${container}`, { ...logs });
  }

  clearLogs(namespace?: string): void {
    for (const k of [...this.logs.keys()]) if (!namespace || k.startsWith(`${namespace}/`)) this.logs.delete(k);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'https://kubelet');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(u.pathname);
    const text = (code: number, body: string) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (req.method !== 'GET') { text(405, 'method not allowed'); return; }
    if (u.pathname === '/healthz') { text(200, 'ok'); return; }
    if (!m) { text(404, '404 page not found'); return; }
    const [ns, podName, container] = [m[1]!, m[2]!, m[3]!].map(decodeURIComponent) as [string, string, string];
    const q = u.searchParams;
    const previous = q.get('previous') === 'true';

    let pod: Pod;
    try {
      pod = await this.rest.get<Pod & Obj>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: ns } });
    } catch (e) {
      if (e instanceof RestError && e.status === 404) { text(404, `pod "${podName}" does not exist`); return; }
      throw e;
    }
    const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
    if (!all.some((c) => c.name === container)) { text(404, `container "${container}" not found in pod "${podName}"`); return; }

    // Same decision table as the kubelet's validateContainerLogStatus (pkg/kubelet/kubelet_pods.go, v1.36).
    const err = logStatusError(pod, podName, container, previous);
    if (err) { text(400, err); return; }

    const entry = this.logs.get(`${ns}/${podName}/${container}`) ?? {};
    let body = (previous ? entry.previous : entry.current ?? entry.previous) ?? '';
    if (q.get('timestamps') === 'true') {
      const ts = startedAt(pod, container, previous) ?? now();
      body = splitLines(body).map((l) => `${ts.replace('Z', '.000000000Z')} ${l}`).join('');
    }
    const tailLines = q.get('tailLines');
    if (tailLines !== null && Number(tailLines) >= 0) {
      const lines = splitLines(body);
      body = Number(tailLines) === 0 ? '' : lines.slice(-Number(tailLines)).join('');
    }
    const limitBytes = q.get('limitBytes');
    if (limitBytes !== null && Number(limitBytes) > 0) {
      body = Buffer.from(body, 'utf8').subarray(0, Number(limitBytes)).toString('utf8');
    }
    text(200, body);
  }

  // ---------------------------------------------------------------- deletions

  private startDeletionLoop(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        if (this.nodes.size > 0) {
          const list = await this.rest.request<{ items: (Pod & Obj)[] }>('GET', '/api/v1/pods');
          for (const p of list.items) {
            if (p.metadata?.deletionTimestamp && p.spec?.nodeName && this.nodes.has(p.spec.nodeName)) {
              await this.rest.delete(p, { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } }).catch(() => {});
            }
          }
        }
      } catch {
        /* apiserver going away during teardown */
      }
      if (!this.stopped) this.deletionTimer = setTimeout(() => void tick(), 500).unref();
    };
    this.deletionTimer = setTimeout(() => void tick(), 500).unref();
  }

  /** Node names whose pods this kubelet finalizes deletion for. */
  get nodeNames(): string[] {
    return [...this.nodes];
  }
}

function splitLines(s: string): string[] {
  return s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function findStatus(pod: Pod, container: string): ContainerStatus | undefined {
  const st = pod.status;
  return [...(st?.containerStatuses ?? []), ...(st?.initContainerStatuses ?? []), ...(st?.ephemeralContainerStatuses ?? [])].find(
    (c) => c.name === container,
  );
}

function startedAt(pod: Pod, container: string, previous: boolean): string | undefined {
  const cs = findStatus(pod, container);
  const t = previous ? cs?.lastState?.terminated?.startedAt : cs?.state?.running?.startedAt ?? cs?.lastState?.terminated?.startedAt;
  return t ? new Date(t).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
}

/** The kubelet's error text for a log request, or undefined when logs can be served. */
export function logStatusError(pod: Pod, podName: string, container: string, previous: boolean): string | undefined {
  const cs = findStatus(pod, container);
  if (!cs) return `container "${container}" in pod "${podName}" is not available`;
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  if (previous) {
    return last?.containerID ? undefined : `previous terminated container "${container}" in pod "${podName}" not found`;
  }
  if (running) return undefined;
  if (terminated) {
    if (terminated.containerID || last?.containerID) return undefined;
    return `container "${container}" in pod "${podName}" is terminated`;
  }
  if (last) return last.containerID ? undefined : `container "${container}" in pod "${podName}" is terminated`;
  if (waiting) {
    if (waiting.reason === 'ErrImagePull') return `container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`;
    if (waiting.reason === 'ImagePullBackOff') {
      return `container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`;
    }
    return `container "${container}" in pod "${podName}" is waiting to start: ${waiting.reason ?? ''}`;
  }
  return `container "${container}" in pod "${podName}" is waiting to start - no logs yet`;
}

function nodeConditions(ready: boolean): k8s.V1NodeCondition[] {
  const t = now() as unknown as Date;
  const c = (type: string, status: string, reason: string, message: string): k8s.V1NodeCondition => ({
    type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: t,
  });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    ready
      ? c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
      : c('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized'),
  ];
}

function podConditions(pod: Pod, o: { scheduled: boolean; initialized: boolean; ready: boolean; notReady?: string[] }): k8s.V1PodCondition[] {
  const t = now() as unknown as Date;
  const notReady = o.notReady ?? (pod.spec?.containers ?? []).map((c) => c.name);
  const cond = (type: string, ok: boolean, reason?: string, message?: string): k8s.V1PodCondition => ({
    type, status: ok ? 'True' : 'False', lastTransitionTime: t, ...(reason ? { reason } : {}), ...(message ? { message } : {}),
  });
  return [
    cond('PodReadyToStartContainers', o.ready || o.initialized),
    cond('Initialized', o.initialized),
    cond('Ready', o.ready, o.ready ? undefined : 'ContainersNotReady', o.ready ? undefined : `containers with unready status: [${notReady.join(' ')}]`),
    cond('ContainersReady', o.ready, o.ready ? undefined : 'ContainersNotReady', o.ready ? undefined : `containers with unready status: [${notReady.join(' ')}]`),
    cond('PodScheduled', o.scheduled),
  ];
}

function baseStatus(pod: Pod, phase: string, podIP: string | undefined): k8s.V1PodStatus {
  const hostIP = '127.0.0.1';
  return {
    phase,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: (pod.status?.startTime ?? now()) as unknown as Date,
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Deterministic pod IP in 10.244.0.0/16 from namespace/name (hostNetwork pods get the node IP). */
export function fakePodIP(pod: Pod): string {
  if (pod.spec?.hostNetwork) return '127.0.0.1';
  const h = hash(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  return `10.244.${(h >>> 8) & 0xff}.${(h & 0xfd) + 2}`;
}

function fakeId(pod: Pod, container: string, n: number): string {
  return (hash(`${pod.metadata?.uid}/${container}/${n}`).toString(16).padStart(8, '0') + '0'.repeat(56)).slice(0, 64);
}
