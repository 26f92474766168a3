import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { newestTimestamp } from '../../../src/cluster/dump-clock';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';

const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
// A wall clock far from the dump's: ages must not come from it.
const wallClock = { runId: 't', log: silentLogger, clock: () => new Date('2026-11-30T10:00:00Z') };

describe('the clock of a dump', () => {
  it('is the newest instant any object records, deletionTimestamp excluded (a grace period puts it ahead)', () => {
    const objects = [
      { kind: 'Pod', metadata: { creationTimestamp: '2026-03-01T06:29:00Z', deletionTimestamp: '2026-03-01T07:00:00Z' }, status: { conditions: [{ lastTransitionTime: '2026-03-01T06:31:00Z' }] } },
      { kind: 'Event', lastTimestamp: '2026-03-01T06:39:00Z', message: '2027-01-01T00:00:00Z in a message is not a time field' },
    ];
    expect(newestTimestamp(objects)?.toISOString()).toBe('2026-03-01T06:39:00.000Z');
    expect(newestTimestamp([{ kind: 'ConfigMap', metadata: { name: 'x' } }])).toBeUndefined();
  });

  it('measures "stuck for" from the dump, not the wall clock (10m, not 274d)', async () => {
    const report = await diagnose(wallClock, new DumpReader(join(REPO_SCENARIO_DIR, 'pending-insufficient-cpu')), workflow, { namespace: 'triton' });
    expect(report.observedAt).toBe('2026-03-01T06:39:00.000Z');
    expect(report.generatedAt).toBe('2026-11-30T10:00:00.000Z');
    expect(report.findings[0]!.summary).toContain('Pending, not scheduled for 10m');
  });

  it('takes the time its user gives instead (--now)', async () => {
    const reader = new DumpReader(join(REPO_SCENARIO_DIR, 'pending-insufficient-cpu'), { now: new Date('2026-03-02T06:29:00Z') });
    const report = await diagnose(wallClock, reader, workflow, { namespace: 'triton' });
    expect(report.observedAt).toBe('2026-03-02T06:29:00.000Z');
    expect(report.findings[0]!.summary).toContain('Pending, not scheduled for 24h');
  });
});
