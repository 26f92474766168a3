import type { ClusterReader, ClusterView, EachNamespaceScope, LogKey, NamespaceObjects } from '../domain/cluster-view';
import { type Kind, type KindMap, type KubeEvent, type RawObject, byEventTime, byNamespaceAndName, namespaceOrder } from '../domain/kube-types';
import type { ObjectRef } from '../domain/object-ref';

/** Two sorted lists as one, in the view's order (one side is usually empty: no copy then). */
function merged<T>(a: readonly T[], b: readonly T[], order: (x: T, y: T) => number): readonly T[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...a, ...b].sort(order);
}

/**
 * Two lists sorted by namespace and name as one, leaving out `a`'s objects of one namespace (`b` holds
 * those). A namespace's objects are contiguous in that order, so `b` goes where its first object would.
 */
function replacingNamespace(a: readonly RawObject[], b: readonly RawObject[], namespace: string): readonly RawObject[] {
  const others = (xs: readonly RawObject[]): RawObject[] => xs.filter((o) => o.metadata?.namespace !== namespace);
  if (b.length === 0) return others(a);
  let lo = 0;
  for (let hi = a.length; lo < hi; ) {
    const mid = (lo + hi) >> 1;
    if (byNamespaceAndName(a[mid]!, b[0]!) < 0) lo = mid + 1;
    else hi = mid;
  }
  return [...others(a.slice(0, lo)), ...b, ...others(a.slice(lo))];
}

/**
 * What one namespace's run of a cluster-wide read sees: the objects every namespace shares (the
 * infrastructure namespaces, cluster-scoped kinds, kinds read everywhere) and that namespace's own.
 * The two hold different objects (the namespace's read leaves out what the shared read has), so
 * every answer is the union of theirs; except the kinds read everywhere (`own.kinds`), which the
 * shared read holds slim in every namespace: of those, the namespace's own objects are the local read's.
 */
export function layeredView(shared: ClusterView, local: ClusterView, own: { namespace: string; kinds: readonly Kind[] }): ClusterView {
  const lists = new Map<string, readonly RawObject[]>();
  const replaced = (kind: Kind, namespace: string | undefined): boolean => own.kinds.includes(kind) && (namespace === undefined || namespace === own.namespace);
  return {
    cluster: shared.cluster,
    list<K extends Kind>(kind: K, namespace?: string): readonly KindMap[K][] {
      const key = `${kind}/${namespace ?? '*'}`;
      let list = lists.get(key);
      if (!list) {
        if (!replaced(kind, namespace)) list = merged<RawObject>(shared.list(kind, namespace), local.list(kind, namespace), byNamespaceAndName);
        else list = namespace === undefined ? replacingNamespace(shared.list(kind), local.list(kind), own.namespace) : local.list(kind, namespace);
        lists.set(key, list);
      }
      return list as readonly KindMap[K][];
    },
    get: <K extends Kind>(kind: K, namespace: string | undefined, name: string) =>
      local.get(kind, namespace, name) ?? (namespace === own.namespace && own.kinds.includes(kind) ? undefined : shared.get(kind, namespace, name)),
    events: (ref: ObjectRef) => merged<KubeEvent>(shared.events(ref), local.events(ref), byEventTime),
    log: (key: LogKey) => local.log(key) ?? shared.log(key),
    readErrors: [...shared.readErrors, ...local.readErrors],
    observedAt: [shared.observedAt, local.observedAt].reduce<Date | undefined>((a, b) => (!a || (b && b > a) ? b : a), undefined),
    objectCount: shared.objectCount + local.objectCount,
  };
}

const inScope = (scope: EachNamespaceScope, kind: Kind, namespace: string | undefined): boolean =>
  namespace !== undefined && scope.kinds.includes(kind) && !scope.except.some((l) => l.kind === kind && l.namespace === namespace);

/** One namespace's objects of the scope's kinds in a view holding the whole cluster. */
function namespaceSlice(view: ClusterView, scope: EachNamespaceScope, namespace: string): ClusterView {
  const kinds = scope.kinds.filter((k) => inScope(scope, k, namespace));
  return {
    cluster: view.cluster,
    list: <K extends Kind>(kind: K, ns?: string) => (kinds.includes(kind) && (ns === undefined || ns === namespace) ? view.list(kind, namespace) : []),
    get: <K extends Kind>(kind: K, ns: string | undefined, name: string) => (kinds.includes(kind) && ns === namespace ? view.get(kind, ns, name) : undefined),
    // The events of the namespace's objects, and those it holds about cluster-scoped ones (a Node's).
    events: (ref: ObjectRef) => (kinds.includes('Event') ? view.events(ref).filter((e) => (e.metadata as KubeEvent['metadata'] | undefined)?.namespace === namespace) : []),
    log: (key: LogKey) => (key.namespace === namespace ? view.log(key) : undefined),
    readErrors: [],
    observedAt: view.observedAt,
    objectCount: kinds.reduce((n, k) => n + view.list(k, namespace).length, 0),
  };
}

/**
 * Each namespace's objects: from the reader when it reads namespace by namespace (live), else
 * sliced from one read of the whole cluster (a dump is in memory anyway).
 */
export async function* eachNamespaceOf(reader: ClusterReader, scope: EachNamespaceScope): AsyncGenerator<NamespaceObjects> {
  if (reader.eachNamespace) {
    yield* reader.eachNamespace(scope);
    return;
  }
  const whole = await reader.read({ alsoNamespaces: [], kinds: scope.kinds, ...(scope.fields ? { fields: scope.fields } : {}) });
  scope.readErrors.push(...whole.readErrors);
  const namespaces = new Set<string>();
  for (const kind of scope.kinds) for (const o of whole.list(kind)) if (inScope(scope, kind, o.metadata?.namespace)) namespaces.add(o.metadata!.namespace!);
  for (const namespace of [...namespaces].sort(namespaceOrder)) yield { namespace, view: namespaceSlice(whole, scope, namespace) };
}
