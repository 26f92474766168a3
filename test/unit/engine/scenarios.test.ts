import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { listAllScenarios, scenarioMismatch } from '../../support/scenarios';

const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;

describe.each(listAllScenarios().map((s) => [s.name, s] as const))('scenario %s from its dump', (_name, scenario) => {
  it('puts the expected root cause first', async () => {
    const report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(scenario.dir), workflow, {
      namespace: scenario.expect.namespace,
    });
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    expect(scenarioMismatch(report, scenario.expect)).toBeUndefined();
  });
});
