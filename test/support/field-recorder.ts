import type { ClusterView, ClusterReader, LogKey, ReadScope } from '../../src/domain/cluster-view';
import { KINDS, type Kind } from '../../src/domain/kube-types';
import type { ObjectRef } from '../../src/domain/object-ref';
import { type FieldReads, type Projection, type ReadMode, keeps, projectionOf } from '../../src/domain/projection';

export interface FieldRead {
  kind: Kind;
  path: string[];
  mode: ReadMode;
}

const isIndex = (key: string): boolean => /^\d+$/.test(key);

/**
 * Records every field read from the objects of a view, through proxies: a value read (`leaf`), an
 * object walked through (`node`), or an object's keys listed (`whole`: spread, Object.entries,
 * JSON.stringify). Array items share their array's path. What a projection must keep for the code that ran.
 */
export class FieldRecorder {
  private readonly seen = new Map<string, FieldRead>();
  private readonly proxies = new WeakMap<object, object>();

  get reads(): FieldRead[] {
    return [...this.seen.values()];
  }

  /** The reads a projection built from `declared` would not serve. */
  missing(declared: readonly FieldReads[]): FieldRead[] {
    const projection: Projection = projectionOf(KINDS, declared);
    return this.reads.filter((r) => !keeps(projection[r.kind] ?? {}, r.path, r.mode));
  }

  private record(kind: Kind, path: string[], mode: ReadMode): void {
    this.seen.set(`${kind} ${mode} ${path.join('\u0000')}`, { kind, path, mode });
  }

  wrap<T>(value: T, kind: Kind, path: string[] = []): T {
    if (value === null || typeof value !== 'object') return value;
    const cached = this.proxies.get(value);
    if (cached) return cached as T;
    const proxy = new Proxy(value, {
      get: (target, key, receiver) => {
        if (typeof key === 'symbol') return Reflect.get(target, key, receiver);
        const own = Object.prototype.hasOwnProperty.call(target, key);
        if (Array.isArray(target)) return own && isIndex(key) ? this.wrap(target[Number(key)] as unknown, kind, path) : (Reflect.get(target, key, receiver) as unknown);
        const field = Reflect.get(target, key, receiver) as unknown;
        if (!own && (typeof field === 'function' || key in Object.prototype)) return field;
        const at = [...path, key];
        const isObject = field !== null && typeof field === 'object';
        this.record(kind, at, isObject ? 'node' : 'leaf');
        return isObject ? this.wrap(field, kind, at) : field;
      },
      has: (target, key) => {
        if (typeof key === 'string' && !Array.isArray(target)) this.record(kind, [...path, key], 'leaf');
        return Reflect.has(target, key);
      },
      ownKeys: (target) => {
        this.record(kind, path, 'whole');
        return Reflect.ownKeys(target);
      },
    });
    this.proxies.set(value, proxy);
    return proxy;
  }

  /** The same view, every object it hands out recorded. */
  view(view: ClusterView): ClusterView {
    return {
      cluster: view.cluster,
      list: <K extends Kind>(kind: K, namespace?: string) => view.list(kind, namespace).map((o) => this.wrap(o, kind)),
      get: <K extends Kind>(kind: K, namespace: string | undefined, name: string) => this.wrap(view.get(kind, namespace, name), kind),
      events: (ref: ObjectRef) => view.events(ref).map((e) => this.wrap(e, 'Event')),
      log: (key: LogKey) => view.log(key),
      readErrors: view.readErrors,
      observedAt: view.observedAt,
      objectCount: view.objectCount,
    };
  }

  /** A reader whose views are recorded (for a whole `diagnose`). */
  reader(reader: ClusterReader): ClusterReader {
    return {
      read: async (scope: ReadScope) => this.view(await reader.read(scope)),
      namespaceExists: (namespace) => reader.namespaceExists(namespace),
      get apiCalls() {
        return reader.apiCalls;
      },
    };
  }
}

/** `Pod spec.containers.ports (leaf)`: one line per read, for failure messages. */
export const describeRead = (r: FieldRead): string => `${r.kind} ${r.path.join('.')} (${r.mode})`;
