// One dump read in a fresh process (bench/dump-read.ts): `DumpReader.open(dir)` (walk, parse on spare cores, clock),
// a cluster-wide read of every kind (the snapshot's indexes) and every pod's events (the event index).
// Prints one JSON line: phases, CPU time and peak RSS; or the reader's error for a refused dump.
import { DEFAULT_DUMP_LIMITS, dumpRoot, walkDump } from '../src/cluster/dump-files';
import { parseThreadsFor } from '../src/cluster/dump-objects';
import { DumpReader } from '../src/cluster/dump-reader';
import { NetdoctorError } from '../src/domain/errors';
import { KINDS } from '../src/domain/kube-types';
import { nowMs } from './stats';

export interface DumpReadResult {
  objects: number;
  parseMs: number;
  indexMs: number;
  eventsMs: number;
  totalMs: number;
  cpuMs: number;
  peakRssBytes: number;
  /** Peak RSS before the reader ran (Node, the TypeScript loader, the modules): what the read adds is the difference. */
  baseRssBytes: number;
  eventsOnPods: number;
  /** Worker threads that parsed beside the main thread (one per spare core, when the dump repays them). */
  parseThreads: number;
}

export interface DumpRefusal {
  refused: string;
  totalMs: number;
  peakRssBytes: number;
  baseRssBytes: number;
}

/** `serial`: the constructor, which parses on the main thread alone (the reference for the threads' gain). */
async function main(dir: string, serial: boolean): Promise<DumpReadResult | DumpRefusal> {
  const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;
  const baseRssBytes = peakRssBytes();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  let reader: DumpReader;
  try {
    reader = serial ? new DumpReader(dir) : await DumpReader.open(dir);
  } catch (e) {
    if (!(e instanceof NetdoctorError)) throw e;
    return { refused: e.message, totalMs: nowMs() - t0, peakRssBytes: peakRssBytes(), baseRssBytes };
  }
  const t1 = nowMs();
  const view = await reader.read({ namespace: undefined, alsoNamespaces: [], kinds: [...KINDS] });
  const t2 = nowMs();
  let eventsOnPods = 0;
  for (const pod of view.list('Pod')) eventsOnPods += view.events({ kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '' }).length;
  const t3 = nowMs();
  const cpu = process.cpuUsage(cpu0);
  let objects = 0;
  for (const kind of KINDS) objects += view.list(kind).length;
  const parseThreads = serial ? 0 : parseThreadsFor(walkDump(dumpRoot(dir), DEFAULT_DUMP_LIMITS).files);
  return { parseThreads, objects, parseMs: t1 - t0, indexMs: t2 - t1, eventsMs: t3 - t2, totalMs: t3 - t0, cpuMs: (cpu.user + cpu.system) / 1000, peakRssBytes: peakRssBytes(), baseRssBytes, eventsOnPods };
}

main(process.argv[2]!, process.argv[3] === 'serial').then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
