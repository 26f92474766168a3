// Benchmark 7 — offline dump reading (issue 20, item 4): a synthetic dump of 200,000 objects
// (bench/dump-synth.ts) read by DumpReader.open in fresh processes (bench/dump-child.ts): parse, index,
// every pod's events; wall and CPU time, peak RSS; the same read on the main thread alone (the constructor),
// interleaved; the same objects again as JSON. Then one 200 MB file, which the reader must
// refuse with a clear error before reading it (per-file limit 64 MiB), within a small memory bound.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_DUMP_LIMITS } from '../src/cluster/dump-files';
import type { DumpReadResult, DumpRefusal } from './dump-child';
import { writeLargeFile, writeSyntheticDump } from './dump-synth';
import { figure, nowMs, round, run, type Figure } from './stats';

export interface DumpReadBench {
  objects: number;
  files: number;
  bytes: number;
  /** Worker threads that parsed beside the main thread. */
  parseThreads: number;
  generateMs: number;
  wallMs: Figure;
  cpuMs: Figure;
  parseMs: Figure;
  indexMs: Figure;
  eventsMs: Figure;
  peakRssBytes: Figure;
  /** The same read with every file parsed on the main thread (\`new DumpReader\`), runs interleaved with the threaded ones. */
  serial: { wallMs: Figure; cpuMs: Figure; peakRssBytes: Figure };
  /** Peak RSS of the process before the reader ran (Node, the TypeScript loader, the modules). */
  baseRssBytes: number;
  /** What the read adds to peak RSS, per byte of object files: with the 256 MiB total limit, the reader's memory bound. */
  rssPerDumpByte: number;
  largeFile: { bytes: number; refused: string | undefined; wallMs: number; addedRssBytes: number };
  /** The same objects as one compact JSON List per namespace (`kubectl get -o json`): JSON.parse instead of js-yaml. */
  json: { bytes: number; wallMs: Figure; cpuMs: Figure; parseMs: Figure; peakRssBytes: Figure };
  targetMs: number;
  /** The most a refused file may add to peak RSS: it is refused from its size, before any byte is read. */
  largeFileRssTargetBytes: number;
}

const CHILD = path.join(__dirname, 'dump-child.ts');
const REGISTER = path.join(__dirname, '..', 'scripts', 'ts-register.js');

async function child(dir: string, serial = false): Promise<DumpReadResult | DumpRefusal> {
  const r = await run(process.execPath, ['-r', REGISTER, CHILD, dir, ...(serial ? ['serial'] : [])], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`dump-child failed (exit ${r.code}): ${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as DumpReadResult | DumpRefusal;
}

export async function benchDumpRead(objects: number, runs: number, log: (line: string) => void): Promise<DumpReadBench> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-dump-'));
  try {
    const dir = path.join(tmp, 'dump');
    const t0 = nowMs();
    const made = writeSyntheticDump(dir, objects);
    const generateMs = nowMs() - t0;
    log(`7/7 dump: ${made.objects} objects in ${made.files} files, ${(made.bytes / 2 ** 20).toFixed(0)} MiB of YAML (written in ${(generateMs / 1000).toFixed(0)} s)`);
    const reads: DumpReadResult[] = [];
    const serialReads: DumpReadResult[] = [];
    // Interleaved, so both see the same machine (its speed drifts by tens of percent over minutes).
    for (let i = 0; i < runs; i++) {
      for (const serial of [false, true]) {
        const r = await child(dir, serial);
        if ('refused' in r) throw new Error(`the synthetic dump was refused: ${r.refused}`);
        (serial ? serialReads : reads).push(r);
        log(`7/7 dump: ${serial ? 'serial ' : ''}read ${i + 1}/${runs} in ${r.totalMs.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms), peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      }
    }
    const jsonDir = path.join(tmp, 'dump-json');
    const madeJson = writeSyntheticDump(jsonDir, objects, 'json');
    const jsonReads: DumpReadResult[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await child(jsonDir);
      if ('refused' in r) throw new Error(`the synthetic JSON dump was refused: ${r.refused}`);
      jsonReads.push(r);
      log(`7/7 dump: JSON read ${i + 1}/${runs} in ${r.totalMs.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms), peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const large = path.join(tmp, 'large', 'objects.yaml');
    const largeBytes = writeLargeFile(dir, large, 200 * 10 ** 6);
    const refusal = await child(path.dirname(large));
    const peak = figure(reads.map((r) => r.peakRssBytes));
    const base = Math.min(...reads.map((r) => r.baseRssBytes));
    return {
      objects: made.objects,
      files: made.files,
      parseThreads: reads[0]!.parseThreads,
      bytes: made.bytes,
      generateMs: round(generateMs, 0),
      wallMs: figure(reads.map((r) => r.totalMs)),
      cpuMs: figure(reads.map((r) => r.cpuMs)),
      parseMs: figure(reads.map((r) => r.parseMs)),
      indexMs: figure(reads.map((r) => r.indexMs)),
      eventsMs: figure(reads.map((r) => r.eventsMs)),
      peakRssBytes: peak,
      serial: {
        wallMs: figure(serialReads.map((r) => r.totalMs)),
        cpuMs: figure(serialReads.map((r) => r.cpuMs)),
        peakRssBytes: figure(serialReads.map((r) => r.peakRssBytes)),
      },
      baseRssBytes: base,
      rssPerDumpByte: round((peak.median - base) / made.bytes, 2),
      largeFile: {
        bytes: largeBytes,
        refused: 'refused' in refusal ? refusal.refused : undefined,
        wallMs: round(refusal.totalMs, 1),
        addedRssBytes: refusal.peakRssBytes - refusal.baseRssBytes,
      },
      json: {
        bytes: madeJson.bytes,
        wallMs: figure(jsonReads.map((r) => r.totalMs)),
        cpuMs: figure(jsonReads.map((r) => r.cpuMs)),
        parseMs: figure(jsonReads.map((r) => r.parseMs)),
        peakRssBytes: figure(jsonReads.map((r) => r.peakRssBytes)),
      },
      targetMs: 10_000,
      largeFileRssTargetBytes: 16 * 2 ** 20,
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** What a dump within the total limit may cost in memory, from the measured RSS per byte. */
export const dumpMemoryBoundBytes = (b: DumpReadBench): number => b.baseRssBytes + b.rssPerDumpByte * DEFAULT_DUMP_LIMITS.maxTotalBytes;
