// Benchmark 1 — CLI cold start: `node bin/netdoctor.js diagnose triton --from <seed scenario>`,
// wall time from process spawn to exit (module loading, workflow parsing, dump reading, all
// checks, text rendering). Target < 1 s.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { figure, run, type Figure } from './stats';

export interface CliColdStart {
  scenario: string;
  wallMs: Figure;
  /** `node -e 0` on the same machine in the same run: the floor no Node CLI can go under. */
  nodeBaselineMs: Figure;
  /** `node -e "require('dist/cli/main.js')"`: loading the CLI's modules, before any work. */
  requireMainMs: Figure;
  /** Modules of other commands that dist/cli/main.js requires at load time (paid by every command). */
  eagerImports: string[];
  /** The CLI process's own CPU time (user + system): what it costs when it gets a core. */
  cpuMs: Figure;
  peakRssBytes: Figure;
  rootCauseFound: string;
  targetMs: number;
  met: boolean;
}

export async function benchCliColdStart(repo: string, scenarioDir: string, runs: number): Promise<CliColdStart> {
  const bin = path.join(repo, 'bin', 'netdoctor.js');
  const args = [bin, 'diagnose', 'triton', '--from', scenarioDir, '--output', 'json'];
  const cpuFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-cli-')), 'cpu.json');
  const env = { ...process.env, NO_COLOR: '1', BENCH_CPU_FILE: cpuFile };
  const measured = ['-r', path.join(__dirname, 'cpu-usage.js'), ...args];
  // One warm-up of each (file cache), then interleaved runs so drift hits both alike.
  const first = await run(process.execPath, args, { cwd: repo, env });
  if (first.code !== 0) throw new Error(`netdoctor diagnose failed (exit ${first.code}): ${first.stderr.slice(0, 500)}`);
  await run(process.execPath, ['-e', '0']);
  const cli: number[] = [];
  const base: number[] = [];
  const cpu: number[] = [];
  const load: number[] = [];
  const main = path.join(repo, 'dist', 'cli', 'main.js');
  const mainText = fs.readFileSync(main, 'utf8');
  const eagerImports = ['serve-command', 'worker-command'].filter((m) => new RegExp(`^(const|var|let) .*require\\("\\./${m}"\\)`, 'm').test(mainText));
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(process.execPath, measured, { cwd: repo, env });
    if (r.code !== 0) throw new Error(`netdoctor diagnose failed (exit ${r.code})`);
    cli.push(r.wallMs);
    const u = JSON.parse(fs.readFileSync(cpuFile, 'utf8')) as { userMs: number; systemMs: number; maxRssKb: number };
    cpu.push(u.userMs + u.systemMs);
    rss.push(u.maxRssKb * 1024);
    base.push((await run(process.execPath, ['-e', '0'])).wallMs);
    load.push((await run(process.execPath, ['-e', `require(${JSON.stringify(main)})`], { cwd: repo })).wallMs);
  }
  const report = JSON.parse(first.stdout) as { findings: { title: string; rootCause: boolean; causedBy?: string }[] };
  const root = report.findings.find((f) => f.rootCause) ?? report.findings[0];
  const wallMs = figure(cli);
  fs.rmSync(path.dirname(cpuFile), { recursive: true, force: true });
  return {
    cpuMs: figure(cpu),
    requireMainMs: figure(load),
    eagerImports,
    peakRssBytes: figure(rss),
    scenario: path.basename(scenarioDir),
    wallMs,
    nodeBaselineMs: figure(base),
    rootCauseFound: root?.title ?? '(none)',
    targetMs: 1000,
    met: wallMs.median < 1000,
  };
}
