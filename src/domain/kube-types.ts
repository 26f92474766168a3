import type {
  CoreV1Event,
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1EndpointSlice,
  V1Endpoints,
  V1Ingress,
  V1IngressClass,
  V1Namespace,
  V1NetworkPolicy,
  V1Node,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';

/**
 * Objects as the apiserver sends them over the wire (and as `kubectl get -o yaml` prints them):
 * the client-node model shapes, with every Date as the RFC 3339 string it really is.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type Pod = Wire<V1Pod>;
export type Service = Wire<V1Service>;
export type Endpoints = Wire<V1Endpoints>;
export type EndpointSlice = Wire<V1EndpointSlice>;
export type KubeEvent = Wire<CoreV1Event>;
export type KubeNode = Wire<V1Node>;
export type ConfigMap = Wire<V1ConfigMap>;
export type DaemonSet = Wire<V1DaemonSet>;
export type Deployment = Wire<V1Deployment>;
export type ReplicaSet = Wire<V1ReplicaSet>;
export type StatefulSet = Wire<V1StatefulSet>;
export type NetworkPolicy = Wire<V1NetworkPolicy>;
export type Ingress = Wire<V1Ingress>;
export type IngressClass = Wire<V1IngressClass>;
export type Namespace = Wire<V1Namespace>;

/** The resource kinds a check may read, mapped to their object shapes. */
export interface KindMap {
  Namespace: Namespace;
  Node: KubeNode;
  Pod: Pod;
  Service: Service;
  Endpoints: Endpoints;
  EndpointSlice: EndpointSlice;
  Event: KubeEvent;
  ConfigMap: ConfigMap;
  DaemonSet: DaemonSet;
  Deployment: Deployment;
  ReplicaSet: ReplicaSet;
  StatefulSet: StatefulSet;
  NetworkPolicy: NetworkPolicy;
  Ingress: Ingress;
  IngressClass: IngressClass;
}
export type Kind = keyof KindMap;

/** Where each kind lives on the apiserver; the live reader and the dump loader both use it. */
export interface ResourceInfo {
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}
export const RESOURCES: Readonly<Record<Kind, ResourceInfo>> = {
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  Node: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  Pod: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  Endpoints: { apiVersion: 'v1', plural: 'endpoints', namespaced: true },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  Event: { apiVersion: 'v1', plural: 'events', namespaced: true },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', plural: 'daemonsets', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  ReplicaSet: { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
  Ingress: { apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', plural: 'ingressclasses', namespaced: false },
};
export const KINDS = Object.keys(RESOURCES) as Kind[];

export function isKind(value: string): value is Kind {
  return Object.prototype.hasOwnProperty.call(RESOURCES, value);
}

/** Any object as read: kind may be absent on LIST items, so it is passed alongside. */
export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

const nsName = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

/** The stable order of a view's lists: by namespace, then name. */
export const byNamespaceAndName = (a: RawObject, b: RawObject): number =>
  nsName(a.metadata?.namespace, a.metadata?.name ?? '').localeCompare(nsName(b.metadata?.namespace, b.metadata?.name ?? ''));

/** An event's metadata, which hand-made dumps may leave out. */
const eventMeta = (e: KubeEvent): KubeEvent['metadata'] | undefined => e.metadata;

function eventTime(e: KubeEvent): string {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? eventMeta(e)?.creationTimestamp;
  return typeof t === 'string' ? t : '';
}

/** Events oldest first (RFC 3339 timestamps in UTC order by code unit; no locale rules needed). */
export const byEventTime = (a: KubeEvent, b: KubeEvent): number => {
  const [x, y] = [eventTime(a), eventTime(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Namespaces in the order an apiserver lists objects (by key, `<namespace>/<name>`: `a-b` before `a`). */
export const namespaceOrder = (a: string, b: string): number => {
  const [x, y] = [`${a}/`, `${b}/`];
  return x < y ? -1 : x > y ? 1 : 0;
};
