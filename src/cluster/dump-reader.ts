import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ClusterReader, ClusterView, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { RESOURCES, isKind } from '../domain/kube-types';
import { ClusterSnapshot, type RawObject } from './snapshot';

/** A container log found in a dump, by where it belongs. */
export interface DumpLog {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  file: string;
}

/** Flattens `kind: List` / `*List` documents into their items, giving each item its kind. */
function flatten(doc: RawObject): RawObject[] {
  const items = doc.items;
  if (Array.isArray(items) && typeof doc.kind === 'string' && doc.kind.endsWith('List')) {
    const itemKind = doc.kind === 'List' ? undefined : doc.kind.slice(0, -'List'.length);
    return (items as RawObject[]).flatMap((i) => flatten({ ...i, kind: i.kind ?? itemKind }));
  }
  return [doc];
}

function parseFile(file: string): RawObject[] {
  const text = readFileSync(file, 'utf8');
  try {
    if (file.endsWith('.json')) return flatten(JSON.parse(text) as RawObject);
    return parseAllDocuments(text).flatMap((d) => {
      if (d.errors.length > 0) throw d.errors[0];
      const obj = d.toJS() as RawObject | null;
      return obj && typeof obj === 'object' ? flatten(obj) : [];
    });
  } catch (e) {
    throw new NetdoctorError('unreadable_dump', `cannot parse ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Where a log file sits: `logs/<ns>/<pod>/<container>[.previous].log` (netdoctor's layout) or
 * `<ns>/<pod>/<container>/logs.txt` (`kubectl cluster-info dump --output-directory`).
 */
function logOf(root: string, file: string): DumpLog | undefined {
  const parts = relative(root, file).split(sep);
  const own = parts.length >= 4 && parts[parts.length - 4] === 'logs' ? parts.slice(-3) : undefined;
  if (own && own[2]?.endsWith('.log')) {
    const previous = own[2].endsWith('.previous.log');
    const container = own[2].slice(0, -(previous ? '.previous.log' : '.log').length);
    return { namespace: own[0]!, pod: own[1]!, container, previous, file };
  }
  if (basename(file) === 'logs.txt' && parts.length >= 4) {
    const [namespace, pod, container] = parts.slice(-4, -1) as [string, string, string];
    return { namespace, pod, container, previous: false, file };
  }
  return undefined;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

/** Everything in a dump directory: its objects (Lists flattened; every kind) and its container logs. */
export function readDumpFiles(dir: string): { objects: RawObject[]; logs: DumpLog[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new NetdoctorError('unreadable_dump', `dump directory ${dir} does not exist`);
  }
  const objects: RawObject[] = [];
  const logs: DumpLog[] = [];
  for (const file of walk(dir)) {
    const log = logOf(dir, file);
    if (log) logs.push(log);
    else if (/\.(ya?ml|json)$/.test(file) && !/expect\.ya?ml$/.test(file)) objects.push(...parseFile(file));
  }
  return { objects, logs };
}

/** A ClusterReader over an offline dump directory (the CLI's `--from`, the tests' scenarios). */
export class DumpReader implements ClusterReader {
  readonly apiCalls = 0;
  private readonly objects: RawObject[];
  private readonly logs: DumpLog[];

  constructor(readonly dir: string) {
    ({ objects: this.objects, logs: this.logs } = readDumpFiles(dir));
    if (this.objects.length === 0) throw new NetdoctorError('unreadable_dump', `no Kubernetes objects found in ${dir}`);
  }

  async namespaceExists(namespace: string): Promise<boolean> {
    return this.objects.some(
      (o) => (o.kind === 'Namespace' && o.metadata?.name === namespace) || o.metadata?.namespace === namespace,
    );
  }

  async read(scope: ReadScope): Promise<ClusterView> {
    const inScope = (ns: string | undefined): boolean =>
      scope.namespace === undefined || ns === scope.namespace || scope.alsoNamespaces.includes(ns ?? '');
    const kinds = new Set<string>(scope.kinds);
    const snapshot = new ClusterSnapshot();
    snapshot.addObjects(
      this.objects.filter((o) => {
        if (!o.kind || !isKind(o.kind) || !kinds.has(o.kind)) return false;
        return !RESOURCES[o.kind].namespaced || inScope(o.metadata?.namespace);
      }),
    );
    for (const log of this.logs.filter((l) => inScope(l.namespace))) {
      snapshot.setLog(log, readFileSync(log.file, 'utf8'));
    }
    return snapshot;
  }
}
