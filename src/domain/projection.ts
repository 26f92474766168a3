import type { Kind } from './kube-types';

/**
 * Per kind, the fields a reader of objects declares as dotted paths from the object's root. Arrays
 * are transparent (`spec.containers.ports` is every container's ports) and a path keeps everything
 * under it (`metadata.labels` keeps every label).
 */
export type FieldReads = Partial<Record<Kind, readonly string[]>>;

/** A compiled projection of one kind: per key, `true` keeps the whole value, a subtree keeps only its fields. */
export interface FieldTree {
  [key: string]: true | FieldTree;
}

/** What a reader keeps of each kind it reads; a kind without an entry is kept whole. */
export type Projection = Partial<Record<Kind, FieldTree>>;

/** Every view indexes objects by kind, namespace and name, whoever reads them. */
const ALWAYS_KEPT = ['apiVersion', 'kind', 'metadata.name', 'metadata.namespace'];

function addPath(tree: FieldTree, path: readonly string[]): void {
  let node = tree;
  for (const [i, key] of path.entries()) {
    const next = node[key];
    if (next === true) return; // an ancestor already keeps everything below
    if (i === path.length - 1) {
      node[key] = true;
      return;
    }
    node = next ?? (node[key] = {});
  }
}

/** The union of several readers' declarations for the kinds read: one tree per kind, names and kinds always kept. */
export function projectionOf(kinds: readonly Kind[], reads: readonly FieldReads[]): Projection {
  const projection: Projection = {};
  for (const kind of kinds) {
    const tree: FieldTree = {};
    for (const path of [...ALWAYS_KEPT, ...reads.flatMap((r) => r[kind] ?? [])]) addPath(tree, path.split('.'));
    projection[kind] = tree;
  }
  return projection;
}

/**
 * A copy of `value` with only the fields of `tree` (in the value's own key order); arrays keep every
 * item, each projected. Objects on the way to a kept field are kept even when none of it is present,
 * so presence and truthiness read the same as on the whole object.
 */
export function project<T>(value: T, tree: FieldTree, strings?: StringTable): T {
  if (Array.isArray(value)) return value.map((item: unknown) => project(item, tree, strings)) as T;
  if (value === null || typeof value !== 'object') return (strings && typeof value === 'string' ? strings.intern(value) : value) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const sub = tree[key];
    if (sub === undefined) continue;
    const field = (value as Record<string, unknown>)[key];
    out[key] = sub === true ? (strings ? strings.internAll(field) : field) : project(field, sub, strings);
  }
  return out as T;
}

/**
 * One copy of each string value across a read's objects. JSON.parse makes a new string for every
 * value, and most repeat across objects (statuses, reasons, images, label values, timestamps of one
 * rollout): one table per read keeps each once.
 */
export class StringTable {
  private readonly table = new Map<string, string>();

  /** Distinct strings held. */
  get size(): number {
    return this.table.size;
  }

  intern(s: string): string {
    const seen = this.table.get(s);
    if (seen !== undefined) return seen;
    this.table.set(s, s);
    return s;
  }

  /** Interns every string inside a kept value, in place (the value is the reader's own parse). */
  internAll<T>(value: T): T {
    if (typeof value === 'string') return this.intern(value) as T;
    if (value === null || typeof value !== 'object') return value;
    // Arrays and objects alike: their own keys are indexes or field names.
    const o = value as Record<string, unknown>;
    for (const key of Object.keys(o)) o[key] = this.internAll(o[key]);
    return value;
  }
}

/** How a field was read: its value (`leaf`), an object on the way down (`node`), or all its keys (`whole`). */
export type ReadMode = 'leaf' | 'node' | 'whole';

/** Whether a projection keeps what a read of `path` in `mode` needs. */
export function keeps(tree: FieldTree | undefined, path: readonly string[], mode: ReadMode): boolean {
  if (!tree) return true; // kept whole
  let node: FieldTree = tree;
  for (const key of path) {
    const next = node[key];
    if (next === true) return true;
    if (next === undefined) return false;
    node = next;
  }
  // The path ends on a subtree: the value is there (a primitive as it is, an object with some of its fields), not all its keys.
  return mode !== 'whole';
}
