import type { Baseline, BaselineObject, FieldChange } from '../domain/baseline';
import type { ClusterView } from '../domain/cluster-view';
import { isKind } from '../domain/kube-types';
import { type ManagedFieldsEntry, lastWriter } from '../domain/managed-fields';
import { refKey } from '../domain/object-ref';

/** JSON with sorted keys, so two equal values compare equal whatever order the apiserver wrote them in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

const MAX_SHOWN = 160;

/** A value as a change line shows it: `name=mysql` for label maps, the scalar itself, else compact JSON. */
export function showValue(value: unknown): string {
  let text: string;
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')) {
    text = Object.entries(value as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

const unescape = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The names of the list items a path goes through (containers and env vars are keyed by name in managedFields). */
function itemNames(path: string, fields: Record<string, unknown>): (string | undefined)[] {
  const segments = path.split('/').slice(1);
  return segments.map((s, i) => {
    if (!/^\d+$/.test(s)) return undefined;
    const prefix = `/${segments.slice(0, i + 1).join('/')}`;
    const item = fields[`${prefix}/name`] ?? (fields[prefix] as { name?: string } | undefined)?.name;
    return typeof item === 'string' ? item : undefined;
  });
}

/** `spec.template.spec.containers[web].ports`: the dotted form, list items by name where known. */
function fieldLabel(path: string, names: readonly (string | undefined)[]): string {
  return path
    .split('/')
    .slice(1)
    .map((s, i) => (/^\d+$/.test(s) ? `[${names[i] ?? s}]` : `.${unescape(s)}`))
    .join('')
    .replace(/^\./, '');
}

function managedFieldsOf(view: ClusterView, ref: BaselineObject['ref']): ManagedFieldsEntry[] | undefined {
  if (!isKind(ref.kind)) return undefined;
  return view.get(ref.kind, ref.namespace, ref.name)?.metadata?.managedFields;
}

/**
 * The networking fields that differ between the last healthy baseline and now, each with the
 * field manager and time of its newest write where the view's managedFields tell them.
 * A whole object that appeared or went away is one change at path "".
 */
export function changesSince(previous: Baseline, current: Baseline, view: ClusterView): FieldChange[] {
  const before = new Map(previous.objects.map((o) => [refKey(o.ref), o]));
  const changes: FieldChange[] = [];
  for (const now of current.objects) {
    const old = before.get(refKey(now.ref));
    before.delete(refKey(now.ref));
    if (!old) {
      changes.push({ ref: now.ref, path: '', field: 'object', to: 'created' });
      continue;
    }
    const managed = managedFieldsOf(view, now.ref);
    for (const path of [...new Set([...Object.keys(old.fields), ...Object.keys(now.fields)])].sort()) {
      const [a, b] = [old.fields[path], now.fields[path]];
      if (canonical(a) === canonical(b)) continue;
      const names = itemNames(path, { ...old.fields, ...now.fields });
      const writer = lastWriter(managed, path, names);
      changes.push({
        ref: now.ref,
        path,
        field: fieldLabel(path, names),
        ...(a !== undefined ? { from: showValue(a) } : {}),
        ...(b !== undefined ? { to: showValue(b) } : {}),
        ...(writer ? { manager: writer.manager, ...(writer.at ? { at: writer.at } : {}) } : {}),
      });
    }
  }
  for (const gone of before.values()) changes.push({ ref: gone.ref, path: '', field: 'object', from: 'present' });
  return changes;
}

/** The healthy and current raw values of a changed field, for a restore patch. */
export function fieldValues(previous: Baseline, current: Baseline, change: FieldChange): { healthy: unknown; now: unknown } {
  const find = (b: Baseline): BaselineObject | undefined => b.objects.find((o) => refKey(o.ref) === refKey(change.ref));
  return { healthy: find(previous)?.fields[change.path], now: find(current)?.fields[change.path] };
}
