import type { ClusterReader, EachNamespaceScope, LogKey, NamespaceObjects, ReadError, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { type Kind, type Pod, RESOURCES, namespaceOrder } from '../domain/kube-types';
import { ApiError } from '../domain/errors';
import { ATTRIBUTED_KINDS, type ManagedFieldsEntry, slimManagedFields } from '../domain/managed-fields';
import type { KubeApi } from './kube-api';
import type { RawObject } from '../domain/kube-types';
import { ClusterSnapshot } from './snapshot';
import { type FieldTree, project, StringTable } from '../domain/projection';

interface ListPage {
  items?: RawObject[];
  metadata?: { continue?: string };
}

export interface LiveReaderOptions {
  cluster?: string;
  /**
   * The size a LIST page aims at (bytes of JSON). A page is parsed into one tree before its items are
   * projected; a tree larger than V8's young generation outlives scavenges into the old one, and the
   * heap then grows with that garbage (a 30,000-pod digest peaked at 654 MiB with pages of 500 pods,
   * 401 MiB with pages of 100). Each kind's next `limit` is set from the bytes per item seen so far.
   * @defaultValue 512 KiB
   */
  pageBytes?: number;
  /** Log lines kept per container (the tail, where the crash is). */
  tailLines?: number;
  limitBytes?: number;
  /** At most this many container logs per run, so a cluster of crashing pods cannot blow up a run. */
  maxLogs?: number;
}

/**
 * Containers worth a log read: crashing or restarted ones (previous instance), or terminated with an
 * error; and running CoreDNS, whose reload plugin logs a refused Corefile edit while it goes on serving.
 */
export function logTargets(pod: Pod): LogKey[] {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const coreDns = pod.metadata?.labels?.['k8s-app'] === 'kube-dns';
  const keys: LogKey[] = [];
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const crashing = s.state?.waiting?.reason === 'CrashLoopBackOff' || (s.state?.terminated?.exitCode ?? 0) !== 0;
    if (s.restartCount > 0) keys.push({ namespace, pod: name, container: s.name, previous: true });
    if (crashing || ((s.restartCount > 0 || coreDns) && s.state?.running)) keys.push({ namespace, pod: name, container: s.name, previous: false });
  }
  return keys;
}

function apiPath(kind: Kind, namespace?: string): string {
  const { apiVersion, plural, namespaced } = RESOURCES[kind];
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  return namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
}

/** The newest Date header the apiserver sent during one read (ms since the epoch). */
interface ServerClock {
  newest: number;
}

const DEFAULT_PAGE_BYTES = 512 * 1024;
/** The first page of a kind, before its item size is known; and the bounds of any page. */
const FIRST_PAGE_ITEMS = 100;
const MIN_PAGE_ITEMS = 20;
const MAX_PAGE_ITEMS = 500;

/** The `limit` for the next page: as many items as fit the target bytes at the size seen so far. */
function nextPageLimit(targetBytes: number, bytesSoFar: number, itemsSoFar: number): number {
  if (itemsSoFar === 0) return FIRST_PAGE_ITEMS;
  const fit = Math.floor(targetBytes / (bytesSoFar / itemsSoFar));
  return Math.min(MAX_PAGE_ITEMS, Math.max(MIN_PAGE_ITEMS, fit));
}

/** One kind to list, what to keep of its items, and where the read's errors and clock go. */
interface ListRequest {
  kind: Kind;
  fields: FieldTree | undefined;
  errors: ReadError[];
  clock: ServerClock;
  /** Shared strings for the whole read; absent: per page. */
  strings?: StringTable;
  /** A kind read everywhere: what is kept of the items outside the run's own namespaces. */
  outside?: { namespaces: ReadonlySet<string>; fields: FieldTree | undefined };
}

/** Runs tasks with bounded concurrency (log reads go through the kubelet; do not stampede it). */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, lane));
  return results;
}

/**
 * The live ClusterReader: every needed kind LISTed concurrently (paginated, restarted on 410),
 * then the logs of failing containers, bounded. No per-object reads.
 */
export class LiveReader implements ClusterReader {
  constructor(
    private readonly api: KubeApi,
    private readonly options: LiveReaderOptions = {},
  ) {}

  get apiCalls(): number {
    return this.api.calls;
  }

  get bytesRead(): number {
    return this.api.bytesRead;
  }

  async namespaceExists(namespace: string): Promise<boolean> {
    try {
      await this.api.request(`/api/v1/namespaces/${encodeURIComponent(namespace)}`);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') return false;
      if (e instanceof ApiError && e.code === 'forbidden') return true; // may not get namespaces: the LISTs will tell
      throw unreachable(e);
    }
  }

  async read(scope: ReadScope): Promise<ClusterSnapshot> {
    const errors: ReadError[] = [];
    const snapshot = new ClusterSnapshot(errors, this.options.cluster);
    const namespaces = scope.namespace === undefined ? [undefined] : [scope.namespace, ...scope.alsoNamespaces];
    const everywhere = new Set(scope.everywhere ?? []);
    const lists: { kind: Kind; ns: string | undefined }[] = scope.kinds.flatMap((kind) =>
      RESOURCES[kind].namespaced && !everywhere.has(kind) ? namespaces.map((ns) => ({ kind, ns })) : [{ kind, ns: undefined }],
    );
    for (const extra of scope.alsoLists ?? []) {
      if (!lists.some((l) => l.kind === extra.kind && (l.ns === undefined || l.ns === extra.namespace))) lists.push({ kind: extra.kind, ns: extra.namespace });
    }
    const clock = { newest: Number.NEGATIVE_INFINITY };
    const strings = new StringTable();
    const results = await Promise.all(
      lists.map(({ kind, ns }) => {
        const list: ListRequest = { kind, fields: scope.fields?.[kind], errors, clock, strings };
        if (ns !== undefined || scope.namespace === undefined || !RESOURCES[kind].namespaced) return this.listAll(list, ns);
        // The run's own namespaces, and those a check lists this kind in, keep the run's fields.
        const own = new Set([scope.namespace, ...scope.alsoNamespaces, ...(scope.alsoLists ?? []).filter((l) => l.kind === kind).map((l) => l.namespace)]);
        return this.listEverywhere({ ...list, outside: { namespaces: own, fields: scope.everywhereFields?.[kind] ?? list.fields } }, namespaces);
      }),
    );
    lists.forEach(({ kind }, i) => snapshot.add(kind, results[i]!));
    // The apiserver's clock (its Date header, second resolution): ages are the cluster's, whatever the bot's clock says.
    if (Number.isFinite(clock.newest)) snapshot.observedAt = new Date(clock.newest);
    await this.readLogs(snapshot, errors, this.options.maxLogs ?? 50);
    return snapshot;
  }

  /** A cluster-wide LIST on a namespace run; where the bot may not list cluster-wide, the run's own namespaces instead. */
  private async listEverywhere(list: ListRequest, namespaces: (string | undefined)[]): Promise<RawObject[]> {
    const denied: ReadError[] = [];
    const items = await this.listAll({ ...list, errors: denied }, undefined);
    if (denied.length === 0) return items;
    list.errors.push(...denied.map((e) => ({ ...e, message: `${e.message}; read per namespace instead, other namespaces unchecked` })));
    return (await Promise.all(namespaces.map((ns) => this.listAll(list, ns)))).flat();
  }

  /**
   * Every page of one LIST, each item projected as it is read, so only the declared fields outlive the page.
   * A continue token that expired mid-list (410) starts the list over: `restarted` marks its first page.
   * Without a string table, each page shares strings within itself only (a stream must not hold every string it met).
   * `ahead`: the next page is requested as soon as this one is parsed, so the apiserver works while the consumer does.
   */
  private async *pages(list: ListRequest, namespace: string | undefined, ahead = false): AsyncGenerator<{ items: RawObject[]; restarted: boolean }> {
    const { kind, fields, errors, clock, strings, outside } = list;
    const seen = { bytes: 0, items: 0 };
    const fetchPage = async (token: string | undefined): Promise<ListPage> => {
      const res = await this.api.request(apiPath(kind, namespace), {
        query: { limit: nextPageLimit(this.options.pageBytes ?? DEFAULT_PAGE_BYTES, seen.bytes, seen.items), continue: token },
      });
      const date = Date.parse(res.headers.date ?? '');
      if (date > clock.newest) clock.newest = date;
      const page = JSON.parse(res.body) as ListPage;
      seen.bytes += res.body.length;
      seen.items += page.items?.length ?? 0;
      return page;
    };
    // A page fetched ahead is awaited on the next turn; until then its failure must not count as unhandled.
    const started = (token: string | undefined): Promise<ListPage> => {
      const page = fetchPage(token);
      page.catch(() => undefined);
      return page;
    };
    let next: Promise<ListPage> | undefined;
    let token: string | undefined;
    let restarted = false;
    for (let restarts = 0; ; ) {
      let page: ListPage;
      try {
        page = await (next ?? fetchPage(token));
      } catch (e) {
        next = undefined;
        if (e instanceof ApiError && e.code === 'gone' && restarts < 3) {
          restarts++;
          restarted = true;
          token = undefined;
          continue;
        }
        if (e instanceof ApiError && (e.code === 'forbidden' || e.code === 'not_found')) {
          errors.push({ kind, namespace, message: readErrorMessage(e, kind, namespace) });
          return;
        }
        throw unreachable(e);
      }
      token = page.metadata?.continue || undefined;
      next = ahead && token ? started(token) : undefined;
      const table = strings ?? new StringTable();
      const items = (page.items ?? []).map((item) => {
        // managedFields are often the largest part of an object: only who wrote which spec field, and when, is kept (kinds a baseline covers).
        if (item.metadata) {
          const slim = ATTRIBUTED_KINDS.has(kind) ? slimManagedFields(item.metadata.managedFields as ManagedFieldsEntry[] | undefined) : undefined;
          if (slim) item.metadata.managedFields = slim;
          else delete item.metadata.managedFields;
        }
        const tree = outside && !outside.namespaces.has(item.metadata?.namespace ?? '') ? outside.fields : fields;
        return tree ? project(item, tree, table) : item;
      });
      yield { items, restarted };
      restarted = false;
      if (!token) return;
    }
  }

  /** One LIST whole; after a 410 it starts over, for a consistent list. */
  private async listAll(list: ListRequest, namespace: string | undefined): Promise<RawObject[]> {
    const items: RawObject[] = [];
    for await (const page of this.pages(list, namespace)) {
      if (page.restarted) items.length = 0;
      for (const item of page.items) items.push(item);
    }
    return items;
  }

  /**
   * One kind listed cluster-wide as runs of one namespace's items, in the apiserver's key order
   * (`<namespace>/<name>`, as etcd and the watch cache keep them). After a 410 the list starts over
   * and goes on after the last item taken (a complete list, no longer one consistent snapshot).
   */
  private async *namespaceRuns(list: ListRequest): AsyncGenerator<{ namespace: string; items: RawObject[] }> {
    let run: { namespace: string; items: RawObject[] } | undefined;
    let last: string | undefined;
    let resuming = false;
    for await (const page of this.pages(list, undefined, true)) {
      resuming ||= page.restarted;
      for (const item of page.items) {
        const namespace = item.metadata?.namespace ?? '';
        const key = `${namespace}/${item.metadata?.name ?? ''}`;
        if (last !== undefined && key <= last) {
          if (resuming) continue;
          throw new NetdoctorError('cluster_unreachable', `the apiserver listed ${RESOURCES[list.kind].plural} out of key order (${key} after ${last}): cannot read the cluster namespace by namespace`);
        }
        resuming = false;
        last = key;
        if (run && run.namespace !== namespace) {
          yield run;
          run = undefined;
        }
        (run ??= { namespace, items: [] }).items.push(item);
      }
    }
    if (run) yield run;
  }

  /**
   * Every namespace's objects of the scope's kinds, one namespace at a time: one cluster-wide paged
   * LIST per kind, merged by namespace (all list in the same key order), so the calls are those of a
   * cluster-wide read, and only a page or two per kind and two namespaces' objects (the one being
   * checked, the next being read meanwhile) are alive at once. Each namespace's failing containers'
   * logs are read with it (the run's log budget shared).
   */
  async *eachNamespace(scope: EachNamespaceScope): AsyncGenerator<NamespaceObjects> {
    const clock = { newest: Number.NEGATIVE_INFINITY };
    const streams = scope.kinds.map((kind) => ({ kind, runs: this.namespaceRuns({ kind, fields: scope.fields?.[kind], errors: scope.readErrors, clock }) }));
    const excepted = (kind: Kind, namespace: string): boolean => scope.except.some((l) => l.kind === kind && l.namespace === namespace);
    let logs = this.options.maxLogs ?? 50;
    // The streams taken from advance while the consumer checks the namespace just yielded.
    let advancing: Promise<unknown> | undefined;
    try {
      const heads = await Promise.all(streams.map((s) => s.runs.next()));
      for (;;) {
        await advancing;
        const open = heads.flatMap((h) => (h.done ? [] : [h.value.namespace]));
        if (open.length === 0) return;
        const namespace = open.sort(namespaceOrder)[0]!;
        const errors: ReadError[] = [];
        const snapshot = new ClusterSnapshot(errors, this.options.cluster);
        const taken = streams.flatMap((s, i) => {
          const head = heads[i]!;
          if (head.done || head.value.namespace !== namespace) return [];
          if (!excepted(s.kind, namespace)) snapshot.add(s.kind, head.value.items);
          return [i];
        });
        advancing = Promise.all(taken.map(async (i) => (heads[i] = await streams[i]!.runs.next())));
        advancing.catch(() => undefined); // awaited on the next turn, or in finally
        if (snapshot.objectCount === 0) continue; // a namespace read already (infrastructure): nothing of its own
        if (Number.isFinite(clock.newest)) snapshot.observedAt = new Date(clock.newest);
        logs -= await this.readLogs(snapshot, errors, logs);
        yield { namespace, view: snapshot };
      }
    } finally {
      await advancing?.catch(() => undefined);
      await Promise.all(streams.map((s) => s.runs.return(undefined)));
    }
  }

  /** The logs of the view's failing containers, at most `budget` of them; resolves how many it asked for. */
  private async readLogs(snapshot: ClusterSnapshot, errors: ReadError[], budget: number): Promise<number> {
    const keys = snapshot.list('Pod').flatMap(logTargets).slice(0, Math.max(0, budget));
    const tasks = keys.map((key) => async () => {
      try {
        const res = await this.api.request(
          `/api/v1/namespaces/${encodeURIComponent(key.namespace)}/pods/${encodeURIComponent(key.pod)}/log`,
          {
            query: { container: key.container, previous: key.previous || undefined, tailLines: this.options.tailLines ?? 200, limitBytes: this.options.limitBytes ?? 256 * 1024 },
            maxBytes: this.options.limitBytes ?? 256 * 1024,
          },
        );
        snapshot.setLog(key, res.body);
      } catch (e) {
        // 400: the container has no (previous) instance to read; anything else is worth telling.
        if (e instanceof ApiError && e.code === 'bad_request') return;
        if (e instanceof ApiError) errors.push({ kind: 'Log', namespace: key.namespace, message: `${key.pod}/${key.container}: ${e.message}` });
        else throw unreachable(e);
      }
    });
    await pool(tasks, 8);
    return keys.length;
  }
}

function readErrorMessage(e: ApiError, kind: Kind, namespace: string | undefined): string {
  const where = namespace ? ` in namespace ${namespace}` : '';
  if (e.code === 'forbidden') {
    return `the bot may not list ${RESOURCES[kind].plural}${where}: grant the netdoctor-reader ClusterRole (deploy/rbac)`;
  }
  return `${RESOURCES[kind].plural} are not served by this apiserver${where}`;
}

function unreachable(e: unknown): Error {
  if (e instanceof ApiError && e.code === 'unauthorized') return new NetdoctorError('forbidden', 'the apiserver rejected the credentials (401): check the kubeconfig or token');
  if (e instanceof ApiError) return e;
  return new NetdoctorError('cluster_unreachable', `cannot reach the apiserver: ${(e as Error).message}`);
}
