// Machine facts, the results file and the printed table.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Figure } from './stats';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  go?: string;
  kubernetes?: string;
  etcd?: string;
  redis?: string;
  /** 1/5/15-minute load averages when the run started and ended (other work on a shared machine skews absolute times). */
  loadAverage?: { start: number[]; end?: number[] };
}

export interface Row {
  n: string;
  benchmark: string;
  value: string;
  target: string;
  verdict: string;
}

export interface Results {
  schema: 'netdoctor.bench/v1';
  date: string;
  durationS?: number;
  /** When each stage's figures were measured (a run with --only keeps the others from the earlier file). */
  stages?: Record<string, string>;
  machine: Machine;
  table: Row[];
  benchmarks: Record<string, unknown>;
  notes: string[];
}

function cmd(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

function modVersion(goMod: string, module: string): string | undefined {
  try {
    const line = fs.readFileSync(goMod, 'utf8').split('\n').find((l) => l.trim().startsWith(`${module} v`));
    return line?.trim().split(/\s+/)[1];
  } catch {
    return undefined;
  }
}

export function machineFacts(repo: string): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    go: cmd('go', ['env', 'GOVERSION']),
    kubernetes: modVersion(path.join(repo, 'test/cluster/go/k8s/go.mod'), 'k8s.io/kubernetes'),
    etcd: modVersion(path.join(repo, 'test/cluster/go/etcd/go.mod'), 'go.etcd.io/etcd/server/v3'),
    redis: cmd(process.env.NETDOCTOR_REDIS_SERVER ?? 'redis-server', ['--version'])?.match(/v=(\S+)/)?.[1],
    loadAverage: { start: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  };
}

/** "412 ms [398–440, n=10]" */
export function fmt(f: Figure, unit: string, digits = 0): string {
  const n = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  return `${n(f.median)} ${unit} [${n(f.min)}–${n(f.max)}, n=${f.runs}]`;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function renderTable(rows: Row[]): string {
  const head: Row = { n: '#', benchmark: 'Benchmark', value: 'Figure (median [min–max, runs])', target: 'Target', verdict: 'Result' };
  const cols: (keyof Row)[] = ['n', 'benchmark', 'value', 'target', 'verdict'];
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [head, ...rows].map((r) => `| ${cols.map((c) => esc(r[c])).join(' | ')} |`);
  lines.splice(1, 0, `| ${cols.map(() => '---').join(' | ')} |`);
  return lines.join('\n');
}

export function writeResults(file: string, results: Results): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

export function readResults(file: string): Results | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Results) : undefined;
}

/** Which stage of `npm run bench` wrote a row, a benchmarks entry or a note. */
const ROW_STAGE: Record<string, string> = { '1': 'cli', '2': 'namespace', '3': 'scale', '4': 'queue', '5': 'ack', '6': 'peer', '7': 'dump' };
const BENCHMARK_STAGE: Record<string, string> = {
  cliColdStart: 'cli', namespaceDiagnosis: 'namespace', peerNamespace: 'namespace', clusterDigestScaling: 'scale', queueThroughput: 'queue',
  endToEnd: 'queue', slashAck: 'ack', slashAckBackgroundDiagnoses: 'ack', redisDown: 'ack', k8sgptBuild: 'peer', peerSeeds: 'peer', peerScenarios: 'peer', dumpRead: 'dump',
};
const NOTE_STAGE: [string, string][] = [['CLI cold start', 'cli'], ['Namespace diagnosis', 'namespace'], ['Cluster digest', 'scale'], ['Ack p99', 'ack'], ['Ack isolation', 'ack'], ['With Redis stopped', 'ack'], ['k8sgpt', 'peer'], ['Dump reading', 'dump']];
const rowStage = (r: Row) => (r.benchmark.startsWith('Peer on the large namespace') ? 'namespace' : ROW_STAGE[r.n]);
const noteStage = (n: string) => NOTE_STAGE.find(([prefix]) => n.startsWith(prefix))?.[1];

/**
 * A run of some stages (`--only`) keeps the earlier results file's figures of the other stages,
 * and `stages` says when each stage's figures were measured.
 */
export function carryOver(fresh: Results, earlier: Results | undefined, ran: string[]): Results {
  const stages: Record<string, string> = { ...(earlier?.stages ?? {}) };
  for (const s of ran) stages[s] = fresh.date;
  if (!earlier) return { ...fresh, stages };
  const kept = (stage: string | undefined) => stage !== undefined && !ran.includes(stage);
  for (const s of Object.values(ROW_STAGE)) if (kept(s)) stages[s] ??= earlier.date;
  const order = Object.values(ROW_STAGE);
  const table = [...earlier.table.filter((r) => kept(rowStage(r))), ...fresh.table].sort((a, b) => order.indexOf(rowStage(a)!) - order.indexOf(rowStage(b)!));
  const benchmarks = { ...Object.fromEntries(Object.entries(earlier.benchmarks).filter(([k]) => kept(BENCHMARK_STAGE[k]))), ...fresh.benchmarks };
  const notes = [...earlier.notes.filter((n) => kept(noteStage(n))), ...fresh.notes];
  return { ...fresh, stages, table, benchmarks, notes };
}
