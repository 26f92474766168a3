import type { Kind, KindMap, KubeEvent } from './kube-types';
import type { ObjectRef } from './object-ref';
import type { Projection } from './projection';

/** A read that failed (forbidden, not served, …): the run goes on, the report says what it could not see. */
export interface ReadError {
  /** What could not be read: a kind, a container log, or a file of an offline dump. */
  kind: Kind | 'Log' | 'File';
  namespace?: string;
  message: string;
}

export interface LogKey {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
}

/**
 * Read access to one cluster for one run: an immutable snapshot the engine fetched in one round.
 * Checks only read from it, so they never call the API themselves.
 */
export interface ClusterView {
  readonly cluster?: string;
  /** Every object of a kind (in one namespace when given) in a stable order. */
  list<K extends Kind>(kind: K, namespace?: string): readonly KindMap[K][];
  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined;
  /** Events whose involvedObject is the object, newest last. */
  events(ref: ObjectRef): readonly KubeEvent[];
  /** The tail of a container's log, when the reader fetched it (failing containers only). */
  log(key: LogKey): string | undefined;
  readonly readErrors: readonly ReadError[];
  /**
   * The cluster's own clock at the read: the apiserver's Date header for a live read, the newest
   * timestamp in a dump (or the time its user gave). Ages are measured from it, never from the
   * bot's wall clock; undefined when the data tells nothing.
   */
  readonly observedAt?: Date;
  /** How many objects the view holds (report statistics). */
  readonly objectCount: number;
}

/** Which part of the cluster a run reads. */
export interface ReadScope {
  /** The target namespace, or undefined for every namespace (cluster-wide runs). */
  namespace?: string;
  /** Infrastructure namespaces read alongside the target (kube-system: CNI, kube-proxy, CoreDNS). */
  alsoNamespaces: string[];
  kinds: Kind[];
  /** Kinds read from every namespace whatever the scope (one cluster-wide LIST each, in the same round). */
  everywhere?: Kind[];
  /**
   * What to keep of the `everywhere` kinds' objects outside the scope's namespaces: only what the checks that read
   * them everywhere declare (a cluster's every Service, held for names env vars may give, need not carry what
   * only its own namespace's run reads). Absent: `fields`.
   */
  everywhereFields?: Projection;
  /** Single kinds listed in namespaces outside the scope, in the same round (kube-public ConfigMaps, for cluster-info). */
  alsoLists?: NamespacedList[];
  /** What to keep of each object as it is read (the fields the run's checks and the engine declare); absent: whole objects. */
  fields?: Projection;
}

/** One kind listed in one namespace. */
export interface NamespacedList {
  kind: Kind;
  namespace: string;
}

/** A cluster-wide read taken one namespace at a time (the daily digest), after a read of what every namespace shares. */
export interface EachNamespaceScope {
  /** Namespaced kinds to list in every namespace. */
  kinds: Kind[];
  /** Lists already read (the infrastructure namespaces, `alsoLists`): their objects are left out. */
  except: NamespacedList[];
  fields?: Projection;
  /** Where reads that fail for every namespace (a kind the bot may not list) are told. */
  readErrors: ReadError[];
}

/** One namespace's objects of a cluster-wide read (and its containers' logs), alone. */
export interface NamespaceObjects {
  namespace: string;
  view: ClusterView;
}

/** Turns a scope into a ClusterView: live from the apiserver, or from an offline dump. */
export interface ClusterReader {
  read(scope: ReadScope): Promise<ClusterView>;
  /**
   * Each namespace's objects in turn, in namespace order, so only one namespace's objects need be
   * alive at a time (a reader holding the whole cluster anyway, like a dump, may leave it out:
   * the engine then slices one read).
   */
  eachNamespace?(scope: EachNamespaceScope): AsyncIterable<NamespaceObjects>;
  /** Whether the namespace exists (a clear error for typos, before any analysis). */
  namespaceExists(namespace: string): Promise<boolean>;
  /** API calls made so far (0 for dumps). */
  readonly apiCalls: number;
  /** Response bytes read from the apiserver so far (absent for dumps). */
  readonly bytesRead?: number;
}

/** A ClusterReader for one run; `close` (when present) is called once the run is over. */
export type LeasedReader = ClusterReader & { close?(): void };

/**
 * Makes the reader for a cluster: live in production, a DumpReader in tests. Throw a
 * NetdoctorError for a cluster it does not know (the job fails with that message).
 */
export type ReaderFactory = (cluster: string) => Promise<LeasedReader> | LeasedReader;
