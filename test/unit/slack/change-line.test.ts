import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { dumpBaseline } from '../../../src/cli/dump-baseline';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { refLabel } from '../../../src/domain/object-ref';
import { digestMessage, rootCauseMessage, textObjects } from '../../../src/slack/blocks';
import { MemoryBaselines } from '../../support/memory-ports';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';

describe('root-cause reply with a change since the last healthy run', () => {
  it('shows the change line right under the title, before the summary', async () => {
    const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
    const report = await diagnose({ runId: 't', log: silentLogger, clock: () => new Date() }, new DumpReader(join(REPO_SCENARIO_DIR, 'svc-selector')), workflow, { namespace: 'triton' }, dumpBaseline(join(REPO_SCENARIO_DIR, 'intent-nodeport')));
    const texts = textObjects(rootCauseMessage(report, report.findings[0]!, 0).blocks);
    expect(texts[1]).toMatch(/^:rewind: \*Changed since the last healthy run:\* spec\.selector changed from name=mysql to name=sql00001 since the last healthy run/);
    expect(texts[2]).toBe(report.findings[0]!.summary);
  });
});

describe('digest with networking changes since yesterday', () => {
  it('lists the changes no finding explains, even on a run that keeps every day', async () => {
    const workflow = loadWorkflows(CHECKS).get('cluster-health')!;
    const baselines = new MemoryBaselines();
    const ctx = { runId: 't', log: silentLogger, clock: () => new Date() };
    await diagnose(ctx, new DumpReader(join(REPO_SCENARIO_DIR, 'intent-nodeport')), workflow, { cluster: 'lab' }, baselines);
    expect(baselines.kept.get('lab/*')).toHaveLength(1); // a cluster-wide run keeps every day's fields, broken or not
    const report = await diagnose(ctx, new DumpReader(join(REPO_SCENARIO_DIR, 'svc-selector')), workflow, { cluster: 'lab' }, baselines);
    expect(baselines.kept.get('lab/*')).toHaveLength(2);
    expect(report.changes?.unexplained.map((c) => `${refLabel(c.ref)} ${c.field} ${c.from} → ${c.to}`)).toContain(
      'service/web-service -n triton spec.ports [{"nodePort":30080,"port":8080,"protocol":"TCP","targetPort":8080}] → [{"nodePort":30081,"port":8080,"protocol":"TCP","targetPort":8080}]',
    );
    const digest = { cluster: 'lab', day: '2026-03-01', report, newFindings: [], resolved: [], persisting: [], trend: [] };
    const texts = textObjects(digestMessage(digest).blocks);
    expect(texts.find((t) => t.includes('Networking changes since the last digest'))).toContain('`service/web-service -n triton` spec.ports changed from');
  });
});
