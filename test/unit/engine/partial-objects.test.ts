import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { KINDS } from '../../../src/domain/kube-types';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';

// Dumps are hand-made too: every check must get through objects that lack the fields a real apiserver
// would fill in (issue 16 item 5: an Event without involvedObject crashed the run).
const partials = (kind: string, ns: string | undefined, i: number): object[] => {
  const metadata = (suffix: string) => ({ name: `${kind.toLowerCase()}-${i}-${suffix}`, ...(ns ? { namespace: ns } : {}) });
  return [
    { kind, metadata: metadata('bare') },
    { kind, metadata: metadata('empty'), spec: {}, status: {}, data: {} },
    { kind, metadata: { ...metadata('nulls'), labels: null, ownerReferences: null }, spec: null, status: null },
    {
      kind,
      metadata: { ...metadata('items'), ownerReferences: [{}] },
      spec: { containers: [{}], selector: {}, ports: [{}], template: {}, egress: [{}], ingress: [{}], podSelector: {} },
      status: { containerStatuses: [{}], conditions: [{}] },
      subsets: [{}],
      endpoints: [{}],
      involvedObject: {},
    },
  ];
};

describe('every check over partial objects', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nd-partial-'));
    const items = KINDS.flatMap((kind, i) => [...partials(kind, 'triton', i), ...partials(kind, 'kube-system', i)]);
    items.push({ kind: 'Namespace', metadata: { name: 'triton' } }, { kind: 'Namespace', metadata: { name: 'kube-system' } });
    writeFileSync(join(dir, 'objects.json'), JSON.stringify({ kind: 'List', items }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([...loadWorkflows(CHECKS).values()].map((w) => [w.name, w] as const))('workflow %s: no check fails', async (_name, workflow) => {
    const report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(dir), workflow, { namespace: 'triton' });
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
  });
});
