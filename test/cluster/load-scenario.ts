// Loads an offline dump directory (format: /work/shared/design.md "Offline dumps") into the
// running test cluster, so the live ClusterView sees what the dump describes.
//
// What happens to the dump's objects:
//  - Namespaces first (existing ones, e.g. kube-system, only get the dump's labels/annotations
//    merged in), then Nodes — adopted by the scripted kubelet (kubeletEndpoint port rewritten to
//    the kubelet's HTTPS server, an `InternalDNS: 127.0.0.1` address added; the dumped
//    addresses, conditions and nodeInfo are kept), then cluster-scoped objects, config
//    (ConfigMaps, Secrets, ServiceAccounts, RBAC), Services, workloads (Deployment →
//    ReplicaSet → DaemonSet/StatefulSet/Job), Pods, everything else, Events last.
//  - Server-generated metadata is stripped (uid, resourceVersion, creationTimestamp,
//    generation, managedFields, selfLink, deletion*); ownerReferences and Event
//    involvedObject uids are remapped to the new uids (owners not in the dump are dropped,
//    else the garbage collector would delete the dependants).
//  - Service clusterIP/clusterIPs and nodePorts are kept when the apiserver accepts them
//    (the test cluster's service range is 10.96.0.0/12, kubeadm's default, so kubeadm dumps
//    keep their IPs — e.g. kube-dns 10.96.0.10); otherwise they are dropped and reallocated.
//    The apiserver-managed Service default/kubernetes is never touched.
//  - Endpoints and EndpointSlices from the dump are NOT loaded: the real endpoints /
//    endpointslice controllers derive them from the Services and the pods' written statuses.
//    Those of a selector-less Service are loaded (hand-written: nothing derives them), except
//    the mirroring controller's slices, which it writes again from the loaded Endpoints.
//  - Statuses are written through the status subresource (pods via the scripted kubelet),
//    because create ignores status for most kinds. ReplicaSet/Deployment/DaemonSet/
//    StatefulSet/Job/CronJob controllers are disabled in the test control plane
//    (control-plane.ts DEFAULT_CONTROLLERS), so the workloads keep the dump's status and
//    nothing recreates the dump's pods under new names.
//  - Pods keep spec.nodeName. A pod with no nodeName (Pending in the dump) gets
//    spec.schedulerName = "netdoctor-test-frozen" (unless freezeUnscheduledPods: false) so
//    the real scheduler does not bind it and its dumped Unschedulable status stays true.
//  - Logs under logs/<ns>/<pod>/<container>[.previous].log (or cluster-info-dump
//    <ns>/<pod>/logs.txt, or the older <ns>/<pod>/<container>/logs.txt) are registered with the scripted kubelet.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDumpFiles, readDumpLogs } from '../../src/cluster/dump-reader';
import { DEFAULT_DUMP_LIMITS } from '../../src/cluster/dump-files';
import type { LogKey } from '../../src/domain/cluster-view';
import type { ScriptedKubelet } from './kubelet';
import { RestError, type Obj, type Rest } from './rest';

export interface LoadOptions {
  kubelet: ScriptedKubelet;
  /** Keep pods without spec.nodeName away from the real scheduler (default true). */
  freezeUnscheduledPods?: boolean;
  /** Kinds never loaded (default Endpoints, EndpointSlice). */
  skipKinds?: string[];
  log?: (line: string) => void;
  /**
   * Scenario dumps share cluster-scoped names (nodes) and system namespaces (kube-system), so
   * loads into one cluster are serialised across processes (jest workers) by a lock file keyed
   * by the apiserver URL, held from load until unload() (re-entrant within one process).
   * Default true; pass false when the caller serialises itself.
   */
  lock?: boolean;
  /** How long to wait for another process's scenario to be unloaded (default 300 s). */
  lockTimeoutMs?: number;
}

export interface LoadedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
  /** true when the object existed before and was replaced/merged rather than created. */
  preexisting: boolean;
}

export interface LoadedScenario {
  dir: string;
  objects: LoadedObject[];
  /** Namespaces created by the load (not ones that already existed). */
  namespaces: string[];
  nodes: string[];
  /** Map dump uid → live uid. */
  uids: Map<string, string>;
  /** Deletes what the load created (pods force-deleted, namespaces removed, nodes deleted) and waits for namespaces to go. */
  unload(): Promise<void>;
}

type Raw = Obj & {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
    [k: string]: unknown;
  };
  status?: Record<string, unknown>;
  spec?: Record<string, unknown>;
};

/** Reads a dump directory: its objects (Lists flattened) and its container logs (netdoctor's own reader). */
export function readDump(dir: string): { objects: Raw[]; logs: (LogKey & { text: string })[] } {
  const { objects, logs } = readDumpFiles(dir);
  return { objects: (objects as Raw[]).filter((o) => o.kind && o.apiVersion && o.metadata?.name), logs: readDumpLogs(logs, DEFAULT_DUMP_LIMITS, () => true) };
}

const RANK: Record<string, number> = {
  Namespace: 0,
  Node: 1,
  CustomResourceDefinition: 2,
  PriorityClass: 2,
  StorageClass: 2,
  ClusterRole: 3,
  ClusterRoleBinding: 3,
  ConfigMap: 4,
  Secret: 4,
  ServiceAccount: 4,
  Role: 4,
  RoleBinding: 4,
  LimitRange: 4,
  ResourceQuota: 4,
  PersistentVolume: 4,
  PersistentVolumeClaim: 5,
  Service: 6,
  Deployment: 7,
  ReplicaSet: 8,
  DaemonSet: 8,
  StatefulSet: 8,
  ControllerRevision: 9,
  CronJob: 8,
  Job: 9,
  ReplicationController: 8,
  Pod: 10,
  Event: 99,
};
const rank = (o: Raw) => RANK[o.kind!] ?? 20;

const FROZEN_SCHEDULER = 'netdoctor-test-frozen';

function isServiceAllocationError(e: unknown): boolean {
  return e instanceof RestError && (e.status === 422 || e.status === 409 || e.status === 400) &&
    /clusterIP|clusterIPs|nodePort|healthCheckNodePort|allocated|range/i.test(e.body);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function loadScenario(dir: string, opts: LoadOptions): Promise<LoadedScenario> {
  const t0 = Date.now();
  const { kubelet } = opts;
  const rest: Rest = kubelet.rest;
  const skip = new Set(opts.skipKinds ?? ['Endpoints', 'EndpointSlice']);
  const { objects, logs } = readDump(dir);
  const uids = new Map<string, string>();
  const loaded: LoadedObject[] = [];
  const createdNamespaces: string[] = [];
  const nodes: string[] = [];

  // Endpoints written by hand for a selector-less Service are the dump's own data: no controller derives them.
  const selectorless = new Set(
    objects.filter((o) => o.kind === 'Service' && Object.keys((o.spec as { selector?: object } | undefined)?.selector ?? {}).length === 0).map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
  );
  const handWritten = (o: Raw): boolean => {
    const labels = o.metadata.labels ?? {};
    if (o.kind === 'Endpoints') return selectorless.has(`${o.metadata.namespace}/${o.metadata.name}`);
    // The mirroring controller writes its own slices from the loaded Endpoints.
    if (o.kind === 'EndpointSlice') return selectorless.has(`${o.metadata.namespace}/${labels['kubernetes.io/service-name']}`) && labels['endpointslice.kubernetes.io/managed-by'] !== 'endpointslicemirroring-controller.k8s.io';
    return false;
  };
  const sorted = objects.filter((o) => !skip.has(o.kind!) || handWritten(o)).sort((a, b) => rank(a) - rank(b));

  const unloadObjects = async () => {
    // Pods first, force-deleted (no kubelet will confirm graceful deletion).
    const rev = [...loaded].reverse().filter((l) => !l.preexisting);
    for (const l of rev.filter((x) => x.kind === 'Pod')) {
      await rest.delete({ apiVersion: l.apiVersion, kind: l.kind, metadata: { name: l.name, namespace: l.namespace } }, { gracePeriodSeconds: 0 });
    }
    for (const l of rev.filter((x) => x.kind !== 'Pod' && x.kind !== 'Namespace' && x.kind !== 'Node')) {
      await rest.delete({ apiVersion: l.apiVersion, kind: l.kind, metadata: { name: l.name, ...(l.namespace ? { namespace: l.namespace } : {}) } },
        { propagationPolicy: 'Background' });
    }
    for (const n of createdNamespaces) await rest.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
    for (const n of nodes) await rest.delete({ apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
    for (const l of logs) kubelet.setLogs(l.namespace, l.pod, l.container, {});
    // Wait for the namespace controller to finish, so the next load can reuse the names.
    const deadline = Date.now() + 60_000;
    for (const n of createdNamespaces) {
      for (;;) {
        try {
          await rest.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
        } catch (e) {
          if (e instanceof RestError && e.status === 404) break;
          throw e;
        }
        if (Date.now() > deadline) throw new Error(`unload: namespace ${n} still terminating after 60 s`);
        await sleep(200);
      }
    }
  };

  const lockFile = opts.lock === false ? undefined : scenarioLockFile(kubelet);
  if (lockFile) await acquireLock(lockFile, opts.lockTimeoutMs ?? 300_000);
  let released = false;
  const release = () => {
    if (lockFile && !released) releaseLock(lockFile);
    released = true;
  };

  try {
    const clean = (o: Raw): Raw => {
      const c = structuredClone(o);
      const m = c.metadata;
      for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
        delete m[k];
      }
      if (m.ownerReferences) {
        m.ownerReferences = m.ownerReferences.filter((r) => uids.has(r.uid)).map((r) => ({ ...r, uid: uids.get(r.uid)! }));
        if (m.ownerReferences.length === 0) delete m.ownerReferences;
      }
      return c;
    };

    const record = (dumpObj: Raw, live: Obj, preexisting: boolean) => {
      const uid = (live.metadata as { uid: string }).uid;
      if (dumpObj.metadata.uid) uids.set(dumpObj.metadata.uid, uid);
      loaded.push({
        apiVersion: dumpObj.apiVersion!, kind: dumpObj.kind!, name: dumpObj.metadata.name,
        ...(live.metadata?.namespace ? { namespace: live.metadata.namespace } : {}), uid, preexisting,
      });
    };

    for (const o of sorted) {
      const kind = o.kind!;
      const name = o.metadata.name;
      const ns = o.metadata.namespace;

      if (kind === 'Namespace') {
        let live: Obj | undefined;
        try {
          live = await rest.get<Obj>(o);
        } catch (e) {
          if (!(e instanceof RestError && e.status === 404)) throw e;
        }
        // A namespace left Terminating by a previous unload: wait for it to go.
        for (let i = 0; live && (live.metadata as { deletionTimestamp?: string }).deletionTimestamp && i < 600; i++) {
          await sleep(100);
          live = await rest.get<Obj>(o).catch(() => undefined);
        }
        if (live) {
          live = await rest.mergePatch(o, { metadata: { labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {} } });
          record(o, live, true);
        } else {
          const body = clean(o);
          delete body.status;
          live = await rest.create(body);
          createdNamespaces.push(name);
          record(o, live, false);
        }
        continue;
      }

      if (kind === 'Node') {
        const body = clean(o);
        const live = await kubelet.adoptNode(body);
        nodes.push(name);
        record(o, live, false);
        continue;
      }

      if (kind === 'Service' && ns === 'default' && name === 'kubernetes') continue; // apiserver-managed

      if (kind === 'Event') {
        const body = clean(o);
        const inv = (body as { involvedObject?: { uid?: string } }).involvedObject;
        if (inv?.uid) {
          if (uids.has(inv.uid)) inv.uid = uids.get(inv.uid);
          else delete inv.uid;
        }
        const regarding = (body as { regarding?: { uid?: string } }).regarding; // events.k8s.io/v1
        if (regarding?.uid) {
          if (uids.has(regarding.uid)) regarding.uid = uids.get(regarding.uid);
          else delete regarding.uid;
        }
        try {
          record(o, await rest.create(body), false);
        } catch (e) {
          if (!(e instanceof RestError && e.reason === 'AlreadyExists')) throw e;
          const live = await rest.get<Obj>(body);
          record(o, await rest.replace({ ...body, metadata: { ...body.metadata, resourceVersion: live.metadata!.resourceVersion } }), true);
        }
        continue;
      }

      const body = clean(o);
      const status = body.status;
      delete body.status;
      if (kind === 'Pod' && body.spec && !body.spec.nodeName && opts.freezeUnscheduledPods !== false) {
        body.spec.schedulerName = FROZEN_SCHEDULER;
      }

      let live: Obj;
      let preexisting = false;
      try {
        live = await rest.create(body);
      } catch (e) {
        if (kind === 'Service' && isServiceAllocationError(e)) {
          const spec = body.spec as { clusterIP?: string; clusterIPs?: string[]; ports?: { nodePort?: number }[]; healthCheckNodePort?: number };
          opts.log?.(`[load-scenario] Service ${ns}/${name}: dropping dumped clusterIP/nodePorts (${(e as RestError).body.slice(0, 160)})`);
          if (spec.clusterIP !== 'None') {
            delete spec.clusterIP;
            delete spec.clusterIPs;
          }
          for (const p of spec.ports ?? []) delete p.nodePort;
          delete spec.healthCheckNodePort;
          live = await rest.create(body);
        } else if (e instanceof RestError && e.reason === 'AlreadyExists') {
          preexisting = true;
          live = await replaceUnlessManaged(rest, body, kind, name);
        } else {
          throw e;
        }
      }
      record(o, live, preexisting);

      // Write statuses as soon as the object exists (pods: via the scripted kubelet).
      if (status && Object.keys(status).length > 0) {
        if (kind === 'Pod') {
          await kubelet.setPodStatus(ns ?? 'default', name, status);
        } else {
          await writeStatus(rest, o, status);
        }
      }
    }

    const registered = new Map<string, { current?: string; previous?: string }>();
    for (const l of logs) {
      const key = { namespace: l.namespace, pod: l.pod, container: l.container };
      const existing = registered.get(`${key.namespace}/${key.pod}/${key.container}`) ?? {};
      if (l.previous) existing.previous = l.text;
      else existing.current = l.text;
      registered.set(`${key.namespace}/${key.pod}/${key.container}`, existing);
    }
    for (const [k, v] of registered) {
      const [namespace, pod, container] = k.split('/') as [string, string, string];
      kubelet.setLogs(namespace, pod, container, v);
    }

    opts.log?.(`[load-scenario] ${path.basename(dir)}: ${loaded.length} objects, ${logs.length} logs in ${Date.now() - t0} ms`);

  } catch (e) {
    // Leave the cluster as it was: remove what was created so far, then give the lock back.
    await unloadObjects().catch(() => undefined);
    release();
    throw e;
  }
  const unload = async () => {
    try {
      await unloadObjects();
    } finally {
      release();
    }
  };
  return { dir, objects: loaded, namespaces: createdNamespaces, nodes, uids, unload };
}

/** ConfigMaps the control plane writes itself (the apiserver keeps extension-apiserver-authentication up to date). */
const CONTROL_PLANE_CONFIGMAPS = ['kube-root-ca.crt', 'extension-apiserver-authentication', 'kube-apiserver-legacy-service-account-token-tracking'];

/**
 * Replaces an object that already exists with the dump's, except what the control plane keeps up to
 * date itself (kept as it is). A write between our read and our PUT (a controller's) is retried.
 */
async function replaceUnlessManaged(rest: Rest, body: Obj, kind: string, name: string): Promise<Obj> {
  for (let attempt = 1; ; attempt++) {
    const existing = await rest.get<Obj & { metadata: { annotations?: Record<string, string> } }>(body);
    const managed =
      (kind === 'ConfigMap' && CONTROL_PLANE_CONFIGMAPS.includes(name)) ||
      (kind === 'ServiceAccount' && name === 'default') ||
      existing.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] === 'true';
    if (managed) return existing;
    try {
      return await rest.replace({ ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } });
    } catch (e) {
      if (!(e instanceof RestError && e.status === 409 && attempt < 5)) throw e;
    }
  }
}

/** PUT <object>/status with the live object and the dump's status (no-op when the kind has no status subresource). */
async function writeStatus(rest: Rest, o: Raw, status: Record<string, unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const live = await rest.get<Raw>(o);
    try {
      await rest.replace({ ...live, status }, 'status');
      return;
    } catch (e) {
      if (e instanceof RestError && e.status === 404) return; // no status subresource (e.g. ConfigMap)
      if (e instanceof RestError && e.status === 409 && attempt < 5) continue;
      throw e;
    }
  }
}

// ------------------------------------------------------------------ cross-process scenario lock

const heldLocks = new Map<string, number>();

function scenarioLockFile(kubelet: ScriptedKubelet): string {
  const server = kubelet.kc.getCurrentCluster()?.server ?? 'unknown';
  return path.join(os.tmpdir(), `netdoctor-scenario-${createHash('sha1').update(server).digest('hex').slice(0, 12)}.lock`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(file: string, timeoutMs: number): Promise<void> {
  const n = heldLocks.get(file);
  if (n !== undefined) {
    heldLocks.set(file, n + 1);
    return;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      heldLocks.set(file, 1);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: number;
    try {
      holder = Number(fs.readFileSync(file, 'utf8'));
    } catch {
      continue; // released meanwhile
    }
    if (holder && !pidAlive(holder)) {
      // stale: the holder died without unloading
      try {
        if (Number(fs.readFileSync(file, 'utf8')) === holder) fs.unlinkSync(file);
      } catch {
        /* someone else cleaned up */
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`loadScenario: process ${holder} still holds ${file} after ${timeoutMs} ms — a scenario loaded there was never unload()ed`);
    }
    await sleep(100);
  }
}

function releaseLock(file: string): void {
  const n = heldLocks.get(file) ?? 0;
  if (n > 1) {
    heldLocks.set(file, n - 1);
    return;
  }
  heldLocks.delete(file);
  try {
    if (Number(fs.readFileSync(file, 'utf8')) === process.pid) fs.unlinkSync(file);
  } catch {
    /* gone */
  }
}
