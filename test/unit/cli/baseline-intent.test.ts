import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { parseIntent } from '../../../src/checks/support/intent';
import type { Report } from '../../../src/domain/report';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (s) => (out += s), stderr: (s) => (err += s), env: { HOME: '/nonexistent' }, isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

const intentLab = join(REPO_SCENARIO_DIR, 'intent-nodeport');
const selectorLab = join(REPO_SCENARIO_DIR, 'svc-selector');

describe('netdoctor diagnose --baseline DIR', () => {
  it('compares with an older dump: the field that changed leads the evidence of the finding it touches', async () => {
    const { code, out } = await run('diagnose', 'triton', '--from', selectorLab, '--baseline', intentLab, '--output', 'json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.findings[0]!.evidence[0]!.text).toMatch(/^spec\.selector changed from name=mysql to name=sql00001 since the last healthy run/);
    // The older dump differs in web-service's nodePort and the intent ConfigMap too: no finding explains that, so it is listed once.
    expect(report.changes?.unexplained.map((c) => `${c.ref.name} ${c.field}`)).toEqual(['web-service spec.ports']);
  });

  it('refuses a baseline directory that is no dump, naming the flag', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nd-empty-'));
    try {
      const { code, err } = await run('diagnose', 'triton', '--from', selectorLab, '--baseline', empty);
      expect(code).toBe(2);
      expect(err).toContain(`netdoctor: --baseline: no Kubernetes objects found in ${empty}`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('netdoctor intent init', () => {
  it('writes the namespace intent to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-intent-'));
    try {
      const file = join(dir, 'triton.yaml');
      const { code, err } = await run('intent', 'init', 'triton', '--from', intentLab, '--out', file);
      expect(code).toBe(0);
      expect(err).toBe(`wrote the intent of triton to ${file}\n`);
      const intent = parseIntent(readFileSync(file, 'utf8'));
      expect(intent.services.find((s) => s.name === 'web-service')?.ports).toEqual([{ port: 8080, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['intent'], 'usage: intent init <namespace>'],
    [['intent', 'init', 'nosuch', '--from', intentLab], 'namespace "nosuch" does not exist'],
  ])('refuses %j', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
  });
});
