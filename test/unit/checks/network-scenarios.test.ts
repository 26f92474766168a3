import { CHECKS } from '../../../src/checks';
import { join } from 'node:path';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import type { Workflow } from '../../../src/engine/workflow';
import { loud, scenarioNames } from './network-fixtures';
import { SCENARIO_DIR, describeShared } from '../../support/scenarios';

/** The whole catalog through the engine over every shared scenario, in namespace, kube-system and cluster-wide runs. */
const NAMESPACES = ['triton', 'kube-system', undefined];

async function run(name: string, namespace: string | undefined) {
  const workflow: Workflow = { name: 'network', scope: namespace ? 'namespace' : 'cluster', checks: [...CHECKS] };
  const report = await diagnose({ runId: name, log: silentLogger, clock: () => new Date() }, new DumpReader(join(SCENARIO_DIR, name)), workflow, { namespace });
  expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
  return { drafts: report.findings, findings: report.findings };
}

describeShared('network checks on the shared scenarios', () => {
  it.each(NAMESPACES)('healthy (%s): no warning or critical finding', async (ns) => {
    expect(loud((await run('healthy', ns)).drafts)).toEqual([]);
  });

  it.each(NAMESPACES)('triton-cni-missing (%s): one root cause, the weave CNI agent, with every symptom under it', async (ns) => {
    const { findings } = await run('triton-cni-missing', ns);
    const roots = findings.filter((f) => f.rootCause);
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ check: 'cni-not-running', severity: 'critical' });
    expect(JSON.stringify([roots[0]!.title, roots[0]!.summary]).toLowerCase()).toMatch(/weave[\s\S]*cni|cni[\s\S]*weave/);
    expect(findings.filter((f) => !f.rootCause).every((f) => f.causedBy === roots[0]!.id)).toBe(true);
  });

  it.each(scenarioNames())('%s: every finding has a title, a summary, evidence with commands', async (name) => {
    for (const ns of NAMESPACES) {
      for (const f of (await run(name, ns)).drafts) {
        expect(f.title.length).toBeGreaterThan(5);
        expect(f.summary.length).toBeGreaterThan(20);
        expect(f.evidence.length).toBeGreaterThan(0);
        expect(f.evidence.every((e) => e.text.length > 0)).toBe(true);
        expect(f.evidence.some((e) => e.command?.startsWith('kubectl '))).toBe(true);
        if (f.rootCause && !f.plan) expect(f.advice?.length ?? 0).toBeGreaterThan(0);
      }
    }
  });
});
