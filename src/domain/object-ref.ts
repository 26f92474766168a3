import { RESOURCES, isKind } from './kube-types';

/** An RFC 1123 DNS label: namespace names, cluster names (they end up in Redis keys and job ids). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A pointer at one Kubernetes object. */
export interface ObjectRef {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
}

interface Named {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/** The ref of an object read from the cluster; `kind` is passed because LIST items omit it. */
export function refOf(kind: string, obj: Named): ObjectRef {
  const apiVersion = obj.apiVersion ?? (isKind(kind) ? RESOURCES[kind].apiVersion : undefined);
  const ref: ObjectRef = { kind, name: obj.metadata?.name ?? '' };
  if (apiVersion) ref.apiVersion = apiVersion;
  if (obj.metadata?.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

export function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
}

/** `Kind/ns/name`, unique per object; used in keys and ids. */
export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** `deployment/web -n triton`-style display form. */
export function refLabel(ref: ObjectRef): string {
  const ns = ref.namespace ? ` -n ${ref.namespace}` : '';
  return `${ref.kind.toLowerCase()}/${ref.name}${ns}`;
}

/** Quotes a shell word only when needed, so commands stay copy-pasteable. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function nsFlag(namespace: string | undefined): string[] {
  return namespace ? ['-n', namespace] : [];
}

/** The kubectl commands a human would run to see what a finding saw. */
export const kubectl = {
  get(ref: ObjectRef, output: 'yaml' | 'wide' = 'yaml'): string {
    return ['kubectl', 'get', ref.kind.toLowerCase(), ref.name, ...nsFlag(ref.namespace), '-o', output].map(shellWord).join(' ');
  },
  describe(ref: ObjectRef): string {
    return ['kubectl', 'describe', ref.kind.toLowerCase(), ref.name, ...nsFlag(ref.namespace)].map(shellWord).join(' ');
  },
  events(ref: ObjectRef): string {
    const selector = `involvedObject.kind=${ref.kind},involvedObject.name=${ref.name}`;
    return ['kubectl', 'get', 'events', ...nsFlag(ref.namespace), '--field-selector', selector].map(shellWord).join(' ');
  },
  logs(namespace: string, pod: string, container: string, previous = false): string {
    const words = ['kubectl', 'logs', '-n', namespace, pod, '-c', container];
    if (previous) words.push('--previous');
    return words.map(shellWord).join(' ');
  },
  list(kind: string, namespace: string | undefined, extra: string[] = []): string {
    return ['kubectl', 'get', kind.toLowerCase(), ...nsFlag(namespace), ...extra].map(shellWord).join(' ');
  },
};
