import { basename } from 'node:path';
import type { ClusterReader, ClusterView, LogKey, ReadError, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { type Kind, RESOURCES, type RawObject, isKind } from '../domain/kube-types';
import { project } from '../domain/projection';
import {
  DEFAULT_DUMP_LIMITS,
  type DumpFile,
  SNAPSHOT_INFO_FILE,
  type DumpLimits,
  checkFileSize,
  checkTotalSize,
  dumpRoot,
  readDumpFile,
  walkDump,
} from './dump-files';
import { parseDumpFile, parseDumpFiles } from './dump-objects';
import { splitKubectlLogs } from './dump-parse';
import { newestTimestamp } from './dump-clock';
import { ClusterSnapshot } from './snapshot';

/** A container log file found in a dump, by where it belongs. */
export interface DumpLog {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  file: DumpFile;
}

/** A `kubectl cluster-info dump --output-directory` `<namespace>/<pod>/logs.txt`: every container of one pod. */
export interface PodLogsFile {
  namespace: string;
  pod: string;
  file: DumpFile;
}

/**
 * Where a log file sits: `logs/<ns>/<pod>/<container>[.previous].log` (netdoctor's layout),
 * `<ns>/<pod>/logs.txt` (`kubectl cluster-info dump --output-directory`: containers inside, between markers)
 * or `<ns>/<pod>/<container>/logs.txt` (an older layout, one container per file).
 */
function logOf(file: DumpFile): DumpLog | PodLogsFile | undefined {
  const parts = file.rel.split('/');
  const own = parts.length >= 4 && parts[parts.length - 4] === 'logs' ? parts.slice(-3) : undefined;
  if (own && own[2]?.endsWith('.log')) {
    const previous = own[2].endsWith('.previous.log');
    const container = own[2].slice(0, -(previous ? '.previous.log' : '.log').length);
    return { namespace: own[0]!, pod: own[1]!, container, previous, file };
  }
  if (basename(file.rel) !== 'logs.txt' || parts.length < 3) return undefined;
  const [namespace, pod] = parts.slice(-3, -1) as [string, string];
  return { namespace, pod, file };
}

const isObjectFile = (rel: string): boolean => /\.(ya?ml|json)$/.test(rel) && !/(^|\/)expect\.ya?ml$/.test(rel) && rel !== SNAPSHOT_INFO_FILE;

/** The instant `netdoctor snapshot` read the cluster, from its info file (a file that does not say is refused). */
function snapshotTakenAt(file: DumpFile, limits: DumpLimits): Date {
  let takenAt: unknown;
  try {
    takenAt = (JSON.parse(readDumpFile(file, limits)) as { takenAt?: unknown }).takenAt;
  } catch (e) {
    throw new NetdoctorError('unreadable_dump', `cannot parse ${file.rel}: ${(e as Error).message.split('\n')[0]}`);
  }
  const at = typeof takenAt === 'string' && /^\d{4}-\d\d-\d\dT/.test(takenAt) ? new Date(takenAt) : undefined;
  if (!at || Number.isNaN(at.getTime())) throw new NetdoctorError('unreadable_dump', `${file.rel}: takenAt is not an ISO 8601 instant`);
  return at;
}

/** What a dump directory holds, found and size-checked but not yet parsed. */
interface DumpPlan {
  objectFiles: DumpFile[];
  logs: (DumpLog | PodLogsFile)[];
  skipped: ReadError[];
  takenAt?: Date;
}

/** A dump's object files and logs, and what was skipped; files over the limits are refused here, from their sizes. */
function planDump(dir: string, limits: DumpLimits): DumpPlan {
  const root = dumpRoot(dir);
  const { files, skipped } = walkDump(root, limits);
  const logs: (DumpLog | PodLogsFile)[] = [];
  const objectFiles: DumpFile[] = [];
  let takenAt: Date | undefined;
  for (const file of files) {
    const log = logOf(file);
    if (log) logs.push(log);
    else if (file.rel === SNAPSHOT_INFO_FILE) takenAt = snapshotTakenAt(file, limits);
    else if (isObjectFile(file.rel)) objectFiles.push(file);
  }
  for (const file of [...objectFiles, ...logs.map((l) => l.file)]) checkFileSize(file, limits);
  checkTotalSize(objectFiles, limits);
  return { objectFiles, logs, skipped: skipped.map((s) => ({ kind: 'File', message: `${s.rel}: ${s.reason}` })), ...(takenAt ? { takenAt } : {}) };
}

/** Everything in a dump directory, parsed on this thread: its objects (Lists flattened; every kind), its log files and what was skipped. */
export function readDumpFiles(dir: string, limits: DumpLimits = DEFAULT_DUMP_LIMITS): DumpFiles {
  const { objectFiles, ...rest } = planDump(dir, limits);
  return { objects: objectFiles.flatMap((f) => parseDumpFile(f, limits)), ...rest };
}

export interface DumpFiles extends Omit<DumpPlan, 'objectFiles'> {
  objects: RawObject[];
}

/** The container logs of the log files whose namespace is in scope, each with its text. */
export function readDumpLogs(
  files: (DumpLog | PodLogsFile)[],
  limits: DumpLimits,
  inScope: (namespace: string | undefined) => boolean,
): (LogKey & { text: string })[] {
  const out: (LogKey & { text: string })[] = [];
  for (const log of files) {
    const parts = log.file.rel.split('/');
    const olderLayout = !('container' in log) && parts.length >= 4;
    // A logs.txt four levels deep may be the older layout, whose namespace sits one level higher.
    if (!inScope(log.namespace) && !(olderLayout && inScope(parts.at(-4)))) continue;
    const text = readDumpFile(log.file, limits);
    if ('container' in log) out.push({ namespace: log.namespace, pod: log.pod, container: log.container, previous: log.previous, text });
    else if (text.startsWith('==== START logs for container ')) {
      for (const s of splitKubectlLogs(text)) if (inScope(s.namespace)) out.push({ namespace: s.namespace, pod: s.pod, container: s.container, previous: false, text: s.text });
    } else if (olderLayout && inScope(parts.at(-4))) {
      // The older layout: `<ns>/<pod>/<container>/logs.txt`, one container per file, no markers.
      out.push({ namespace: parts.at(-4)!, pod: parts.at(-3)!, container: parts.at(-2)!, previous: false, text });
    }
  }
  return out;
}

export interface DumpReaderOptions {
  /** The instant the dump was taken, when its user knows it better than its newest timestamp (`--now`). */
  now?: Date;
  limits?: Partial<DumpLimits>;
}

/**
 * A ClusterReader over an offline dump directory (the CLI's `--from`, the tests' scenarios).
 * Objects are read once; logs are read per run, only for the namespaces in scope.
 */
export class DumpReader implements ClusterReader {
  readonly apiCalls = 0;
  private readonly objects: RawObject[];
  private readonly logs: (DumpLog | PodLogsFile)[];
  private readonly skipped: ReadError[];
  private readonly limits: DumpLimits;
  private readonly observedAt: Date | undefined;

  /** Reads the dump on this thread; `DumpReader.open` parses a large one on several. */
  constructor(
    readonly dir: string,
    options: DumpReaderOptions = {},
    files?: DumpFiles,
  ) {
    this.limits = { ...DEFAULT_DUMP_LIMITS, ...options.limits };
    const read = files ?? readDumpFiles(dir, this.limits);
    ({ objects: this.objects, logs: this.logs, skipped: this.skipped } = read);
    if (this.objects.length === 0) throw new NetdoctorError('unreadable_dump', `no Kubernetes objects found in ${dir}`);
    this.observedAt = options.now ?? read.takenAt ?? newestTimestamp(this.objects);
  }

  /**
   * The reader for a dump, its object files parsed by spare cores side by side (the CLI, the workers):
   * what a constructor would read, refused with the same errors.
   */
  static async open(dir: string, options: DumpReaderOptions = {}): Promise<DumpReader> {
    const limits = { ...DEFAULT_DUMP_LIMITS, ...options.limits };
    const { objectFiles, ...rest } = planDump(dir, limits);
    return new DumpReader(dir, options, { objects: await parseDumpFiles(objectFiles, limits), ...rest });
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
    const everywhere = new Set<string>(scope.everywhere ?? []);
    const snapshot = new ClusterSnapshot([...this.skipped]);
    snapshot.observedAt = this.observedAt;
    const alsoListed = (o: RawObject): boolean => (scope.alsoLists ?? []).some((l) => l.kind === o.kind && l.namespace === o.metadata?.namespace);
    const read = this.objects.filter((o) => {
      if (!o.kind || !isKind(o.kind)) return false;
      if (!kinds.has(o.kind)) return alsoListed(o);
      return !RESOURCES[o.kind].namespaced || everywhere.has(o.kind) || inScope(o.metadata?.namespace) || alsoListed(o);
    });
    // The same projection as a live read, so a dump diagnoses exactly what the cluster would.
    snapshot.addObjects(
      read.map((o) => {
        const kind = o.kind as Kind;
        const outside = RESOURCES[kind].namespaced && everywhere.has(kind) && !inScope(o.metadata?.namespace) && !alsoListed(o);
        const fields = (outside ? scope.everywhereFields?.[kind] : undefined) ?? scope.fields?.[kind];
        return fields ? project(o, fields) : o;
      }),
    );
    for (const { text, ...key } of readDumpLogs(this.logs, this.limits, inScope)) snapshot.setLog(key, text);
    return snapshot;
  }
}
