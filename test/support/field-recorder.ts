import type { ClusterView, ClusterReader, LogKey, ReadScope } from '../../src/domain/cluster-view';
import { KINDS, type Kind } from '../../src/domain/kube-types';
import type { ObjectRef } from '../../src/domain/object-ref';
import { type FieldReads, type Projection, type ReadMode, keeps, projectionOf } from '../../src/domain/projection';

export interface FieldRead {
  kind: Kind;
  path: string[];
  mode: ReadMode;
  /** The namespace of the object read (none for cluster-scoped ones). */
  namespace?: string;
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

  /** The reads a projection built from `declared` would not serve, in any namespace (each once). */
  missing(declared: readonly FieldReads[]): FieldRead[] {
    const projection: Projection = projectionOf(KINDS, declared);
    const missing = new Map<string, FieldRead>();
    for (const r of this.reads) if (!keeps(projection[r.kind] ?? {}, r.path, r.mode)) missing.set(`${r.kind} ${r.mode} ${r.path.join('\u0000')}`, { kind: r.kind, path: r.path, mode: r.mode });
    return [...missing.values()];
  }

  private record(kind: Kind, path: string[], mode: ReadMode, namespace: string | undefined): void {
    this.seen.set(`${kind} ${mode} ${path.join('\u0000')} ${namespace ?? ''}`, { kind, path, mode, ...(namespace !== undefined ? { namespace } : {}) });
  }

  /** An object handed out by a view, its reads recorded with its namespace. */
  private wrapObject<T>(value: T, kind: Kind): T {
    const namespace = (value as { metadata?: { namespace?: string } } | undefined)?.metadata?.namespace;
    return this.wrap(value, kind, [], namespace);
  }

  wrap<T>(value: T, kind: Kind, path: string[] = [], namespace?: string): T {
    if (value === null || typeof value !== 'object') return value;
    const cached = this.proxies.get(value);
    if (cached) return cached as T;
    const proxy = new Proxy(value, {
      get: (target, key, receiver) => {
        if (typeof key === 'symbol') return Reflect.get(target, key, receiver);
        const own = Object.prototype.hasOwnProperty.call(target, key);
        if (Array.isArray(target)) return own && isIndex(key) ? this.wrap(target[Number(key)] as unknown, kind, path, namespace) : (Reflect.get(target, key, receiver) as unknown);
        const field = Reflect.get(target, key, receiver) as unknown;
        if (!own && (typeof field === 'function' || key in Object.prototype)) return field;
        const at = [...path, key];
        const isObject = field !== null && typeof field === 'object';
        this.record(kind, at, isObject ? 'node' : 'leaf', namespace);
        return isObject ? this.wrap(field, kind, at, namespace) : field;
      },
      has: (target, key) => {
        if (typeof key === 'string' && !Array.isArray(target)) this.record(kind, [...path, key], 'leaf', namespace);
        return Reflect.has(target, key);
      },
      ownKeys: (target) => {
        this.record(kind, path, 'whole', namespace);
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
      list: <K extends Kind>(kind: K, namespace?: string) => view.list(kind, namespace).map((o) => this.wrapObject(o, kind)),
      get: <K extends Kind>(kind: K, namespace: string | undefined, name: string) => this.wrapObject(view.get(kind, namespace, name), kind),
      events: (ref: ObjectRef) => view.events(ref).map((e) => this.wrapObject(e, 'Event')),
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
