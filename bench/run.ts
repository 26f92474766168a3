// `npm run bench`: every benchmark of issue 8 in one run, one table, bench/results/latest.json.
//
//   node -r ./bench/register.js bench/run.ts [--only cli,namespace,scale,queue,ack,peer] [--quick]
//                                              [--out FILE]
//
// It starts what it needs itself — the real control plane (test/cluster: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler built by test/cluster/build.sh, reused from its
// cache) and a private redis-server — and stops them at the end. Figures are medians over
// repeated runs with min/max; ratios are measured within the same run. Nothing here asserts
// on time: a missed target is reported in the table, never a failure.
import * as path from 'node:path';
import { benchCliColdStart } from './cli-cold-start';
import { fmt, machineFacts, renderTable, writeResults, type Results, type Row } from './report';
import { nowMs, round } from './stats';

const REPO = path.resolve(__dirname, '..');
const SHARED = process.env.NETDOCTOR_SHARED ?? path.resolve(REPO, '..', 'shared');
const SCENARIOS = path.join(SHARED, 'scenarios');
const ALL = ['cli', 'namespace', 'scale', 'queue', 'ack', 'peer'] as const;
type Stage = (typeof ALL)[number];

interface Options {
  only: Set<Stage>;
  quick: boolean;
  out: string;
}

function parseOptions(argv: string[]): Options {
  let only = new Set<Stage>(ALL);
  let quick = false;
  let out = path.join(REPO, 'bench', 'results', 'latest.json');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') only = new Set(argv[++i]!.split(',').map((s) => s.trim()) as Stage[]);
    else if (a === '--out') out = path.resolve(argv[++i]!);
    else throw new Error(`bench: unknown argument ${a}`);
  }
  for (const s of only) if (!ALL.includes(s)) throw new Error(`bench: unknown stage ${s} (known: ${ALL.join(', ')})`);
  return { only, quick, out };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const t0 = nowMs();
  const results: Results = {
    schema: 'netdoctor.bench/v1',
    date: new Date().toISOString(),
    machine: machineFacts(REPO),
    table: [],
    benchmarks: {},
    notes: [],
  };
  const rows: Row[] = results.table;
  const save = () => {
    results.durationS = round((nowMs() - t0) / 1000, 1);
    writeResults(opts.out, results);
  };

  if (opts.only.has('cli')) {
    log('1/6 CLI cold start');
    for (const name of ['triton-kube-proxy-config', 'triton-cni-missing']) {
      const r = await benchCliColdStart(REPO, path.join(SCENARIOS, name), opts.quick ? 5 : 15);
      (results.benchmarks.cliColdStart ??= [] as unknown[]) as unknown[];
      (results.benchmarks.cliColdStart as unknown[]).push(r);
      rows.push({
        n: '1',
        benchmark: `CLI cold start, \`diagnose triton --from ${r.scenario}\``,
        value: `${fmt(r.wallMs, 'ms')} (bare \`node -e 0\`: ${r.nodeBaselineMs.median.toFixed(0)} ms)`,
        target: '< 1 s',
        verdict: r.met ? 'met' : `missed by ${(r.wallMs.median - r.targetMs).toFixed(0)} ms`,
      });
    }
    save();
  }

  save();
  process.stdout.write(`\nnetdoctor benchmarks — ${results.date}, ${results.machine.cpus} × ${results.machine.cpuModel}, ` +
    `Node ${results.machine.node}, Kubernetes ${results.machine.kubernetes ?? '?'}\n\n${renderTable(rows)}\n\n` +
    (results.notes.length ? results.notes.map((n) => `- ${n}`).join('\n') + '\n\n' : '') +
    `written to ${path.relative(process.cwd(), opts.out)} in ${results.durationS} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
