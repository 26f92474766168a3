// What a fault of the library is, and the kubectl-equivalent calls the faults are made of.
// Each fault lives in its own module (one file per fault, listed in order in ./index.ts); the node
// project's test/node/faults.test.ts breaks, diagnoses, fixes and restores them on the real node.
import * as http from 'node:http';
import * as path from 'node:path';
import type { KubeApi } from '../../src/cluster/kube-api';
import type { RawObject } from '../../src/domain/kube-types';
import type { RootCauseExpectation } from '../support/scenarios';

/** The real node as the faults see it: the admin API and the node's private directories. */
export interface FaultCluster {
  api: KubeApi;
  /** http://127.0.0.1:30081/ — web-service's NodePort. */
  appUrl: string;
  /** The node's work dir (test/cluster/node.ts): `cni/net.d`, `flannel`, `manifests`. */
  workDir: string;
}

export interface Fault {
  /** Directory name under test/scenarios/real/. */
  name: string;
  /** How an operator got here, for the scenario's expect.yaml and the README table. */
  description: string;
  /** Breaks the healthy cluster the way an operator would (API calls as kubectl makes them, node-side file edits). */
  break(c: FaultCluster): Promise<void>;
  /** The longest `break` may wait for the cluster (the sum of its own bounded waits); 0 when it only acts. */
  breakBoundMs: number;
  /**
   * Polled after break: resolves once the symptom is visible, otherwise throws an Error naming each
   * part still missing with what the cluster shows instead (the bounded wait's last error says why it gave up).
   */
  ready(c: FaultCluster): Promise<void>;
  expected: {
    /** The first root cause of `netdoctor diagnose triton`. */
    rootCause: RootCauseExpectation;
    /** Whether that finding must carry a plan (then it is approved in Slack and traffic must flow again). */
    plan: boolean;
  };
  /**
   * After the rollback of the fault's plan: the steps of its break beyond the objects the plan changed
   * that the symptom needs to show again (a rollout under a dead kube-proxy, the node's reboot); then
   * ready() must hold again. Absent when the rollback alone brings the fault back.
   */
  reenact?: (c: FaultCluster) => Promise<void>;
  /** Undoes what the healthy manifests cannot (extra objects, node files); the manifests are re-applied after it. */
  restore?: (c: FaultCluster) => Promise<void>;
}

export const cniConfDir = (c: FaultCluster): string => path.join(c.workDir, 'cni', 'net.d');
export const flannelRunDir = (c: FaultCluster): string => path.join(c.workDir, 'flannel');

// --- kubectl equivalents -------------------------------------------------------------------

export const deploymentPath = (ns: string, name: string): string => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
export const daemonSetPath = (ns: string, name: string): string => `/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`;
export const servicePath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/services/${name}`;
export const configMapPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/configmaps/${name}`;

/** `kubectl get` (undefined when absent). */
export async function get<T = RawObject>(c: FaultCluster, p: string): Promise<T | undefined> {
  const r = await c.api.request(p).catch((e: unknown) => {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  });
  return r ? (JSON.parse(r.body) as T) : undefined;
}

/** `kubectl patch --type=json` (what `kubectl edit` amounts to for one field). */
export async function jsonPatch(c: FaultCluster, p: string, ops: unknown[]): Promise<void> {
  await c.api.request(p, { method: 'PATCH', body: ops, contentType: 'application/json-patch+json' });
}

/** `kubectl patch --type=merge`. */
export async function mergePatch(c: FaultCluster, p: string, patch: unknown): Promise<void> {
  await c.api.request(p, { method: 'PATCH', body: patch, contentType: 'application/merge-patch+json' });
}

/** `kubectl delete` (absent is fine). */
export async function remove(c: FaultCluster, p: string): Promise<void> {
  await c.api.request(p, { method: 'DELETE' }).catch((e: unknown) => {
    if ((e as { status?: number }).status !== 404) throw e;
  });
}

/** `kubectl create -f`. */
export async function create(c: FaultCluster, collection: string, body: RawObject): Promise<void> {
  await c.api.request(collection, { method: 'POST', body });
}

/** `kubectl apply` of a new NetworkPolicy in triton. */
export async function createNetworkPolicy(c: FaultCluster, name: string, spec: Record<string, unknown>): Promise<void> {
  await create(c, '/apis/networking.k8s.io/v1/namespaces/triton/networkpolicies', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'triton' }, spec });
}

/** The policy is in place and webapp still reaches mysql through DNS: flannel enforces no NetworkPolicy. */
export async function policyInPlaceTrafficFlows(c: FaultCluster, name: string): Promise<void> {
  const policy = await get(c, `/apis/networking.k8s.io/v1/namespaces/triton/networkpolicies/${name}`);
  const page = await appPage(c);
  symptom([
    [policy !== undefined, `NetworkPolicy triton/${name} not found`],
    [page.includes(APP_OK), `the page does not say ${APP_OK}: ${excerpt(page)}`],
  ]);
}

/** `kubectl rollout restart deployment`: a new ReplicaSet, so new pods (as any deploy causes). */
export async function rolloutRestart(c: FaultCluster, ns: string, name: string): Promise<void> {
  await mergePatch(c, deploymentPath(ns, name), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
}

/** `kubectl delete pod -l …`: their controller replaces them. */
export async function deletePods(c: FaultCluster, ns: string, selector: string): Promise<void> {
  await c.api.request(`/api/v1/namespaces/${ns}/pods`, { method: 'DELETE', query: { labelSelector: selector } });
}

interface ContainerState {
  waiting?: { reason?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number };
}

export interface PodLike {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state?: ContainerState; lastState?: ContainerState }[];
  };
}

/** `kubectl get pods -l …`; terminating pods left out unless asked for. */
export async function pods(c: FaultCluster, ns: string, selector: string, o: { terminating?: boolean } = {}): Promise<PodLike[]> {
  const list = (await c.api.json<{ items: PodLike[] }>(`/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector } })).items;
  return o.terminating ? list : list.filter((p) => !p.metadata.deletionTimestamp);
}

export const waitingReason = (p: PodLike): string | undefined => p.status.containerStatuses?.find((s) => s.state?.waiting)?.state?.waiting?.reason;
export const podReady = (p: PodLike): boolean => p.status.conditions?.some((k) => k.type === 'Ready' && k.status === 'True') ?? false;

/**
 * A container that exited with an error and was restarted, and is not serving. Its waiting reason
 * alone is no test: between back-offs the kubelet shows it running or terminated (Error) for a moment.
 */
export const crashLooping = (p: PodLike): boolean =>
  p.status.containerStatuses?.some((s) => !s.ready && s.restartCount > 0 && (s.lastState?.terminated?.exitCode ?? 0) !== 0) ?? false;

/** One pod as `kubectl get pods` would show it: `kube-proxy-x7k2p: CrashLoopBackOff, 3 restarts, last exit 1, not Ready`. */
export function podLine(p: PodLike): string {
  const s = p.status.containerStatuses?.[0];
  const state = s?.state?.waiting?.reason ?? (s?.state?.terminated ? `Terminated (${s.state.terminated.reason ?? s.state.terminated.exitCode})` : s?.state?.running ? 'Running' : p.status.phase ?? 'Unknown');
  const last = s?.lastState?.terminated ? `, last exit ${s.lastState.terminated.exitCode ?? '?'}` : '';
  return `${p.metadata.name}: ${state}, ${s?.restartCount ?? 0} restarts${last}, ${podReady(p) ? 'Ready' : 'not Ready'}${p.metadata.deletionTimestamp ? ', terminating' : ''}`;
}

export const podLines = (list: PodLike[]): string => list.map(podLine).join('; ') || 'no pod';

/**
 * ready()'s verdict from its parts, each `[holds, what the cluster shows instead]`: throws the
 * missing parts (what a bounded wait reports when it gives up), returns when all hold.
 */
export function symptom(parts: [holds: boolean, otherwise: string][]): void {
  const missing = parts.filter(([holds]) => !holds).map(([, otherwise]) => otherwise);
  if (missing.length) throw new Error(missing.join('; '));
}

export interface Events {
  items: { reason?: string; message?: string; involvedObject: { kind?: string; name?: string; namespace?: string } }[];
}

/** Events of one namespace with a reason (`kubectl get events --field-selector reason=…`). */
export async function events(c: FaultCluster, ns: string, reason: string): Promise<Events['items']> {
  return (await c.api.json<Events>(`/api/v1/namespaces/${ns}/events`, { query: { fieldSelector: `reason=${reason}` } })).items;
}

/** Every CoreDNS pod crash-looping (the old ones gone: one still serving answers lookups) and webapp's lookup of mysql failing. */
export async function coreDnsCrashLoopingLookupsFail(c: FaultCluster): Promise<void> {
  const dns = await pods(c, 'kube-system', 'k8s-app=kube-dns', { terminating: true });
  symptom([[dns.length > 0 && dns.every(crashLooping), `CoreDNS not crash-looping: ${podLines(dns)}`]]);
  await pageSays(c, /lookup mysql/);
}

/** `curl` of web-service's NodePort: the page, or the error (a short timeout: a broken path hangs). */
export function appPage(c: FaultCluster, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(c.appUrl, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => resolve(body));
      res.on('error', (e) => resolve(`error: ${e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

export const APP_OK = 'Successfully connected to the MySQL database.';
/** The page's text for an error message (markup dropped, cut short). */
export const excerpt = (page: string): string => page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
/**
 * The page matches `symptom`, or an Error quoting it. Read for 8 s: a failed lookup shows only after
 * webapp's own 5 s deadline.
 */
export async function pageSays(c: FaultCluster, symptomText: RegExp): Promise<void> {
  const page = await appPage(c, 8000);
  symptom([[symptomText.test(page), `the page does not match ${symptomText}: ${excerpt(page)}`]]);
}

/** webapp resolves DB_Host through cluster DNS on every GET: its page is a DNS lookup from a pod. */
export const appWorks = async (c: FaultCluster): Promise<boolean> => (await appPage(c)).includes(APP_OK);
