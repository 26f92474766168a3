import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { corednsLoop } from '../../../src/checks/coredns-loop';
import { kubeDnsService } from '../../../src/checks/kube-dns-service';
import { nodeNetworkUnavailable } from '../../../src/checks/node-network-unavailable';
import { podNotRunning } from '../../../src/checks/pod-not-running';
import { linkFindings } from '../../../src/engine/link-findings';
import { loud, scenario, scenarioNames } from './network-fixtures';

/** The CNI / CoreDNS / pod checks together over every shared scenario, in namespace, kube-system and cluster-wide runs. */
const CHECKS = [cniNotRunning, corednsLoop, kubeDnsService, nodeNetworkUnavailable, podNotRunning];
const NAMESPACES = ['triton', 'kube-system', undefined];

function run(name: string, namespace: string | undefined) {
  const view = scenario(name);
  const now = new Date();
  const drafts = CHECKS.flatMap((check, order) => check.run({ view, namespace, now }).map((draft) => ({ check: check.id, order, draft })));
  return { drafts: drafts.map((d) => d.draft), findings: linkFindings(drafts) };
}

describe('network checks on the shared scenarios', () => {
  it.each(NAMESPACES)('healthy (%s): no warning or critical finding', (ns) => {
    expect(loud(run('healthy', ns).drafts)).toEqual([]);
  });

  it.each(NAMESPACES)('triton-cni-missing (%s): one root cause, the weave CNI agent, with every symptom under it', (ns) => {
    const { findings } = run('triton-cni-missing', ns);
    const roots = findings.filter((f) => f.rootCause);
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ check: 'cni-not-running', severity: 'critical' });
    expect(JSON.stringify([roots[0]!.title, roots[0]!.summary]).toLowerCase()).toMatch(/weave[\s\S]*cni|cni[\s\S]*weave/);
    expect(findings.filter((f) => !f.rootCause).every((f) => f.causedBy === roots[0]!.id)).toBe(true);
  });

  it.each(scenarioNames())('%s: every finding has a title, a summary, evidence with commands', (name) => {
    for (const ns of NAMESPACES) {
      for (const f of run(name, ns).drafts) {
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
