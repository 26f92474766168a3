// Benchmark 3 — the cluster digest (workflow cluster-health, scope cluster) over synthetic
// clusters of growing size in the real apiserver (100 to 30,000 pods by default, 150,000 with
// --scale-150k). Sizes grow in place (each level adds namespaces of apps and nodes), so the
// 10,000-pod cluster contains the 1,000-pod one. Each namespace's first app and first Event go
// through the apiserver; the rest of its Deployments, ReplicaSets, pods, Services (with their
// IPAddresses) and Events are copies of those written straight into etcd (bench/etcd-load.ts);
// ConfigMaps go through the apiserver.
import { callBreakdown, floorRun, liveHeapRun, liveRun, type LiveHeapResult } from './child';
import type { BenchEnv } from './cluster-env';
import { EtcdLoader } from './etcd-load';
import { waitForSlices } from './namespace';
import { ensureNodes, loadNamespace, nodeNames } from './synth';
import { figure, nowMs, round, type Figure } from './stats';

export interface ScaleLevel {
  targetPods: number;
  pods: number;
  namespaces: number;
  nodes: number;
  objects: number;
  loadS: number;
  wallMs: Figure;
  apiCalls: number;
  callBreakdown: Record<string, number>;
  bytesRead: number;
  peakRssBytes: Figure;
  heapUsedBytes: number;
  findings: number;
  rootCauses: number;
  phases: import('./child').LiveResult['phases'];
  /** The median run's requests by a bare client (no parsing, no checks): what the apiserver and the wire cost alone. */
  floorMs: Figure;
  /** The median run's read phase over the floor's median. */
  readFloorRatio: number;
  /** What stays alive as the digest goes namespace by namespace (a separate run, collecting garbage at namespace boundaries). */
  liveHeap: LiveHeapResult;
}

export interface ScaleBench {
  levels: ScaleLevel[];
  /** log(t2/t1) / log(n2/n1) between consecutive levels, n = objects read. */
  timeExponents: number[];
  rssExponents: number[];
  /** The floor's exponents between consecutive levels: how the apiserver's own cost grows. */
  floorExponents: number[];
  /** The slope of log(peak RSS) over log(objects) fitted by least squares over every size: 0 is flat, 1 is linear. */
  rssExponentFit?: number;
  /** The same slope for the heap alive at namespace boundaries. */
  heapExponentFit?: number;
  stoppedBecause: string;
}

const PODS_PER_NAMESPACE = 100;
const REPLICAS = 4;
const PODS_PER_NODE = 50;

export async function benchScale(
  env: BenchEnv,
  o: { sizes: number[]; reps: number; baselinePods: number; log: (l: string) => void; deadlineMs: number },
): Promise<ScaleBench> {
  const levels: ScaleLevel[] = [];
  let pods = o.baselinePods;
  let nsCount = 0;
  let nodes: number;
  let stoppedBecause = `all sizes done (${o.sizes.join(' / ')} pods)`;
  const t0 = nowMs();
  const etcd = new EtcdLoader(`http://127.0.0.1:${env.cluster.ports.etcd}`);
  for (const target of o.sizes) {
    const elapsed = nowMs() - t0;
    if (levels.length > 0 && elapsed > o.deadlineMs) {
      stoppedBecause = `stopped before ${target} pods: the time budget for this benchmark (${round(o.deadlineMs / 60_000, 1)} min) was used up after ${round(elapsed / 60_000, 1)} min, mostly loading objects`;
      break;
    }
    const tLoad = nowMs();
    const wantNodes = Math.max(1, Math.ceil(target / PODS_PER_NODE));
    const names = nodeNames(wantNodes);
    await ensureNodes(env.kubelet, env.client, names);
    nodes = wantNodes;
    let services = 0;
    while (pods < target) {
      // Four namespaces at a time (each loads with bounded concurrency of its own).
      const batch: { ns: string; apps: number; failing: boolean }[] = [];
      for (let planned = pods; planned < target && batch.length < 4; ) {
        const want = Math.min(PODS_PER_NAMESPACE, target - planned);
        const apps = Math.max(1, Math.ceil(want / REPLICAS));
        batch.push({ ns: `scale-${String(nsCount).padStart(4, '0')}`, apps, failing: nsCount % 10 === 0 });
        planned += apps * REPLICAS;
        nsCount++;
      }
      const loaded = await Promise.all(batch.map((b) => loadNamespace(env.client, env.kubelet, {
        name: b.ns, apps: b.apps, replicas: REPLICAS, events: Math.ceil((b.apps * REPLICAS) / 2), nodes: names,
        crashing: b.failing ? 1 : 0, sandboxFailures: 0, orphanServices: b.failing ? 1 : 0, etcd,
      })));
      for (const [i, r] of loaded.entries()) {
        pods += r.objects.pods;
        services += batch[i]!.apps;
      }
    }
    const loadS = round((nowMs() - tLoad) / 1000, 1);
    o.log(`scale ${target}: ${pods} pods, ${nsCount} namespaces, ${nodes} nodes loaded in ${loadS} s`);
    await waitForSlices(env, undefined, services, o.log);
    await liveRun(env.cluster.kubeconfigPath, 'cluster-health', undefined, false); // warm-up
    const runs: Awaited<ReturnType<typeof liveRun>>[] = [];
    for (let i = 0; i < o.reps; i++) {
      const run = await liveRun(env.cluster.kubeconfigPath, 'cluster-health', undefined, false);
      runs.push(run);
      o.log(`  rep ${i + 1}/${o.reps}: ${run.wallMs.toFixed(0)} ms, ${run.apiCalls} calls, ${run.objects} objects, rss ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    // Counts, phases and the floor's requests are the median run's.
    const median = [...runs].sort((a, b) => a.wallMs - b.wallMs)[runs.length >> 1]!;
    // A fresh child does the requests twice (cold, then warm): both are samples.
    const floors = [await floorRun(env.cluster.kubeconfigPath, median.requests), await floorRun(env.cluster.kubeconfigPath, median.requests)];
    const floorMs = figure(floors.flatMap((f) => [f.wallMs, f.warmWallMs]));
    o.log(`  floor: ${floorMs.median.toFixed(0)} ms (read ${median.phases.readMs.toFixed(0)} ms, ${round(median.phases.readMs / floorMs.median, 2)}× its floor)`);
    const liveHeap = await liveHeapRun(env.cluster.kubeconfigPath, 'cluster-health');
    o.log(`  live heap: ${(liveHeap.sharedHeapBytes / 2 ** 20).toFixed(0)} MiB after the shared read and the first namespace, at most ${(liveHeap.maxHeapBytes / 2 ** 20).toFixed(0)} MiB over ${liveHeap.namespaces} namespaces`);
    levels.push({
      liveHeap,
      targetPods: target,
      pods,
      namespaces: nsCount,
      nodes,
      objects: median.objects,
      loadS,
      wallMs: figure(runs.map((r) => r.wallMs)),
      apiCalls: median.apiCalls,
      callBreakdown: callBreakdown(median.requests),
      bytesRead: median.bytesRead,
      peakRssBytes: figure(runs.map((r) => r.peakRssBytes)),
      heapUsedBytes: median.heapUsedBytes,
      findings: median.findings.length,
      rootCauses: median.findings.filter((f) => f.rootCause).length,
      phases: median.phases,
      floorMs,
      readFloorRatio: round(median.phases.readMs / floorMs.median, 2),
    });
  }
  const exp = (f: (l: ScaleLevel) => number) =>
    levels.slice(1).map((l, i) => round(Math.log(f(l) / f(levels[i]!)) / Math.log(l.objects / levels[i]!.objects), 2));
  if (levels.length === o.sizes.length) {
    const big = levels[levels.length - 1]!;
    stoppedBecause = `all sizes done (${o.sizes.join(' / ')} pods); loading the largest size took ${big.loadS} s (copies of the first app written straight into etcd), ` +
      'and it grows with the pods: `--scale-150k` adds 150,000, BENCH_SCALE_SIZES picks any sizes';
  }
  const rssFit = levels.length > 1 ? logLogSlope(levels.map((l) => [l.objects, l.peakRssBytes.median])) : undefined;
  return {
    levels,
    timeExponents: exp((l) => l.wallMs.median),
    rssExponents: exp((l) => l.peakRssBytes.median),
    floorExponents: exp((l) => l.floorMs.median),
    ...(rssFit !== undefined ? { rssExponentFit: round(rssFit, 2) } : {}),
    ...(levels.length > 1 ? { heapExponentFit: round(logLogSlope(levels.map((l) => [l.objects, l.liveHeap.maxHeapBytes])), 2) } : {}),
    stoppedBecause,
  };
}

/** Least-squares slope of log y over log x. */
function logLogSlope(points: [number, number][]): number {
  const xs = points.map(([x]) => Math.log(x));
  const ys = points.map(([, y]) => Math.log(y));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const cov = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const varX = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return cov / varX;
}
