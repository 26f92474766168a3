import type { ClusterView, LogKey, ReadError } from '../domain/cluster-view';
import { type Kind, type KindMap, type KubeEvent, type RawObject, RESOURCES, byEventTime, byNamespaceAndName, isKind } from '../domain/kube-types';
import type { ObjectRef } from '../domain/object-ref';

const logKeyString = (k: LogKey): string => `${k.namespace}/${k.pod}/${k.container}${k.previous ? '#previous' : ''}`;
const nsName = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

/** The in-memory ClusterView both readers build: indexed once, then read by every check. */
export class ClusterSnapshot implements ClusterView {
  private readonly byKind = new Map<Kind, RawObject[]>();
  private readonly byKey = new Map<string, RawObject>();
  /** Per kind, the objects of each namespace (built on first use): checks ask per namespace all the time. */
  private readonly byNamespace = new Map<Kind, Map<string, RawObject[]>>();
  private readonly eventsByObject = new Map<string, KubeEvent[]>();
  /** Event lists appended to since they were last sorted: sorted once, when first read (linear indexing). */
  private readonly unsortedEvents = new Set<string>();
  private readonly logs = new Map<string, string>();
  observedAt?: Date;

  constructor(
    readonly readErrors: ReadError[] = [],
    readonly cluster?: string,
  ) {}

  /** Adds objects of one kind (LIST items have no kind of their own). */
  add(kind: Kind, items: RawObject[]): this {
    const list = this.byKind.get(kind) ?? [];
    for (const item of items) {
      // A copy only when kind or apiVersion is missing (LIST items): the dump reader's 200,000 objects already carry both.
      const obj = item.kind === kind && item.apiVersion !== undefined ? item : { ...item, kind, apiVersion: item.apiVersion ?? RESOURCES[kind].apiVersion };
      list.push(obj);
      this.byKey.set(`${kind}/${nsName(obj.metadata?.namespace, obj.metadata?.name ?? '')}`, obj);
      if (kind === 'Event') this.indexEvent(obj as unknown as KubeEvent);
    }
    list.sort(byNamespaceAndName);
    this.byKind.set(kind, list);
    this.byNamespace.delete(kind);
    return this;
  }

  /** Adds objects that carry their own kind; kinds netdoctor does not read are skipped. */
  addObjects(objects: RawObject[]): this {
    const grouped = new Map<Kind, RawObject[]>();
    for (const o of objects) {
      if (!o.kind || !isKind(o.kind)) continue;
      const group = grouped.get(o.kind);
      if (group) group.push(o);
      else grouped.set(o.kind, [o]);
    }
    for (const [kind, items] of grouped) this.add(kind, items);
    return this;
  }

  setLog(key: LogKey, text: string): this {
    this.logs.set(logKeyString(key), text);
    return this;
  }

  private indexEvent(e: KubeEvent): void {
    // Partial objects happen (hand-made dumps, odd producers): an event about nothing is kept, not indexed.
    const o = e.involvedObject as Partial<KubeEvent['involvedObject']> | undefined;
    if (!o || typeof o !== 'object' || typeof o.name !== 'string') return;
    const key = `${o.kind ?? ''}/${nsName(o.namespace, o.name)}`;
    const list = this.eventsByObject.get(key);
    if (list) list.push(e);
    else this.eventsByObject.set(key, [e]);
    this.unsortedEvents.add(key);
  }

  list<K extends Kind>(kind: K, namespace?: string): readonly KindMap[K][] {
    const all = (this.byKind.get(kind) ?? []) as unknown as KindMap[K][];
    if (namespace === undefined) return all;
    let index = this.byNamespace.get(kind);
    if (!index) {
      index = new Map();
      for (const o of all as unknown as RawObject[]) {
        const ns = o.metadata?.namespace ?? '';
        const group = index.get(ns);
        if (group) group.push(o);
        else index.set(ns, [o]);
      }
      this.byNamespace.set(kind, index);
    }
    return (index.get(namespace) ?? []) as unknown as KindMap[K][];
  }

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined {
    return this.byKey.get(`${kind}/${nsName(namespace, name)}`) as KindMap[K] | undefined;
  }

  events(ref: ObjectRef): readonly KubeEvent[] {
    const key = `${ref.kind}/${nsName(ref.namespace, ref.name)}`;
    const list = this.eventsByObject.get(key);
    if (!list) return [];
    if (this.unsortedEvents.delete(key)) list.sort(byEventTime);
    return list;
  }

  log(key: LogKey): string | undefined {
    return this.logs.get(logKeyString(key));
  }

  /** Every kind with its objects, and every log: what `netdoctor snapshot` writes out. */
  entries(): { objects: [Kind, RawObject[]][]; logs: [LogKey, string][] } {
    const logs = [...this.logs].map(([key, text]): [LogKey, string] => {
      const [path, previous] = key.split('#');
      const [namespace, pod, container] = (path ?? '').split('/') as [string, string, string];
      return [{ namespace, pod, container, previous: previous === 'previous' }, text];
    });
    return { objects: [...this.byKind], logs };
  }

  get objectCount(): number {
    let n = 0;
    for (const list of this.byKind.values()) n += list.length;
    return n;
  }
}
