import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { Check } from '../../../src/domain/check';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';
import { join } from 'node:path';

const CODE = /^(CNI|NODE|KP|DNS|SVC|NP|ING|POD|WL|INTENT)(-[A-Z0-9]+)+$/;

describe('fault codes', () => {
  it.each(CHECKS.map((c) => [c.id, c] as const))('%s declares distinct UPPER-KEBAB codes with an area prefix', (_id, check) => {
    expect(check.codes.length).toBeGreaterThan(0);
    expect(new Set(check.codes).size).toBe(check.codes.length);
    for (const code of check.codes) expect(code).toMatch(CODE);
  });

  it('every finding of a scenario carries a code its check declares', async () => {
    const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
    const report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(join(REPO_SCENARIO_DIR, 'svc-selector')), workflow, { namespace: 'triton' });
    expect(report.findings.length).toBeGreaterThan(0);
    for (const f of report.findings) expect(CHECKS.find((c) => c.id === f.check)!.codes).toContain(f.code);
    expect(report.findings.find((f) => f.rootCause)!.code).toBe('SVC-NO-ENDPOINTS');
  });

  it('reports a check that emits an undeclared code as failed, and the run goes on', async () => {
    const rogue: Check = {
      id: 'rogue',
      title: 'emits a code it does not declare',
      codes: ['SVC-DECLARED'],
      needs: ['Service'],
      reads: {},
      run: () => [{ code: 'SVC-UNDECLARED', severity: 'warning', title: 't', summary: 's', subject: { kind: 'Service', namespace: 'triton', name: 'x' }, evidence: [], rootCause: true }],
    };
    const workflow = { ...loadWorkflows(CHECKS).get('namespace-triage')!, checks: [rogue, ...CHECKS] };
    const report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(join(REPO_SCENARIO_DIR, 'svc-selector')), workflow, { namespace: 'triton' });
    expect(report.checks[0]).toEqual({ id: 'rogue', status: 'failed', error: 'finding code "SVC-UNDECLARED" is not among the check\'s declared codes' });
    expect(report.findings.some((f) => f.check === 'rogue')).toBe(false);
    expect(report.findings.some((f) => f.code === 'SVC-NO-ENDPOINTS')).toBe(true);
  });
});
