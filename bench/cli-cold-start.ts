// Benchmark 1 — CLI cold start: `node bin/netdoctor.js diagnose triton --from <seed scenario>`,
// wall time from process spawn to exit (module loading, workflow parsing, dump reading, all
// checks, text rendering). Target < 1 s.
import * as path from 'node:path';
import { figure, run, type Figure } from './stats';

export interface CliColdStart {
  scenario: string;
  wallMs: Figure;
  /** `node -e 0` on the same machine in the same run: the floor no Node CLI can go under. */
  nodeBaselineMs: Figure;
  rootCauseFound: string;
  targetMs: number;
  met: boolean;
}

export async function benchCliColdStart(repo: string, scenarioDir: string, runs: number): Promise<CliColdStart> {
  const bin = path.join(repo, 'bin', 'netdoctor.js');
  const args = [bin, 'diagnose', 'triton', '--from', scenarioDir, '--output', 'json'];
  const env = { ...process.env, NO_COLOR: '1' };
  // One warm-up of each (file cache), then interleaved runs so drift hits both alike.
  const first = await run(process.execPath, args, { cwd: repo, env });
  if (first.code !== 0) throw new Error(`netdoctor diagnose failed (exit ${first.code}): ${first.stderr.slice(0, 500)}`);
  await run(process.execPath, ['-e', '0']);
  const cli: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(process.execPath, args, { cwd: repo, env });
    if (r.code !== 0) throw new Error(`netdoctor diagnose failed (exit ${r.code})`);
    cli.push(r.wallMs);
    base.push((await run(process.execPath, ['-e', '0'])).wallMs);
  }
  const report = JSON.parse(first.stdout) as { findings: { title: string; rootCause: boolean; causedBy?: string }[] };
  const root = report.findings.find((f) => f.rootCause) ?? report.findings[0];
  const wallMs = figure(cli);
  return {
    scenario: path.basename(scenarioDir),
    wallMs,
    nodeBaselineMs: figure(base),
    rootCauseFound: root?.title ?? '(none)',
    targetMs: 1000,
    met: wallMs.median < 1000 && wallMs.max < 1000,
  };
}
