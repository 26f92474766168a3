// Benchmark 2 — one namespace at realistic size (default 1,000 apps: 3,000 pods, 1,000
// Services, 5,000 Events, a few failing pods with logs) plus the seed's kube-system, diagnosed
// live (LiveReader + diagnose, namespace-triage) against its floor: the same requests issued
// by a bare HTTPS client with no processing. Live and floor alternate in fresh processes;
// the ratio is taken per pair, so machine drift hits both sides alike.
import { callBreakdown, floorRun, liveRun, type FloorResult, type LiveResult } from './child';
import type { BenchEnv } from './cluster-env';
import { loadNamespace, type LoadStats } from './synth';
import { figure, nowMs, round, sleep, type Figure } from './stats';

export interface NamespaceBench {
  namespace: string;
  load: LoadStats;
  objects: number;
  liveMs: Figure;
  floorMs: Figure;
  ratio: Figure;
  /** Second diagnosis in the same process (a long-lived worker), against a second floor pass. */
  warmLiveMs: Figure;
  warmFloorMs: Figure;
  warmRatio: Figure;
  /** The read phase alone (requests + parsing + indexing) against the floor, per pair. */
  readRatio: Figure;
  /** The floor's requests with each body decoded and given to JSON.parse: what any JSON client pays. */
  parseFloorMs: Figure;
  /** The read phase against that parse floor, per pair: what projection, indexing and the reader's own work add. */
  readParseRatio: Figure;
  /** Where the time of the median live run went. */
  phases: LiveResult['phases'];
  apiCalls: number;
  callBreakdown: Record<string, number>;
  bytesRead: number;
  peakRssBytes: Figure;
  floorPeakRssBytes: Figure;
  rootCauses: string[];
  findings: number;
  targetRatio: number;
  met: boolean;
  warmMet: boolean;
}

/** Waits until the EndpointSlice controller has caught up with the namespace's Services (bounded). */
export async function waitForSlices(env: BenchEnv, namespace: string | undefined, services: number, log: (l: string) => void): Promise<void> {
  const path = namespace ? `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices` : '/apis/discovery.k8s.io/v1/endpointslices';
  const t0 = nowMs();
  let last = -1;
  let stable = 0;
  while (nowMs() - t0 < 180_000) {
    const n = (await env.client.json<{ items: unknown[] }>('GET', `${path}?limit=100000`)).items.length;
    if (n >= services && n === last) {
      if (++stable >= 2) break;
    } else stable = 0;
    last = n;
    await sleep(1000);
  }
  log(`endpointslices ${namespace ?? 'all'}: ${last} after ${round((nowMs() - t0) / 1000, 1)} s`);
}

export async function benchNamespace(
  env: BenchEnv,
  o: { namespace: string; apps: number; replicas: number; events: number; nodes: string[]; reps: number; log: (l: string) => void },
): Promise<NamespaceBench> {
  const load = await loadNamespace(env.client, env.kubelet, {
    name: o.namespace, apps: o.apps, replicas: o.replicas, events: o.events, nodes: o.nodes, crashing: 4, sandboxFailures: 2, orphanServices: 2,
  });
  o.log(`loaded ${o.namespace}: ${JSON.stringify(load.objects)} in ${round(load.ms / 1000, 1)} s (${load.requests} requests)`);
  await waitForSlices(env, o.namespace, o.apps, o.log);

  const kubeconfig = env.cluster.kubeconfigPath;
  const warm = await liveRun(kubeconfig, 'namespace-triage', o.namespace); // apiserver caches, page cache
  await floorRun(kubeconfig, warm.requests);
  const live: number[] = [];
  const floor: number[] = [];
  const ratio: number[] = [];
  const wLive: number[] = [];
  const wFloor: number[] = [];
  const wRatio: number[] = [];
  const rRatio: number[] = [];
  const parseFloor: number[] = [];
  const rpRatio: number[] = [];
  const runs: LiveResult[] = [];
  const rss: number[] = [];
  const floorRss: number[] = [];
  let last = warm;
  for (let i = 0; i < o.reps; i++) {
    let l: LiveResult;
    let f: FloorResult;
    if (i % 2 === 0) {
      l = await liveRun(kubeconfig, 'namespace-triage', o.namespace);
      f = await floorRun(kubeconfig, warm.requests, true);
    } else {
      f = await floorRun(kubeconfig, warm.requests, true);
      l = await liveRun(kubeconfig, 'namespace-triage', o.namespace);
    }
    live.push(l.wallMs);
    floor.push(f.wallMs);
    ratio.push(l.wallMs / f.wallMs);
    const warmLive = l.warmWallMs!; // liveRun's default: a warm run too
    wLive.push(warmLive);
    wFloor.push(f.warmWallMs);
    wRatio.push(warmLive / f.warmWallMs);
    rRatio.push(l.phases.readMs / f.wallMs);
    parseFloor.push(f.parseWallMs!); // asked for above
    rpRatio.push(l.phases.readMs / f.parseWallMs!);
    runs.push(l);
    rss.push(l.peakRssBytes);
    floorRss.push(f.peakRssBytes);
    last = l;
    o.log(`  rep ${i + 1}/${o.reps}: live ${l.wallMs.toFixed(0)} ms, floor ${f.wallMs.toFixed(0)} ms, ratio ${(l.wallMs / f.wallMs).toFixed(2)}; warm ${warmLive.toFixed(0)} / ${f.warmWallMs.toFixed(0)} ms; rss ${(l.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  }
  const r = figure(ratio);
  const wr = figure(wRatio);
  const r2 = (x: Figure): Figure => ({ ...x, median: round(x.median, 2), min: round(x.min, 2), max: round(x.max, 2) });
  const median = [...runs].sort((a, b) => a.wallMs - b.wallMs)[runs.length >> 1] ?? last;
  return {
    readRatio: r2(figure(rRatio)),
    parseFloorMs: figure(parseFloor),
    readParseRatio: r2(figure(rpRatio)),
    phases: median.phases,
    warmLiveMs: figure(wLive),
    warmFloorMs: figure(wFloor),
    warmRatio: r2(wr),
    namespace: o.namespace,
    load,
    objects: last.objects,
    liveMs: figure(live),
    floorMs: figure(floor),
    ratio: { ...r, median: round(r.median, 2), min: round(r.min, 2), max: round(r.max, 2) },
    apiCalls: last.apiCalls,
    callBreakdown: callBreakdown(last.requests),
    bytesRead: last.bytesRead,
    peakRssBytes: figure(rss),
    floorPeakRssBytes: figure(floorRss),
    rootCauses: last.findings.filter((f) => f.rootCause).map((f) => `${f.title} (${f.subject}${f.symptoms ? `, ${f.symptoms} symptoms` : ''})`),
    findings: last.findings.length,
    targetRatio: 1.5,
    met: r.median <= 1.5,
    warmMet: wr.median <= 1.5,
  };
}
