import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { newestTimestamp } from '../../../src/cluster/dump-clock';
import { SNAPSHOT_INFO_FILE } from '../../../src/cluster/dump-files';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { writeDump } from '../../../src/cluster/dump-writer';
import type { ClusterSnapshot } from '../../../src/cluster/snapshot';
import { KINDS } from '../../../src/domain/kube-types';
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

  describe('of a snapshot', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nd-clock-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const scope = { namespace: 'triton', alsoNamespaces: ['kube-system'], kinds: [...KINDS] };

    // kube-proxy restarted twice and has run for the last minute: nothing in the cluster wrote a
    // timestamp since it started, so the newest one says it started a moment ago.
    const quietSince = (dir: string): void => {
      const kubeProxy = {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kube-proxy-x', namespace: 'kube-system', creationTimestamp: '2026-03-01T06:00:00Z' },
        spec: { containers: [{ name: 'kube-proxy' }] },
        status: { containerStatuses: [{ name: 'kube-proxy', ready: true, restartCount: 2, state: { running: { startedAt: '2026-03-01T06:30:00Z' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-03-01T06:29:40Z', finishedAt: '2026-03-01T06:29:40Z' } } }] },
      };
      writeFileSync(join(dir, 'objects.yaml'), JSON.stringify(kubeProxy));
    };

    it('is the instant netdoctor snapshot read the cluster (the apiserver\'s clock), which round-trips', async () => {
      quietSince(dir);
      expect((await new DumpReader(dir).read(scope)).observedAt?.toISOString()).toBe('2026-03-01T06:30:00.000Z');
      const first = (await new DumpReader(dir).read(scope)) as ClusterSnapshot;
      first.observedAt = new Date('2026-03-01T06:31:05Z');
      const out = join(dir, 'out');
      writeDump(first, out);
      const second = await new DumpReader(out).read(scope);
      expect(second.observedAt?.toISOString()).toBe('2026-03-01T06:31:05.000Z');
      // Not an object of the dump, and --now still wins.
      expect((second as ClusterSnapshot).entries()).toEqual(first.entries());
      expect((await new DumpReader(out, { now: new Date('2026-03-02T00:00:00Z') }).read(scope)).observedAt?.toISOString()).toBe('2026-03-02T00:00:00.000Z');
    });

    it('is refused, naming the file, when the info file does not hold an instant', () => {
      quietSince(dir);
      for (const bad of ['{"takenAt": "yesterday"}', '{}', 'not json']) {
        writeFileSync(join(dir, SNAPSHOT_INFO_FILE), bad);
        expect(() => new DumpReader(dir)).toThrow(SNAPSHOT_INFO_FILE);
      }
    });
  });
});
