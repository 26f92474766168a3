import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Check } from '../../../src/domain/check';
import { loadWorkflows, parseWorkflow } from '../../../src/engine/workflow';
import { CHECKS } from '../../../src/checks';

const catalog: Check[] = [
  { id: 'a', title: 'A', codes: [], needs: ['Pod'], reads: {}, run: () => [] },
  { id: 'b', title: 'B', codes: [], needs: ['Service'], reads: {}, run: () => [] },
];

describe('workflows', () => {
  it('ships namespace-triage and cluster-health, valid against the real catalog', () => {
    const workflows = loadWorkflows(CHECKS);
    expect(workflows.get('namespace-triage')).toMatchObject({ scope: 'namespace' });
    expect(workflows.get('cluster-health')).toMatchObject({ name: 'cluster-health', scope: 'cluster' });
  });

  it('resolves `all` and explicit lists against the catalog', () => {
    expect(parseWorkflow('w.yaml', { name: 'w', scope: 'namespace', checks: 'all' }, catalog).checks.map((c) => c.id)).toEqual(['a', 'b']);
    expect(parseWorkflow('w.yaml', { name: 'w', scope: 'cluster', checks: ['b'] }, catalog).checks.map((c) => c.id)).toEqual(['b']);
  });

  it.each([
    [{ name: 'w', scope: 'namespace', checks: ['zzz'] }, /w\.yaml: unknown check "zzz"/],
    [{ name: 'W W', scope: 'namespace', checks: 'all' }, /`name` must be kebab-case/],
    [{ name: 'w', scope: 'galaxy', checks: 'all' }, /`scope` must be namespace or cluster/],
    [{ name: 'w', scope: 'cluster', checks: [] }, /`checks` must be/],
    [{ name: 'w', scope: 'cluster', checks: 'all', schedule: { cron: '0 9 * * *' } }, /w\.yaml: unknown field `schedule` \(a workflow has name, scope and checks\)/],
    ['just a string', /expected a mapping/],
  ])('rejects %j with a message naming the file and field', (doc, message) => {
    expect(() => parseWorkflow('w.yaml', doc, catalog)).toThrow(message);
  });

  it('fails on invalid YAML and duplicate names, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-wf-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), 'name: x\nscope: cluster\nchecks: all\n');
      writeFileSync(join(dir, 'b.yaml'), 'name: x\nscope: cluster\nchecks: all\n');
      expect(() => loadWorkflows(catalog, dir)).toThrow(/b\.yaml: duplicate name x/);
      writeFileSync(join(dir, 'b.yaml'), 'name: [');
      expect(() => loadWorkflows(catalog, dir)).toThrow(/b\.yaml: not valid YAML/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
