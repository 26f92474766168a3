import type { V1PodSpec } from '@kubernetes/client-node';
import type { CheckContext } from '../../domain/check';
import type { ClusterView } from '../../domain/cluster-view';
import type { EndpointSlice, Pod, Service, Wire } from '../../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../../domain/object-ref';
import { selectorMatches } from './selectors';

export type PodSpec = Wire<V1PodSpec>;

/** Services other checks own: kube-dns belongs to the CoreDNS checks. */
const OWNED_ELSEWHERE = new Set(['kube-system/kube-dns']);

/** The Services a namespace-scoped check looks at: the target namespace, or every namespace when cluster-wide. */
export function servicesInScope(ctx: CheckContext): Service[] {
  return ctx.view
    .list('Service', ctx.namespace)
    .filter((s) => !OWNED_ELSEWHERE.has(`${s.metadata?.namespace}/${s.metadata?.name}`));
}

/** Services that route by selector (no manual endpoints, not ExternalName). */
export function hasSelector(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** Pods that may back a Service: not finished (the endpoints controller ignores Succeeded/Failed pods). */
export function isLive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/**
 * Per view, the live pods of a namespace by `key=value` label and the EndpointSlices by Service name.
 * Several checks ask for every Service's pods and slices; without these a namespace of a thousand
 * Services and three thousand pods costs millions of selector comparisons per run.
 */
interface ViewIndex {
  livePodsByLabel: Map<string, Map<string, Pod[]>>;
  slicesByService: Map<string, Map<string, EndpointSlice[]>>;
}
const viewIndexes = new WeakMap<ClusterView, ViewIndex>();

function indexOf(view: ClusterView): ViewIndex {
  let index = viewIndexes.get(view);
  if (!index) {
    index = { livePodsByLabel: new Map(), slicesByService: new Map() };
    viewIndexes.set(view, index);
  }
  return index;
}

const nsKey = (namespace: string | undefined): string => namespace ?? '';

/** Groups a namespace's objects under the keys each one gives, in the view's order. */
function groupBy<T>(items: readonly T[], keysOf: (item: T) => string[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    for (const key of keysOf(item)) {
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
  }
  return groups;
}

/** The live pods of a namespace that an equality selector picks, in the view's order. */
export function livePodsSelected(view: ClusterView, namespace: string | undefined, selector: Record<string, string> | undefined): Pod[] {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return [];
  const byNamespace = indexOf(view).livePodsByLabel;
  let byLabel = byNamespace.get(nsKey(namespace));
  if (!byLabel) {
    byLabel = groupBy(
      view.list('Pod', namespace).filter(isLive),
      (p) => Object.entries(p.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`),
    );
    byNamespace.set(nsKey(namespace), byLabel);
  }
  // The pods carrying the rarest of the selector's labels, then the whole selector on those.
  let narrowest: Pod[] | undefined;
  for (const [k, v] of entries) {
    const carrying = byLabel.get(`${k}=${v}`);
    if (!carrying) return [];
    if (!narrowest || carrying.length < narrowest.length) narrowest = carrying;
  }
  return narrowest!.filter((p) => selectorMatches(selector, p.metadata?.labels));
}

/** The live pods a Service's selector picks in its own namespace. */
export function selectedPods(view: ClusterView, svc: Service): Pod[] {
  if (!hasSelector(svc)) return [];
  return livePodsSelected(view, svc.metadata?.namespace, svc.spec?.selector);
}

/** A namespace's EndpointSlices labelled `kubernetes.io/service-name=<name>`. */
function slicesOf(view: ClusterView, namespace: string | undefined, name: string): EndpointSlice[] {
  const byNamespace = indexOf(view).slicesByService;
  let byService = byNamespace.get(nsKey(namespace));
  if (!byService) {
    byService = groupBy(view.list('EndpointSlice', namespace), (s) => {
      const service = s.metadata?.labels?.['kubernetes.io/service-name'];
      return service === undefined ? [] : [service];
    });
    byNamespace.set(nsKey(namespace), byService);
  }
  return byService.get(name) ?? [];
}

export interface ServiceEndpoint {
  ip: string;
  ready: boolean;
  terminating: boolean;
  pod?: ObjectRef;
  nodeName?: string;
}

export interface ServiceEndpoints {
  /** Where they were read from; `none` when the view holds neither slices nor an Endpoints object. */
  source: 'EndpointSlice' | 'Endpoints' | 'none';
  endpoints: ServiceEndpoint[];
  /** The kubectl a human runs to see them. */
  command: string;
}

/** A Service's endpoints: EndpointSlices by `kubernetes.io/service-name` (never by name), falling back to core Endpoints. */
export function serviceEndpoints(view: ClusterView, svc: Service): ServiceEndpoints {
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name ?? '';
  const slices = slicesOf(view, ns, name);
  if (slices.length > 0) {
    const endpoints = slices.flatMap((s) =>
      (s.endpoints ?? []).flatMap((e) =>
        e.addresses.map((ip) => {
          const ep: ServiceEndpoint = {
            ip,
            // The API: a nil `ready` is an unknown state that consumers interpret as ready.
            ready: e.conditions?.ready !== false,
            terminating: e.conditions?.terminating === true,
          };
          if (e.targetRef?.kind === 'Pod' && e.targetRef.name) ep.pod = { apiVersion: 'v1', kind: 'Pod', namespace: e.targetRef.namespace ?? ns, name: e.targetRef.name };
          if (e.nodeName) ep.nodeName = e.nodeName;
          return ep;
        }),
      ),
    );
    return { source: 'EndpointSlice', endpoints, command: kubectl.list('endpointslices', ns, ['-l', `kubernetes.io/service-name=${name}`, '-o', 'yaml']) };
  }
  const legacy = view.get('Endpoints', ns, name);
  if (legacy) {
    const endpoints = (legacy.subsets ?? []).flatMap((subset) => [
      ...(subset.addresses ?? []).map((a) => ({ a, ready: true })),
      ...(subset.notReadyAddresses ?? []).map((a) => ({ a, ready: false })),
    ]).map(({ a, ready }) => {
      const ep: ServiceEndpoint = { ip: a.ip, ready, terminating: false };
      if (a.targetRef?.kind === 'Pod' && a.targetRef.name) ep.pod = { apiVersion: 'v1', kind: 'Pod', namespace: a.targetRef.namespace ?? ns, name: a.targetRef.name };
      if (a.nodeName) ep.nodeName = a.nodeName;
      return ep;
    });
    return { source: 'Endpoints', endpoints, command: kubectl.get({ kind: 'Endpoints', namespace: ns, name }) };
  }
  return { source: 'none', endpoints: [], command: kubectl.list('endpointslices', ns, ['-l', `kubernetes.io/service-name=${name}`]) };
}

/** Labels the controllers add to pods; never part of a selector a human writes. */
const GENERATED_LABELS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-name',
  'controller-uid',
  'job-name',
]);

export function stableLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !GENERATED_LABELS.has(k)));
}

/** Something that stamps out pods from a template (or a bare pod), with the JSON pointer of its pod spec. */
export interface PodTemplateOwner {
  ref: ObjectRef & { apiVersion: string };
  spec: PodSpec;
  /** `/spec/template/spec` for workloads, `/spec` for a bare Pod. */
  specPath: string;
  labels: Record<string, string>;
  resourceVersion?: string;
  /** Bare pods: the env and most of the spec are immutable, so no patch plan. */
  bare: boolean;
}

/** Deployments, StatefulSets, DaemonSets, ReplicaSets and Pods that no controller owns, in a namespace (or all). */
export function podTemplateOwners(view: ClusterView, namespace: string | undefined): PodTemplateOwner[] {
  const owners: PodTemplateOwner[] = [];
  const unowned = (o: { metadata?: { ownerReferences?: { controller?: boolean }[] } }): boolean =>
    !(o.metadata?.ownerReferences ?? []).some((r) => r.controller);
  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const) {
    for (const w of view.list(kind, namespace)) {
      if (kind === 'ReplicaSet' && !unowned(w)) continue;
      const spec = w.spec?.template?.spec;
      if (!spec) continue;
      owners.push({
        ref: { ...refOf(kind, w), apiVersion: 'apps/v1' },
        spec,
        specPath: '/spec/template/spec',
        labels: w.spec?.template?.metadata?.labels ?? {},
        resourceVersion: w.metadata?.resourceVersion,
        bare: false,
      });
    }
  }
  for (const p of view.list('Pod', namespace)) {
    if (!unowned(p) || !p.spec || !isLive(p)) continue;
    owners.push({ ref: { ...refOf('Pod', p), apiVersion: 'v1' }, spec: p.spec, specPath: '/spec', labels: p.metadata?.labels ?? {}, resourceVersion: p.metadata?.resourceVersion, bare: true });
  }
  return owners;
}

export interface DeclaredPort {
  container: string;
  port: number;
  name?: string;
  protocol: string;
}

type ContainerPort = NonNullable<NonNullable<PodSpec['containers'][number]['ports']>[number]>;

function declaredPort(container: string, p: ContainerPort): DeclaredPort {
  const d: DeclaredPort = { container, port: p.containerPort, protocol: p.protocol ?? 'TCP' };
  if (p.name) d.name = p.name;
  return d;
}

export function declaredPorts(spec: PodSpec | undefined): DeclaredPort[] {
  return (spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => declaredPort(c.name, p)));
}

/** The pod port a Service port's targetPort lands on, if the pod declares it (numbers need no declaration to work, names do). */
export function resolveTargetPort(pod: Pod, targetPort: number | string, protocol: string): DeclaredPort | undefined {
  // A loop, not declaredPorts().find(): a Service with no endpoints asks this of every pod in its namespace.
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? 'TCP') === protocol && (typeof targetPort === 'number' ? p.containerPort === targetPort : p.name === targetPort)) return declaredPort(c.name, p);
    }
  }
  return undefined;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * Whether two names look like the same thing misspelt or decorated: a small edit distance
 * (`mysql`/`mysq1`), or one is the other plus dash-separated words (`mysql`/`mysql-service`, `db`/`app-db`).
 */
export function similarNames(a: string, b: string): boolean {
  if (a === b) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (short.length >= 2 && (long.startsWith(`${short}-`) || long.endsWith(`-${short}`) || long.includes(`-${short}-`))) return true;
  const limit = short.length <= 3 ? 1 : short.length <= 8 ? 2 : 3;
  return editDistance(x, y) <= limit;
}

export function svcRef(svc: Service): ObjectRef & { apiVersion: string } {
  return { ...refOf('Service', svc), apiVersion: 'v1' };
}

export function formatPort(p: { port?: number | string; protocol?: string; name?: string }): string {
  return `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol ?? 'TCP'}`;
}
