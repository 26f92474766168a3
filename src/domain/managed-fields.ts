/** A `metadata.managedFields` entry as the apiserver sends it. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The kinds whose changes a baseline attributes (pods, events, endpoints and ReplicaSets keep none: they are the bulk of a read). */
export const ATTRIBUTED_KINDS: ReadonlySet<string> = new Set(['Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'ConfigMap', 'NetworkPolicy', 'Node']);

/** Deep enough for every field a baseline keeps (`f:spec.f:template.f:spec.f:containers.k:{…}.f:ports`). */
const KEPT_DEPTH = 6;
/** The top-level field sets that hold networking fields; status, metadata and the rest are dropped. */
const KEPT_ROOTS = new Set(['f:spec', 'f:data']);

function prune(set: Record<string, unknown>, depth: number): Record<string, unknown> {
  if (depth === 0) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(set)) out[k] = v && typeof v === 'object' ? prune(v as Record<string, unknown>, depth - 1) : {};
  return out;
}

/**
 * What the reader keeps of managedFields (often the largest part of an object): who wrote which
 * spec/data field and when, down to the depth a baseline path needs. Entries owning none are dropped.
 */
export function slimManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): ManagedFieldsEntry[] | undefined {
  const slim = (entries ?? []).flatMap((e) => {
    const roots = Object.entries(e.fieldsV1 ?? {}).filter(([k]) => KEPT_ROOTS.has(k));
    if (roots.length === 0) return [];
    const fieldsV1 = prune(Object.fromEntries(roots), KEPT_DEPTH);
    return [{ ...(e.manager ? { manager: e.manager } : {}), ...(e.operation ? { operation: e.operation } : {}), ...(e.time ? { time: e.time } : {}), fieldsType: 'FieldsV1', fieldsV1 }];
  });
  return slim.length > 0 ? slim : undefined;
}

/** Does a managedFields set own something at or under the pointer (containers and env entries matched by name)? */
function owns(set: Record<string, unknown>, segments: readonly string[], names: readonly (string | undefined)[]): boolean {
  let node: Record<string, unknown> | undefined = set;
  for (const [i, segment] of segments.entries()) {
    if (!node) return false;
    if (/^\d+$/.test(segment)) {
      const name = names[i];
      const key: string | undefined = Object.keys(node).find((k) => k.startsWith('k:') && (name === undefined || k.includes(`"name":${JSON.stringify(name)}`)));
      node = key ? (node[key] as Record<string, unknown>) : undefined;
    } else node = node[`f:${segment}`] as Record<string, unknown> | undefined;
  }
  return node !== undefined;
}

/**
 * The newest writer of a field: the managedFields entry that owns something at or under the
 * pointer with the latest time. `names[i]` names the list item at segment i (a container's name).
 */
export function lastWriter(entries: readonly ManagedFieldsEntry[] | undefined, path: string, names: readonly (string | undefined)[] = []): { manager: string; at?: string } | undefined {
  const segments = path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const owners = (entries ?? []).filter((e) => e.manager && owns(e.fieldsV1 ?? {}, segments, names));
  const newest = owners.sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '')).at(-1);
  return newest ? { manager: newest.manager!, ...(newest.time ? { at: newest.time } : {}) } : undefined;
}
