// Where a live diagnosis spends its CPU: one run under `node --cpu-prof`, summarised as the
// functions of src/ with the most inclusive time (each function counted once per stack).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from './stats';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  fn: string;
  inclusiveMs: number;
  selfMs: number;
}

export function summarise(profile: CpuProfile, repo: string, top = 12): ProfileLine[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const name = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const file = f.url.startsWith('file://') ? f.url.slice(7) : f.url;
    return { key: `${f.functionName || '(anonymous)'} ${path.relative(repo, file)}:${f.lineNumber + 1}`, src: file.startsWith(path.join(repo, 'src')) };
  };
  const incl = new Map<string, number>();
  const self = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const own = name(id);
    if (own.src) self.set(own.key, (self.get(own.key) ?? 0) + us);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const n = name(x);
      if (n.src && !seen.has(n.key)) {
        seen.add(n.key);
        incl.set(n.key, (incl.get(n.key) ?? 0) + us);
      }
    }
  }
  return [...incl]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, inclusiveMs: Math.round(us / 1000), selfMs: Math.round((self.get(fn) ?? 0) / 1000) }));
}

/** One profiled live diagnosis in a fresh process. */
export async function profileLive(repo: string, kubeconfig: string, workflow: string, namespace?: string): Promise<ProfileLine[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-prof-'));
  try {
    const r = await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-r', path.join(__dirname, '..', 'scripts', 'ts-register.js'), path.join(__dirname, 'diagnose-child.ts'), 'live', kubeconfig, workflow, ...(namespace ? [namespace] : [])], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`profiled run failed: ${r.stderr.slice(-500)}`);
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) return [];
    return summarise(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, repo);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
