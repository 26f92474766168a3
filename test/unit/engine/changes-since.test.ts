import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import type { Baseline } from '../../../src/domain/baseline';
import type { Finding } from '../../../src/domain/finding';
import { lastWriter, slimManagedFields } from '../../../src/domain/managed-fields';
import { silentLogger } from '../../../src/domain/run-context';
import { attachChanges } from '../../../src/engine/attach-changes';
import { changesSince } from '../../../src/engine/changes-since';
import { resourceVersionIn } from '../../../src/engine/run-steps';
import { diagnose } from '../../../src/engine/diagnose';
import { takeBaseline } from '../../../src/engine/take-baseline';
import { loadWorkflows } from '../../../src/engine/workflow';
import { MemoryBaselines } from '../../support/memory-ports';
import { REPO_SCENARIO_DIR, SCENARIO_DIR, describeShared } from '../../support/scenarios';
import { viewOf } from '../../support/view';

const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
const run = (dir: string, baselines?: MemoryBaselines | Parameters<typeof diagnose>[4]) =>
  diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(dir), workflow, { cluster: 'lab', namespace: 'triton' }, baselines);

// What the apiserver wrote after `kubectl edit service mysql` (an Update by manager kubectl-edit).
const EDITED_SERVICE = `
apiVersion: v1
kind: Service
metadata:
  name: mysql
  namespace: triton
  resourceVersion: "2001"
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    time: "2026-11-30T07:40:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:metadata": {"f:annotations": {}}, "f:spec": {"f:ports": {"k:{\\"port\\":3306,\\"protocol\\":\\"TCP\\"}": {"f:port": {}}}, "f:type": {}}}
  - manager: kubectl-edit
    operation: Update
    time: "2026-11-30T10:42:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:selector": {"f:name": {}}}}
spec:
  type: ClusterIP
  selector: {name: sql00001}
  ports: [{port: 3306, targetPort: 3306, protocol: TCP}]
`;

describe('managedFields: who wrote a field', () => {
  const entries = (viewOf(EDITED_SERVICE).get('Service', 'triton', 'mysql')!.metadata as { managedFields: never[] }).managedFields;

  it('names the newest manager owning the path, not the one owning its siblings', () => {
    expect(lastWriter(entries, '/spec/selector')).toEqual({ manager: 'kubectl-edit', at: '2026-11-30T10:42:00Z' });
    expect(lastWriter(entries, '/spec/ports')).toEqual({ manager: 'kubectl-client-side-apply', at: '2026-11-30T07:40:00Z' });
    expect(lastWriter(entries, '/spec/externalName')).toBeUndefined();
  });

  it('keeps only spec and data field sets, so the reader can drop the rest and still attribute', () => {
    const slim = slimManagedFields(entries)!;
    expect(slim.map((e) => Object.keys(e.fieldsV1!))).toEqual([['f:spec'], ['f:spec']]);
    expect(lastWriter(slim, '/spec/selector')?.manager).toBe('kubectl-edit');
    expect(slimManagedFields([{ manager: 'kubelet', fieldsV1: { 'f:status': {} } }])).toBeUndefined();
  });
});

describe('changes since the last healthy baseline', () => {
  it('says which field changed from what to what, by whom and when, relative to the healthy run', () => {
    const healthy = viewOf(EDITED_SERVICE.replace('name: sql00001', 'name: mysql'));
    const previous = takeBaseline(healthy, 'triton', new Date('2026-11-30T07:42:00Z'));
    const edited = viewOf(EDITED_SERVICE);
    const changes = changesSince(previous, takeBaseline(edited, 'triton', new Date('2026-11-30T11:00:00Z')), edited);
    expect(changes).toEqual([
      { ref: { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: 'mysql' }, path: '/spec/selector', field: 'spec.selector', from: 'name=mysql', to: 'name=sql00001', manager: 'kubectl-edit', at: '2026-11-30T10:42:00Z' },
    ]);
  });

  it('offers "restore" as a high-risk plan, guarded by a test of the current value, where the finding has no exact plan', () => {
    const healthy = viewOf(EDITED_SERVICE.replace('name: sql00001', 'name: mysql'));
    const edited = viewOf(EDITED_SERVICE);
    const previous = takeBaseline(healthy, 'triton', new Date('2026-11-30T07:42:00Z'));
    const current = takeBaseline(edited, 'triton', new Date('2026-11-30T11:00:00Z'));
    const subject = { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: 'mysql' };
    const finding: Finding = { id: 'service-no-endpoints/Service/triton/mysql', check: 'service-no-endpoints', code: 'SVC-NO-ENDPOINTS', severity: 'critical', title: 't', summary: 's', subject, evidence: [], rootCause: true, causedBy: null, symptoms: [], explains: [subject], advice: [], plan: null };
    const { findings, unexplained } = attachChanges([finding], changesSince(previous, current, edited), previous, current, resourceVersionIn(edited));
    expect(unexplained).toEqual([]);
    expect(findings[0]!.evidence[0]!.text).toBe('spec.selector changed from name=mysql to name=sql00001 by kubectl-edit at 2026-11-30 10:42 UTC, 3 h after the last healthy run');
    expect(findings[0]!.plan).toMatchObject({
      risk: 'high',
      summary: 'Restore service/mysql -n triton spec.selector to the last healthy values (2026-11-30 07:42 UTC)',
      operations: [{ action: 'patch', target: subject, patchType: 'json', resourceVersion: '2001', patch: [{ op: 'test', path: '/spec/selector', value: { name: 'sql00001' } }, { op: 'replace', path: '/spec/selector', value: { name: 'mysql' } }] }],
      verify: { check: 'service-no-endpoints', subject, waitFor: 'endpoints' },
    });
  });
});

describeShared('diagnose with a baseline store', () => {
  const healthyDir = join(SCENARIO_DIR, 'healthy');
  const brokenDir = join(REPO_SCENARIO_DIR, 'svc-selector');

  it('keeps a baseline of a healthy run, and the next broken run leads with the change on the Service', async () => {
    const baselines = new MemoryBaselines();
    const healthy = await run(healthyDir, baselines);
    expect(healthy.findings.filter((f) => f.rootCause && f.severity !== 'info')).toEqual([]);
    expect(baselines.kept.get('lab/triton')).toHaveLength(1);
    const broken = await run(brokenDir, baselines);
    const first = broken.findings[0]!;
    expect(first.subject).toMatchObject({ kind: 'Service', name: 'mysql' });
    expect(first.evidence[0]!.text).toMatch(/^spec\.selector changed from name=mysql to name=sql00001 since the last healthy run/);
    expect(first.evidence[0]!.command).toBe('kubectl get service mysql -n triton -o yaml --show-managed-fields');
    // The check's exact plan stays: restore is only offered where there is none.
    expect(first.plan?.risk).toBe('low');
    expect(broken.changes?.unexplained).toEqual([]);
    expect(baselines.kept.get('lab/triton')).toHaveLength(1); // a broken run is not a baseline
  });

  it('lists a networking change no finding explains once, in the report', async () => {
    const baselines = new MemoryBaselines();
    await run(healthyDir, baselines);
    const kept = baselines.kept.get('lab/triton')![0]!;
    const node = kept.objects.find((o) => o.ref.kind === 'Node')!;
    const older: Baseline = { ...kept, objects: kept.objects.map((o) => (o === node ? { ...o, fields: { ...o.fields, '/spec/podCIDR': '10.9.0.0/24' } } : o)) };
    baselines.kept.set('lab/triton', [older]);
    const report = await run(healthyDir, baselines);
    expect(report.changes?.unexplained).toEqual([expect.objectContaining({ ref: expect.objectContaining({ kind: 'Node' }), field: 'spec.podCIDR', from: '10.9.0.0/24' })]);
  });

  it('diagnoses as before when the store fails (Redis flushed or down): history is lost, the run is not', async () => {
    const failing = { latest: () => Promise.reject(new Error('READONLY')), save: () => Promise.reject(new Error('READONLY')) };
    const report = await run(brokenDir, failing);
    expect(report.findings[0]!.subject).toMatchObject({ kind: 'Service', name: 'mysql' });
    expect(report.changes).toBeUndefined();
  });
});
