// Benchmark 6 — the peer: k8sgpt (`k8sgpt analyze --output json`, no --explain, no AI backend)
// next to `netdoctor diagnose` on every scenario of the repo (test/scenarios/** and
// ../shared/scenarios), each loaded into the live apiserver in turn.
//
// Both are measured the same way: a fresh process from spawn to exit, talking to the apiserver
// through the bench's counting proxy (bench/counting-proxy.ts), so API calls are counted alike
// (discovery and log reads included). Whether each names the scenario's root cause is judged
// from its expect.yaml: netdoctor's report by test/support/scenarios.ts (as the live-scenario
// tests do); k8sgpt's results by the same subject and wording rules, without the fix plan it
// does not have.
//
// k8sgpt is not served by the Go module proxy: bench/build-k8sgpt.sh builds it from its source
// repository into netdoctor's cache. The bench uses K8SGPT_BIN, else that cached build, else
// reports "not measured".
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Report } from '../src/domain/report';
import { loadScenario } from '../test/cluster/load-scenario';
import { scenarioMismatch, type RootCauseExpectation, type Scenario, type ScenarioExpectation } from '../test/support/scenarios';
import type { BenchEnv } from './cluster-env';
import { startCountingProxy } from './counting-proxy';
import type { Row } from './report';
import { figure, run, type Figure } from './stats';

export const NOT_MEASURED = 'not measured: set K8SGPT_BIN (or build it with bench/build-k8sgpt.sh)';

/**
 * k8sgpt's default (core) analyzers plus the two optional ones that bear on networking faults
 * netdoctor looks for: NetworkPolicy, and Log (pod logs, which netdoctor reads too).
 */
export const K8SGPT_ANALYZERS = [
  'Pod', 'DaemonSet', 'Deployment', 'ReplicaSet', 'PersistentVolumeClaim', 'Service', 'Ingress', 'StatefulSet', 'Job', 'CronJob', 'Node',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ConfigMap', 'NetworkPolicy', 'Log',
];

export interface K8sgptBuild {
  available: boolean;
  bin?: string;
  /** `k8sgpt version` as it prints it. */
  version?: string;
  from?: 'K8SGPT_BIN' | 'bench/build-k8sgpt.sh cache';
  /** The cached build's own record ("k8sgpt-<commit>-<go> built in Ns"). */
  build?: string;
  notMeasured?: string;
}

/** K8SGPT_BIN, else the newest complete build of bench/build-k8sgpt.sh in netdoctor's cache. */
export function findK8sgpt(env: NodeJS.ProcessEnv = process.env): K8sgptBuild {
  const withVersion = (b: K8sgptBuild): K8sgptBuild => {
    try {
      return { ...b, version: execFileSync(b.bin!, ['version'], { encoding: 'utf8', timeout: 30_000, env: isolatedEnv(env) }).trim() };
    } catch (e) {
      return { available: false, bin: b.bin, notMeasured: `${b.bin} does not run: ${(e as Error).message.split('\n')[0]}` };
    }
  };
  if (env.K8SGPT_BIN) {
    const bin = path.resolve(env.K8SGPT_BIN);
    if (!isExecutable(bin)) return { available: false, notMeasured: `not measured: K8SGPT_BIN=${env.K8SGPT_BIN} is not an executable file` };
    return withVersion({ available: true, bin, from: 'K8SGPT_BIN' });
  }
  const root = env.NETDOCTOR_CACHE ?? path.join(os.homedir(), '.cache', 'netdoctor');
  const builds = (fs.existsSync(root) ? fs.readdirSync(root) : [])
    .filter((d) => d.startsWith('k8sgpt-'))
    .map((d) => path.join(root, d, 'bin'))
    .filter((dir) => fs.existsSync(path.join(dir, '.complete')) && isExecutable(path.join(dir, 'k8sgpt')))
    .sort((a, b) => fs.statSync(path.join(b, '.complete')).mtimeMs - fs.statSync(path.join(a, '.complete')).mtimeMs);
  if (builds.length === 0) return { available: false, notMeasured: NOT_MEASURED };
  const dir = builds[0]!;
  return withVersion({ available: true, bin: path.join(dir, 'k8sgpt'), from: 'bench/build-k8sgpt.sh cache', build: fs.readFileSync(path.join(dir, '.complete'), 'utf8').trim() });
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** k8sgpt keeps config and cache under the user's dirs: give it empty private ones (no AI backend configured). */
let k8sgptHome: string | undefined;
function isolatedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  k8sgptHome ??= fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-k8sgpt-home-'));
  return { PATH: env.PATH, HOME: k8sgptHome, XDG_CONFIG_HOME: path.join(k8sgptHome, 'config'), XDG_CACHE_HOME: path.join(k8sgptHome, 'cache') };
}

interface K8sgptResult {
  kind: string;
  name: string;
  error?: { Text: string }[] | null;
}

export interface ToolFigures {
  wallMs: Figure;
  /** Requests through the counting proxy in one run (the last). */
  apiCalls: number;
  foundRootCause: boolean;
}

export interface ScenarioSideBySide {
  scenario: string;
  namespace: string;
  expected: string;
  netdoctor: (ToolFigures & { rootCauses: string[]; mismatch?: string }) | { error: string };
  k8sgpt: (ToolFigures & { flagsSubject: boolean; problems: string[] }) | { notMeasured: string } | { error: string };
}

/** "Service triton/mysql, mentioning selector" — what expect.yaml wants, in words. */
function describeExpectation(e: ScenarioExpectation): string {
  const one = (r: RootCauseExpectation) => {
    const subjects = r.subject ? [r.subject] : (r.anyOfSubjects ?? []);
    const who = subjects.map((s) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`).join(' or ');
    const words = r.mentions?.length ? `mentioning ${r.mentions.join(' + ')}` : '';
    return [who, words].filter(Boolean).join(', ');
  };
  if (e.rootCause === null) return 'nothing to report (healthy)';
  return [e.rootCause, ...(e.alsoRoots ?? [])].map(one).join('; and ');
}

const k8sgptNames = (r: K8sgptResult, s: { kind: string; namespace?: string; name: string }) =>
  r.kind === s.kind && r.name === (s.namespace ? `${s.namespace}/${s.name}` : s.name);

/**
 * Whether one k8sgpt result names a root cause: on the expected object (or, with no single
 * subject, any listed one or the expected wording) and with the expected words — the rules of
 * matchesExpectation() in test/support/scenarios.ts minus the fix plan and fault code.
 */
function k8sgptMatches(r: K8sgptResult, want: RootCauseExpectation): boolean {
  const text = `${r.kind} ${r.name} ${(r.error ?? []).map((e) => e.Text).join(' ')}`.toLowerCase();
  const mentioned = (want.mentions ?? []).every((m) => text.includes(m.toLowerCase()));
  if (want.subject && !k8sgptNames(r, want.subject)) return false;
  if (!want.subject && want.anyOfSubjects && !want.anyOfSubjects.some((s) => k8sgptNames(r, s)) && !(want.mentions?.length && mentioned)) return false;
  return mentioned;
}

export function judgeK8sgpt(results: K8sgptResult[], e: ScenarioExpectation): { foundRootCause: boolean; flagsSubject: boolean } {
  if (e.rootCause === null) return { foundRootCause: results.length === 0, flagsSubject: false };
  const wants = [e.rootCause, ...(e.alsoRoots ?? [])];
  const subjects = wants.flatMap((w) => (w.subject ? [w.subject] : (w.anyOfSubjects ?? [])));
  return {
    foundRootCause: wants.every((w) => results.some((r) => k8sgptMatches(r, w))),
    flagsSubject: results.some((r) => subjects.some((s) => k8sgptNames(r, s))),
  };
}

async function k8sgptAnalyze(bin: string, kubeconfig: string, namespace: string): Promise<{ wallMs: number; results: K8sgptResult[] }> {
  const args = ['analyze', '--kubeconfig', kubeconfig, '--namespace', namespace, '--filter', K8SGPT_ANALYZERS.join(','), '--no-cache', '--output', 'json'];
  const r = await run(bin, args, { timeoutMs: 300_000, env: isolatedEnv(process.env) });
  if (r.code !== 0) throw new Error(`k8sgpt analyze exited ${r.code}: ${(r.stderr || r.stdout).slice(-500)}`);
  const out = JSON.parse(r.stdout) as { results?: K8sgptResult[] | null };
  return { wallMs: r.wallMs, results: out.results ?? [] };
}

async function netdoctorDiagnose(repo: string, kubeconfig: string, namespace: string): Promise<{ wallMs: number; report: Report }> {
  const r = await run(process.execPath, [path.join(repo, 'bin', 'netdoctor.js'), 'diagnose', namespace, '--kubeconfig', kubeconfig, '--output', 'json'], { timeoutMs: 300_000, env: { PATH: process.env.PATH, HOME: os.homedir() } });
  if (r.code !== 0) throw new Error(`netdoctor diagnose exited ${r.code}: ${r.stderr.slice(-500)}`);
  return { wallMs: r.wallMs, report: JSON.parse(r.stdout) as Report };
}

const problemText = (r: K8sgptResult) => `${r.kind} ${r.name}: ${(r.error ?? []).map((e) => e.Text).join(' | ')}`;

/** Every scenario loaded in turn; per rep netdoctor then k8sgpt, each a fresh process through the counting proxy. */
export async function benchPeerScenarios(
  env: BenchEnv,
  repo: string,
  k8sgpt: K8sgptBuild,
  scenarios: Scenario[],
  reps: number,
  log: (l: string) => void,
  /** Called after each scenario with those done so far (the bench saves partial results). */
  progress: (done: ScenarioSideBySide[]) => void = () => undefined,
): Promise<ScenarioSideBySide[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-peer-'));
  const proxy = await startCountingProxy(env.cluster.kubeconfigPath, { cert: env.cluster.pki.kubeletServingCert, key: env.cluster.pki.kubeletServingKey }, dir);
  const out: ScenarioSideBySide[] = [];
  try {
    for (const [i, scenario] of scenarios.entries()) {
      const ns = scenario.expect.namespace;
      const loaded = await loadScenario(scenario.dir, { kubelet: env.kubelet });
      const side: ScenarioSideBySide = { scenario: scenario.name, namespace: ns, expected: describeExpectation(scenario.expect), netdoctor: { error: 'not run' }, k8sgpt: { notMeasured: k8sgpt.notMeasured ?? NOT_MEASURED } };
      try {
        const nd: number[] = [];
        const kg: number[] = [];
        let report: Report | undefined;
        let results: K8sgptResult[] | undefined;
        let ndCalls = 0;
        let kgCalls = 0;
        for (let rep = 0; rep < reps; rep++) {
          proxy.take();
          try {
            const r = await netdoctorDiagnose(repo, proxy.kubeconfigPath, ns);
            nd.push(r.wallMs);
            report = r.report;
            ndCalls = proxy.take().calls;
          } catch (e) {
            side.netdoctor = { error: (e as Error).message };
          }
          if (k8sgpt.available && k8sgpt.bin) {
            proxy.take();
            try {
              const r = await k8sgptAnalyze(k8sgpt.bin, proxy.kubeconfigPath, ns);
              kg.push(r.wallMs);
              results = r.results;
              kgCalls = proxy.take().calls;
            } catch (e) {
              side.k8sgpt = { error: (e as Error).message };
            }
          }
        }
        if (report) {
          const mismatch = scenarioMismatch(report, scenario.expect);
          side.netdoctor = {
            wallMs: figure(nd),
            apiCalls: ndCalls,
            foundRootCause: mismatch === undefined,
            rootCauses: report.findings.filter((f) => f.rootCause).map((f) => `${f.title} (${f.subject.kind}/${f.subject.namespace ? `${f.subject.namespace}/` : ''}${f.subject.name})`),
            ...(mismatch ? { mismatch } : {}),
          };
        }
        if (results) side.k8sgpt = { wallMs: figure(kg), apiCalls: kgCalls, ...judgeK8sgpt(results, scenario.expect), problems: results.map(problemText) };
      } finally {
        await loaded.unload();
      }
      const brief = (t: ScenarioSideBySide['netdoctor'] | ScenarioSideBySide['k8sgpt']) =>
        'wallMs' in t ? `${t.foundRootCause ? 'found' : 'not found'} ${t.wallMs.median.toFixed(0)} ms ${t.apiCalls} calls` : 'error' in t ? `error: ${t.error.slice(0, 120)}` : 'not measured';
      log(`peer ${i + 1}/${scenarios.length} ${side.scenario}: netdoctor ${brief(side.netdoctor)}; k8sgpt ${brief(side.k8sgpt)}`);
      out.push(side);
      progress(out);
    }
  } finally {
    await proxy.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export async function k8sgptOnNamespace(k8sgpt: K8sgptBuild, kubeconfig: string, namespace: string, reps: number): Promise<{ wallMs: Figure; problems: number } | { notMeasured: string }> {
  if (!k8sgpt.available || !k8sgpt.bin) return { notMeasured: k8sgpt.notMeasured ?? NOT_MEASURED };
  const walls: number[] = [];
  let problems = 0;
  for (let i = 0; i < reps; i++) {
    const r = await k8sgptAnalyze(k8sgpt.bin, kubeconfig, namespace);
    walls.push(r.wallMs);
    problems = r.results.length;
  }
  return { wallMs: figure(walls), problems };
}

/** The results table: one row per scenario and a summary row. */
export function peerRows(sides: ScenarioSideBySide[], k8sgpt: K8sgptBuild, total: number): Row[] {
  const fig = (t: ScenarioSideBySide['netdoctor'] | ScenarioSideBySide['k8sgpt']) =>
    'wallMs' in t ? `${t.wallMs.median.toFixed(0)} ms [${t.wallMs.min.toFixed(0)}–${t.wallMs.max.toFixed(0)}, n=${t.wallMs.runs}], ${t.apiCalls} calls` : 'error' in t ? `error: ${t.error.slice(0, 200)}` : 'not measured';
  const said = (t: ScenarioSideBySide['netdoctor'] | ScenarioSideBySide['k8sgpt']) =>
    !('wallMs' in t) ? ('error' in t ? 'error' : 'not measured') : t.foundRootCause ? 'found' : 'flagsSubject' in t && t.flagsSubject ? 'flags the object only' : 'not found';
  const rows: Row[] = sides.map((s) => ({
    n: '6',
    benchmark: `Peer on \`${s.scenario}\` (live; expected: ${s.expected})`,
    value: `netdoctor ${fig(s.netdoctor)}; k8sgpt ${fig(s.k8sgpt)}`,
    target: 'names the root cause',
    verdict: `netdoctor ${said(s.netdoctor)}; k8sgpt ${said(s.k8sgpt)}`,
  }));
  const measured = <T extends ScenarioSideBySide['netdoctor'] | ScenarioSideBySide['k8sgpt']>(ts: T[]) => ts.filter((t): t is Extract<T, ToolFigures> => 'wallMs' in t);
  const nd = measured(sides.map((s) => s.netdoctor));
  const kg = measured(sides.map((s) => s.k8sgpt));
  const summary = (ts: ToolFigures[]) =>
    ts.length === 0
      ? 'not measured'
      : `names ${ts.filter((t) => t.foundRootCause).length}/${sides.length}, median wall ${figure(ts.map((t) => t.wallMs.median)).median.toFixed(0)} ms, median ${figure(ts.map((t) => t.apiCalls)).median} API calls`;
  rows.push({
    n: '6',
    benchmark: `Peer over ${sides.length === total ? 'all ' : ''}${sides.length}${sides.length === total ? '' : ` of ${total}`} scenarios (test/scenarios and ../shared/scenarios, live): netdoctor diagnose vs k8sgpt analyze (no AI)`,
    value: `netdoctor ${summary(nd)}; k8sgpt ${summary(kg)}` +
      (kg.length ? ` (flags the expected object without naming the cause in ${kg.filter((t) => !t.foundRootCause && 'flagsSubject' in t && t.flagsSubject).length} more)` : ''),
    target: 'side by side',
    verdict: k8sgpt.available ? (k8sgpt.version?.split('\n')[0] ?? 'k8sgpt') : NOT_MEASURED,
  });
  return rows;
}
