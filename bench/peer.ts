// Benchmark 6 — the peer: k8sgpt (`k8sgpt analyze`, no --explain, no AI backend) against the
// same loaded seed scenarios, side by side with netdoctor's live diagnosis.
//
// k8sgpt is built from the Go module proxy (GOFLAGS=-mod=mod go install …@<version>) into a
// cache dir like test/cluster/build.sh's. If the proxy does not serve it, or it does not
// build, the exact error is recorded in the results instead of a figure.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScenario } from '../test/cluster/load-scenario';
import { liveRun } from './child';
import type { BenchEnv } from './cluster-env';
import { figure, run, type Figure } from './stats';

export const K8SGPT_MODULE = 'github.com/k8sgpt-ai/k8sgpt';

export interface K8sgptBuild {
  available: boolean;
  version?: string;
  bin?: string;
  /** The go command's own words when the module is not served or does not build (proxy host redacted). */
  error?: string;
}

export interface SeedSideBySide {
  scenario: string;
  expected: string;
  netdoctor: { wallMs: Figure; apiCalls: number; rootCauses: string[]; findings: number; foundExpected: boolean };
  k8sgpt: { wallMs?: Figure; problems?: string[]; foundExpected?: boolean; notMeasured?: string };
}

function goCmd(args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('go', args, { env, cwd, timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
    });
  });
}

/** Never name a registry host in results: keep the go command's message, not the URL's host. */
function redact(s: string): string {
  return s.replace(/https?:\/\/[^/\s]+/g, '<module proxy>');
}

/** Asks the module proxy for k8sgpt's versions (one look-up), then builds the newest into the cache. */
export async function buildK8sgpt(log: (l: string) => void): Promise<K8sgptBuild> {
  const cacheRoot = process.env.NETDOCTOR_CACHE ?? path.join(os.homedir(), '.cache', 'netdoctor');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-k8sgpt-'));
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off', CGO_ENABLED: '0' };
  try {
    const list = await goCmd(['list', '-m', '-versions', '-json', K8SGPT_MODULE], env, tmp, 120_000);
    if (list.code !== 0) return { available: false, error: redact(list.out) };
    const versions = (JSON.parse(list.out) as { Versions?: string[] }).Versions ?? [];
    const version = versions.filter((v) => !v.includes('-')).pop();
    if (!version) return { available: false, error: `${K8SGPT_MODULE}: the proxy lists no release version` };
    const dir = path.join(cacheRoot, `k8sgpt-${version}`);
    const bin = path.join(dir, 'k8sgpt');
    if (fs.existsSync(bin)) return { available: true, version, bin };
    log(`building k8sgpt ${version} (niced; first run only) ...`);
    fs.mkdirSync(dir, { recursive: true });
    const build = await goCmd(['install', '-trimpath', `${K8SGPT_MODULE}@${version}`], { ...env, GOBIN: dir, GOFLAGS: '-mod=mod -p=2' }, tmp, 40 * 60_000);
    if (build.code !== 0 || !fs.existsSync(bin)) return { available: false, version, error: redact(build.out.split('\n').slice(-15).join('\n')) };
    return { available: true, version, bin };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** k8sgpt analyze (no AI) on one namespace; returns its problem texts. */
async function k8sgptAnalyze(bin: string, kubeconfig: string, namespace: string): Promise<{ wallMs: number; problems: string[] }> {
  const r = await run(bin, ['analyze', '--kubeconfig', kubeconfig, '--namespace', namespace, '--filter', 'Pod,Service,Deployment,ReplicaSet,Node,Ingress,StatefulSet', '--output', 'json'], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`k8sgpt analyze exited ${r.code}: ${r.stderr.slice(-500)}`);
  const out = JSON.parse(r.stdout) as { results?: { kind: string; name: string; error?: { Text: string }[] }[] | null };
  const problems = (out.results ?? []).flatMap((x) => (x.error ?? []).map((e) => `${x.kind} ${x.name}: ${e.Text}`));
  return { wallMs: r.wallMs, problems };
}

export async function benchPeerSeeds(
  env: BenchEnv,
  k8sgpt: K8sgptBuild,
  seeds: { dir: string; expected: string; match: RegExp }[],
  reps: number,
  log: (l: string) => void,
): Promise<SeedSideBySide[]> {
  const out: SeedSideBySide[] = [];
  for (const seed of seeds) {
    const scenario = await loadScenario(seed.dir, { kubelet: env.kubelet });
    try {
      const walls: number[] = [];
      let last = await liveRun(env.cluster.kubeconfigPath, 'namespace-triage', 'triton'); // warm-up
      for (let i = 0; i < reps; i++) {
        last = await liveRun(env.cluster.kubeconfigPath, 'namespace-triage', 'triton');
        walls.push(last.wallMs);
      }
      const roots = last.findings.filter((f) => f.rootCause).map((f) => `${f.title} (${f.subject})`);
      const side: SeedSideBySide = {
        scenario: path.basename(seed.dir),
        expected: seed.expected,
        netdoctor: { wallMs: figure(walls), apiCalls: last.apiCalls, rootCauses: roots, findings: last.findings.length, foundExpected: roots.some((r) => seed.match.test(r)) },
        k8sgpt: {},
      };
      if (k8sgpt.available && k8sgpt.bin) {
        const kw: number[] = [];
        let problems: string[] = [];
        for (let i = 0; i < reps; i++) {
          const r = await k8sgptAnalyze(k8sgpt.bin, env.cluster.kubeconfigPath, 'triton');
          kw.push(r.wallMs);
          problems = r.problems;
        }
        side.k8sgpt = { wallMs: figure(kw), problems, foundExpected: problems.some((p) => seed.match.test(p)) };
      } else {
        side.k8sgpt = { notMeasured: `k8sgpt not available: ${k8sgpt.error ?? 'unknown'}` };
      }
      log(`peer ${side.scenario}: netdoctor ${side.netdoctor.wallMs.median.toFixed(0)} ms, root causes: ${roots.join('; ') || '(none)'}`);
      out.push(side);
    } finally {
      await scenario.unload();
    }
  }
  return out;
}

export async function k8sgptOnNamespace(k8sgpt: K8sgptBuild, kubeconfig: string, namespace: string, reps: number): Promise<{ wallMs: Figure; problems: number } | { notMeasured: string }> {
  if (!k8sgpt.available || !k8sgpt.bin) return { notMeasured: `k8sgpt not available: ${k8sgpt.error ?? 'unknown'}` };
  const walls: number[] = [];
  let problems = 0;
  for (let i = 0; i < reps; i++) {
    const r = await k8sgptAnalyze(k8sgpt.bin, kubeconfig, namespace);
    walls.push(r.wallMs);
    problems = r.problems.length;
  }
  return { wallMs: figure(walls), problems };
}
