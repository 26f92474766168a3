import type { ClusterReader, ClusterView, LogKey, ReadError, ReadScope } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { type Kind, type Pod, RESOURCES } from '../domain/kube-types';
import { ApiError, type KubeApi } from './kube-api';
import { ClusterSnapshot, type RawObject } from './snapshot';

interface ListPage {
  items?: RawObject[];
  metadata?: { continue?: string };
}

export interface LiveReaderOptions {
  cluster?: string;
  pageSize?: number;
  /** Log lines kept per container (the tail, where the crash is). */
  tailLines?: number;
  limitBytes?: number;
  /** At most this many container logs per run, so a cluster of crashing pods cannot blow up a run. */
  maxLogs?: number;
}

/** Containers worth a log read: crashing or restarted ones (previous instance), or terminated with an error. */
export function logTargets(pod: Pod): LogKey[] {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const keys: LogKey[] = [];
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const crashing = s.state?.waiting?.reason === 'CrashLoopBackOff' || (s.state?.terminated?.exitCode ?? 0) !== 0;
    if (s.restartCount > 0) keys.push({ namespace, pod: name, container: s.name, previous: true });
    if (crashing || (s.restartCount > 0 && s.state?.running)) keys.push({ namespace, pod: name, container: s.name, previous: false });
  }
  return keys;
}

function apiPath(kind: Kind, namespace?: string): string {
  const { apiVersion, plural, namespaced } = RESOURCES[kind];
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  return namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
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

  async namespaceExists(namespace: string): Promise<boolean> {
    try {
      await this.api.request(`/api/v1/namespaces/${encodeURIComponent(namespace)}`);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return false;
      if (e instanceof ApiError && e.status === 403) return true; // may not get namespaces: the LISTs will tell
      throw unreachable(e);
    }
  }

  async read(scope: ReadScope): Promise<ClusterView> {
    const errors: ReadError[] = [];
    const snapshot = new ClusterSnapshot(errors, this.options.cluster);
    const namespaces = scope.namespace === undefined ? [undefined] : [scope.namespace, ...scope.alsoNamespaces];
    const lists = scope.kinds.flatMap((kind) =>
      RESOURCES[kind].namespaced ? namespaces.map((ns) => ({ kind, ns })) : [{ kind, ns: undefined }],
    );
    const results = await Promise.all(lists.map(({ kind, ns }) => this.listAll(kind, ns, errors)));
    lists.forEach(({ kind }, i) => snapshot.add(kind, results[i]!));
    await this.readLogs(snapshot, errors);
    return snapshot;
  }

  private async listAll(kind: Kind, namespace: string | undefined, errors: ReadError[]): Promise<RawObject[]> {
    const items: RawObject[] = [];
    let token: string | undefined;
    for (let restarts = 0; ; ) {
      try {
        const page = await this.api.json<ListPage>(apiPath(kind, namespace), {
          query: { limit: this.options.pageSize ?? 500, continue: token },
        });
        for (const item of page.items ?? []) {
          // No check reads managedFields, and they are often the largest part of an object.
          if (item.metadata) delete item.metadata.managedFields;
          items.push(item);
        }
        token = page.metadata?.continue || undefined;
        if (!token) return items;
      } catch (e) {
        if (e instanceof ApiError && e.status === 410 && restarts < 3) {
          // The continue token expired mid-list: start over for a consistent list.
          restarts++;
          items.length = 0;
          token = undefined;
          continue;
        }
        if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
          errors.push({ kind, namespace, message: readErrorMessage(e, kind, namespace) });
          return [];
        }
        throw unreachable(e);
      }
    }
  }

  private async readLogs(snapshot: ClusterSnapshot, errors: ReadError[]): Promise<void> {
    const keys = snapshot.list('Pod').flatMap(logTargets).slice(0, this.options.maxLogs ?? 50);
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
        if (e instanceof ApiError && e.status === 400) return;
        if (e instanceof ApiError) errors.push({ kind: 'Log', namespace: key.namespace, message: `${key.pod}/${key.container}: ${e.message}` });
        else throw unreachable(e);
      }
    });
    await pool(tasks, 8);
  }
}

function readErrorMessage(e: ApiError, kind: Kind, namespace: string | undefined): string {
  const where = namespace ? ` in namespace ${namespace}` : '';
  if (e.status === 403) {
    return `the bot may not list ${RESOURCES[kind].plural}${where}: grant the netdoctor-reader ClusterRole (deploy/rbac)`;
  }
  return `${RESOURCES[kind].plural} are not served by this apiserver${where}`;
}

function unreachable(e: unknown): Error {
  if (e instanceof ApiError && e.status === 401) return new NetdoctorError('forbidden', 'the apiserver rejected the credentials (401): check the kubeconfig or token');
  if (e instanceof ApiError) return e;
  return new NetdoctorError('cluster_unreachable', `cannot reach the apiserver: ${(e as Error).message}`);
}
