// One measured diagnosis in a fresh process (so peak RSS belongs to that run alone):
//
//   node -r ./scripts/ts-register.js bench/diagnose-child.ts live  <kubeconfig> <workflow> [namespace]
//   node -r ./scripts/ts-register.js bench/diagnose-child.ts floor <kubeconfig> <requests.json>
//
// live: LiveReader + diagnose() as the CLI and the workers run them; prints wall time, API
// calls, bytes read (KubeApi.bytesRead), peak RSS, the request log and the root causes.
// floor: the same requests with a bare HTTPS client and no processing — every request in
// flight at once except where the protocol forces an order (a List's next page needs the
// previous page's continue token, found in the first bytes of the body; nothing is parsed).
import * as fs from 'node:fs';
import { CHECKS } from '../src/checks';
import { KubeApi, type RequestOptions } from '../src/cluster/kube-api';
import { loadKubeConfig } from '../src/cluster/kubeconfig';
import { LiveReader } from '../src/cluster/live-reader';
import { silentLogger } from '../src/domain/run-context';
import { diagnose } from '../src/engine/diagnose';
import { loadWorkflows, pickWorkflow } from '../src/engine/workflow';
import { heapReclaimer } from '../src/observability/heap';
import { BareClient, credsFromKubeconfig } from './kube-client';
import { nowMs } from './stats';

export interface LoggedRequest {
  path: string;
  query: Record<string, string>;
}

export interface LiveResult {
  /** First diagnosis in a fresh process (as the CLI runs it). */
  wallMs: number;
  /** A second diagnosis in the same process, new connections (as a long-lived worker runs it); not in `cold` mode. */
  warmWallMs?: number;
  apiCalls: number;
  bytesRead: number;
  peakRssBytes: number;
  heapUsedBytes: number;
  objects: number;
  requests: LoggedRequest[];
  findings: { title: string; check: string; subject: string; rootCause: boolean; symptoms: number }[];
  readErrors: number;
  /** Where the cold run's time went: the read (requests + JSON parsing + indexing) and each check. */
  phases: { readMs: number; checksMs: number; otherMs: number; checkMs: Record<string, number> };
}

/** The heap in use after a full collection: once the shared part and the first namespace are read and checked, and at every 10th namespace. */
export interface LiveHeapResult {
  sharedHeapBytes: number;
  maxHeapBytes: number;
  namespaces: number;
}

export interface FloorResult {
  wallMs: number;
  warmWallMs: number;
  /** In `parse-floor` mode, the same requests once more, each body decoded and parsed (JSON.parse, nothing kept): what any JSON client pays. */
  parseWallMs?: number;
  apiCalls: number;
  bytesRead: number;
  peakRssBytes: number;
}

async function live(kubeconfig: string, workflowName: string, namespace: string | undefined, warmToo: boolean): Promise<LiveResult> {
  const workflow = pickWorkflow(loadWorkflows(CHECKS), workflowName);
  const kc = await loadKubeConfig({ file: kubeconfig, env: {} });
  const once = async () => {
    const checkMs: Record<string, number> = {};
    const timed = {
      ...workflow,
      checks: workflow.checks.map((c) => ({
        ...c,
        run: (ctx: Parameters<typeof c.run>[0]) => {
          const t = nowMs();
          try {
            return c.run(ctx);
          } finally {
            checkMs[c.id] = (checkMs[c.id] ?? 0) + nowMs() - t;
          }
        },
      })),
    };
    // Read time is wall time while any read is under way: the namespaces' lists start during the shared read.
    let readMs = 0;
    let reading = 0;
    let since = 0;
    const timedRead = async <T>(step: () => Promise<T>): Promise<T> => {
      if (reading++ === 0) since = nowMs();
      try {
        return await step();
      } finally {
        if (--reading === 0) readMs += nowMs() - since;
      }
    };
    const api = await KubeApi.fromKubeConfig(kc);
    const requests: LoggedRequest[] = [];
    const request = api.request.bind(api);
    // Options are optional (namespaceExists sends none).
    api.request = (path: string, options?: RequestOptions) => {
      const query: Record<string, string> = {};
      for (const [k, v] of Object.entries(options?.query ?? {})) if (v !== undefined) query[k] = String(v);
      requests.push({ path, query });
      return request(path, options);
    };
    const reader = new LiveReader(api);
    const read = reader.read.bind(reader);
    reader.read = (scope) => timedRead(() => read(scope));
    // A cluster-wide run reads namespace by namespace between its checks: the time inside the reader's steps is read time.
    const eachNamespace = reader.eachNamespace.bind(reader);
    reader.eachNamespace = async function* (scope) {
      const namespaces = eachNamespace(scope);
      for (;;) {
        const next = await timedRead(() => namespaces.next());
        if (next.done) return;
        yield next.value;
      }
    };
    const t0 = nowMs();
    const report = await diagnose({ runId: 'bench', log: silentLogger, clock: () => new Date(), reclaimMemory: heapReclaimer() }, reader, timed, { namespace });
    const wallMs = nowMs() - t0;
    api.close();
    const checksMs = Object.values(checkMs).reduce((a, b) => a + b, 0);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    const phases = {
      readMs: r1(readMs),
      checksMs: r1(checksMs),
      otherMs: r1(wallMs - readMs - checksMs),
      checkMs: Object.fromEntries(Object.entries(checkMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, r1(v)])),
    };
    return { api, requests, report, wallMs, phases };
  };
  const cold = await once();
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const heapUsedBytes = process.memoryUsage().heapUsed;
  const warm = warmToo ? await once() : undefined;
  const { api, requests, report } = cold;
  const symptoms = new Map<string, number>();
  for (const f of report.findings) if (f.causedBy) symptoms.set(f.causedBy, (symptoms.get(f.causedBy) ?? 0) + 1);
  return {
    wallMs: cold.wallMs,
    ...(warm ? { warmWallMs: warm.wallMs } : {}),
    apiCalls: api.calls,
    bytesRead: api.bytesRead,
    peakRssBytes,
    heapUsedBytes,
    objects: report.stats.objects,
    requests,
    findings: report.findings.map((f) => ({
      title: f.title,
      check: f.check,
      subject: `${f.subject.kind}/${f.subject.namespace ? f.subject.namespace + '/' : ''}${f.subject.name}`,
      rootCause: f.rootCause,
      symptoms: symptoms.get(f.id) ?? 0,
    })),
    readErrors: report.readErrors.length,
    phases: cold.phases,
  };
}

async function floor(kubeconfig: string, requestsFile: string, parse: boolean): Promise<FloorResult> {
  const requests = JSON.parse(fs.readFileSync(requestsFile, 'utf8')) as LoggedRequest[];
  // Lists: one chain per collection, each page with the limit the reader asked for (a first page, without a
  // continue token, starts the chain again); everything else as is.
  const chains = new Map<string, Record<string, string>[]>();
  const singles: LoggedRequest[] = [];
  for (const r of requests) {
    if (r.query.limit === undefined) singles.push(r);
    else if (!r.query.continue) chains.set(r.path, [r.query]);
    else chains.get(r.path)?.push(r.query);
  }
  const url = (path: string, query: Record<string, string>) => {
    const q = new URLSearchParams(query).toString();
    return q ? `${path}?${q}` : path;
  };
  const creds = credsFromKubeconfig(kubeconfig);
  // parse: each body decoded and given to JSON.parse (then dropped), as any JSON client must.
  const once = async (parse = false) => {
    const client = new BareClient(creds, 16);
    const t0 = nowMs();
    await Promise.all([
      ...[...chains].map(async ([path, pages]) => {
        let token: string | undefined;
        let page = 0;
        do {
          const q: Record<string, string> = { ...pages[Math.min(page++, pages.length - 1)]! };
          delete q.continue;
          if (token) q.continue = token;
          if (parse) {
            const list = JSON.parse((await client.request('GET', url(path, q))).body) as { metadata?: { continue?: string } };
            token = list.metadata?.continue || undefined;
          } else {
            const head = (await client.request('GET', url(path, q), undefined, { keep: false, peek: 1024 })).body.slice(0, 1024);
            token = /"continue":"([^"]+)"/.exec(head)?.[1];
          }
        } while (token);
      }),
      // Logs are text: decoded, not parsed.
      ...singles.map((r) => client.request('GET', url(r.path, r.query), undefined, { keep: parse }).then((a) => (parse && !r.path.endsWith('/log') ? (JSON.parse(a.body) as unknown) : undefined), () => undefined)),
    ]);
    const wallMs = nowMs() - t0;
    client.close();
    return { wallMs, client };
  };
  const cold = await once();
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const warm = await once();
  const parsed = parse ? await once(true) : undefined;
  return { wallMs: cold.wallMs, warmWallMs: warm.wallMs, ...(parsed ? { parseWallMs: parsed.wallMs } : {}), apiCalls: cold.client.calls, bytesRead: cold.client.bytesRead, peakRssBytes };
}

/** What a cluster-wide run holds as it goes namespace by namespace (run with --expose-gc). */
async function liveHeap(kubeconfig: string, workflowName: string): Promise<LiveHeapResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('heap mode needs node --expose-gc');
  const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ file: kubeconfig, env: {} }));
  const reader = new LiveReader(api);
  const eachNamespace = reader.eachNamespace.bind(reader);
  const heapNow = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  const result = { sharedHeapBytes: 0, maxHeapBytes: 0, namespaces: 0 };
  reader.eachNamespace = async function* (scope) {
    for await (const namespace of eachNamespace(scope)) {
      yield namespace;
      // The stream starts beside the shared read: the shared part is whole once the first namespace is checked.
      if (++result.namespaces === 1) result.sharedHeapBytes = heapNow();
      else if (result.namespaces % 10 === 0) result.maxHeapBytes = Math.max(result.maxHeapBytes, heapNow());
    }
  };
  await diagnose({ runId: 'bench', log: silentLogger, clock: () => new Date() }, reader, pickWorkflow(loadWorkflows(CHECKS), workflowName), {});
  api.close();
  result.maxHeapBytes = Math.max(result.maxHeapBytes, result.sharedHeapBytes);
  return result;
}

async function main(): Promise<void> {
  const [mode, kubeconfig, a, b] = process.argv.slice(2);
  if (!kubeconfig || !a) throw new Error('usage: diagnose-child.ts live|cold|heap|floor|parse-floor <kubeconfig> <workflow [namespace] | requests.json>');
  const result =
    mode === 'live' || mode === 'cold' ? await live(kubeconfig, a, b, mode === 'live') : mode === 'heap' ? await liveHeap(kubeconfig, a) : await floor(kubeconfig, a, mode === 'parse-floor');
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
