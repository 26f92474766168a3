// kube-score (a third-party chart linter, built from the Go module proxy by deploy/tools/build-kube-score.sh)
// on every rendered variant of the chart and the kustomize base. Only the checks listed, each with its reason,
// in deploy/kube-score-ignores.yaml may be skipped; every other warning or critical finding fails.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { runBuildScript } from '../../cluster/build-script';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'netdoctor');
const IGNORES = path.join(ROOT, 'deploy', 'kube-score-ignores.yaml');

interface IgnoreList {
  tests: { id: string; reason: string }[];
  flags: { flag: string; reason: string }[];
}

function readIgnores(): IgnoreList {
  const list = parse(fs.readFileSync(IGNORES, 'utf8')) as IgnoreList;
  for (const entry of [...list.tests, ...list.flags]) {
    if (typeof entry.reason !== 'string' || entry.reason.trim().length < 20) throw new Error(`${IGNORES}: every ignore needs its reason: ${JSON.stringify(entry)}`);
  }
  return list;
}

/** The chart's variants: values files and --set pairs, as an operator would install them. */
const VARIANTS: { name: string; args: string[] }[] = [
  { name: 'single (defaults)', args: [] },
  { name: 'multi-cluster', args: ['-f', path.join(CHART, 'ci', 'multi-values.yaml')] },
  { name: 'external Redis', args: ['-f', path.join(CHART, 'ci', 'external-redis-values.yaml')] },
  { name: 'high availability (Sentinel, replicas)', args: ['-f', path.join(CHART, 'ci', 'ha-values.yaml')] },
  { name: 'remediation', args: ['--set', 'remediation.enabled=true'] },
  { name: 'cni-install', args: ['--set', 'remediation.enabled=true', '--set', 'remediation.cniInstall=true'] },
];

describe('kube-score on the rendered chart and kustomize base', () => {
  let helm: string;
  let kustomize: string;
  let kubeScore: string;
  const ignores = readIgnores();

  beforeAll(async () => {
    const tools = await runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-helm.sh'));
    helm = path.join(tools, 'helm');
    kustomize = path.join(tools, 'kustomize');
    kubeScore = path.join(await runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-kube-score.sh')), 'kube-score');
  }, 1_800_000);

  interface Scored {
    object_name: string;
    checks: { check: { id: string }; grade: number; skipped: boolean; comments: { summary: string; path?: string }[] | null }[];
  }

  /** "Kind/group/version/namespace/name check-id: summary" for every warning (grade 5) or critical (grade 1) kube-score reports. */
  function findings(manifests: string, opts: { withoutIgnore?: string } = {}): string[] {
    const args = ['score', '-', '--output-format', 'json', '--kubernetes-version', 'v1.36'];
    for (const t of ignores.tests) if (t.id !== opts.withoutIgnore) args.push('--ignore-test', t.id);
    for (const f of ignores.flags) if (f.flag !== opts.withoutIgnore) args.push(f.flag);
    const r = spawnSync(kubeScore, args, { input: manifests, encoding: 'utf8', maxBuffer: 16 << 20 });
    if (r.error || !r.stdout.startsWith('[')) throw new Error(`kube-score failed (status ${r.status}): ${r.stderr}`);
    return (JSON.parse(r.stdout) as Scored[]).flatMap((o) =>
      o.checks
        .filter((c) => !c.skipped && c.grade <= 5)
        .flatMap((c) => (c.comments ?? [{ summary: '' }]).map((m) => `${o.object_name} ${c.check.id}: ${m.path ? `(${m.path}) ` : ''}${m.summary}`)),
    );
  }

  const helmTemplate = (args: string[]): string =>
    execFileSync(helm, ['template', 'netdoctor', CHART, '--namespace', 'netdoctor', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const kustomizeBuilds = (): { dir: string; rendered: string }[] =>
    ['base', ...fs.readdirSync(path.join(ROOT, 'deploy', 'kustomize', 'overlays')).map((d) => `overlays/${d}`)].map((dir) => ({
      dir,
      rendered: execFileSync(kustomize, ['build', path.join(ROOT, 'deploy', 'kustomize', dir)], { encoding: 'utf8', maxBuffer: 16 << 20 }),
    }));

  it.each(VARIANTS)('chart, $name: no warning or critical finding besides the documented ignores', ({ args }) => {
    expect(findings(helmTemplate(args))).toEqual([]);
  });

  it('kustomize base and overlays: no warning or critical finding besides the documented ignores', () => {
    for (const { dir, rendered } of kustomizeBuilds()) expect({ dir, findings: findings(rendered) }).toEqual({ dir, findings: [] });
  });

  it('every documented ignore is still needed: without it, kube-score reports something on some variant', () => {
    const renderings = [...VARIANTS.map((v) => helmTemplate(v.args)), ...kustomizeBuilds().map((k) => k.rendered)];
    for (const ignore of [...ignores.tests.map((t) => t.id), ...ignores.flags.map((f) => f.flag)]) {
      const reported = renderings.flatMap((r) => findings(r, { withoutIgnore: ignore }));
      expect({ ignore, needed: reported.length > 0 }).toEqual({ ignore, needed: true });
    }
  });
});
