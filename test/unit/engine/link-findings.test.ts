import type { FindingDraft } from '../../../src/domain/finding';
import { linkFindings } from '../../../src/engine/link-findings';

const pod = (name: string) => ({ kind: 'Pod', namespace: 'triton', name });
const draft = (over: Partial<FindingDraft>): FindingDraft => ({
  code: 'TEST-FAULT',
  severity: 'critical',
  title: 't',
  summary: 's',
  subject: pod('x'),
  evidence: [],
  rootCause: true,
  ...over,
});

describe('linkFindings', () => {
  it('hangs symptoms under the root cause that explains them and puts causes first', () => {
    const findings = linkFindings([
      { check: 'pod-not-running', order: 1, draft: draft({ rootCause: false, subject: { kind: 'Deployment', namespace: 'triton', name: 'web' }, explains: [pod('web-1')] }) },
      { check: 'cni-not-running', order: 0, draft: draft({ subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' }, explains: [pod('web-1')] }) },
    ]);
    expect(findings.map((f) => [f.check, f.rootCause, f.causedBy])).toEqual([
      ['cni-not-running', true, null],
      ['pod-not-running', false, 'cni-not-running/DaemonSet/kube-system/weave-net'],
    ]);
    expect(findings[0]!.symptoms).toEqual(['pod-not-running/Deployment/triton/web']);
  });

  it('hangs a critical symptom under a less severe root cause that explains it', () => {
    const findings = linkFindings([
      { check: 'service-endpoints-not-ready', order: 0, draft: draft({ rootCause: false, subject: { kind: 'Service', namespace: 'triton', name: 'db' } }) },
      { check: 'coredns-loop', order: 1, draft: draft({ severity: 'info', subject: pod('dns'), explains: [{ kind: 'Service', namespace: 'triton', name: 'db' }] }) },
    ]);
    expect(findings.map((f) => [f.check, f.rootCause])).toEqual([
      ['coredns-loop', true],
      ['service-endpoints-not-ready', false],
    ]);
  });

  it('promotes a symptom nothing explains to a root cause', () => {
    const [only] = linkFindings([{ check: 'pod-not-running', order: 0, draft: draft({ rootCause: false, severity: 'warning' }) }]);
    expect(only).toMatchObject({ rootCause: true, causedBy: null });
  });

  it('orders root causes by severity, then catalog order', () => {
    const findings = linkFindings([
      { check: 'b', order: 0, draft: draft({ severity: 'warning', subject: pod('a') }) },
      { check: 'c', order: 2, draft: draft({ subject: pod('c') }) },
      { check: 'a', order: 1, draft: draft({ subject: pod('b') }) },
    ]);
    expect(findings.map((f) => f.check)).toEqual(['a', 'c', 'b']);
  });

  it('never links two root causes into a cycle', () => {
    const a = { kind: 'Service', namespace: 'n', name: 'a' };
    const b = { kind: 'Service', namespace: 'n', name: 'b' };
    const findings = linkFindings([
      { check: 'x', order: 0, draft: draft({ subject: a, explains: [b] }) },
      { check: 'y', order: 1, draft: draft({ subject: b, explains: [a] }) },
    ]);
    expect(findings.filter((f) => f.rootCause)).toHaveLength(1);
    expect(findings[1]!.causedBy).toBe(findings[0]!.id);
  });

  it('gives distinct ids to two findings of one check on one subject', () => {
    const ids = linkFindings([
      { check: 'x', order: 0, draft: draft({}) },
      { check: 'x', order: 0, draft: draft({ summary: 'other' }) },
    ]).map((f) => f.id);
    expect(new Set(ids).size).toBe(2);
  });

  describe('a symptom never ranks above its cause', () => {
    const web = { kind: 'Deployment', namespace: 'triton', name: 'web' };
    const svc = { kind: 'Service', namespace: 'triton', name: 'web' };
    const node = { kind: 'Node', name: 'n1' };
    // As the checks emit them: the Service symptom depends on its pods and workload; the pod symptom covers the pods.
    const serviceSymptom = { check: 'service-endpoints-not-ready', order: 8, draft: draft({ rootCause: false, subject: svc, explains: [svc, pod('web-1'), web], dependsOn: [pod('web-1'), web] }) };
    const podSymptom = (dependsOn?: typeof node[]) => ({ check: 'pod-not-running', order: 11, draft: draft({ rootCause: false, subject: web, explains: [pod('web-1')], ...(dependsOn ? { dependsOn } : {}) }) });

    it('hangs the Service under the pods it waits for, though its check runs first', () => {
      const findings = linkFindings([serviceSymptom, podSymptom()]);
      expect(findings.map((f) => [f.id, f.rootCause, f.causedBy])).toEqual([
        ['pod-not-running/Deployment/triton/web', true, null],
        ['service-endpoints-not-ready/Service/triton/web', false, 'pod-not-running/Deployment/triton/web'],
      ]);
    });

    it('follows the chain Service → pods → the Node whose taint keeps them Pending', () => {
      const nodeRoot = { check: 'node-network-unavailable', order: 10, draft: draft({ subject: node, explains: [node] }) };
      const findings = linkFindings([serviceSymptom, podSymptom([node]), nodeRoot]);
      expect(findings.map((f) => [f.check, f.causedBy])).toEqual([
        ['node-network-unavailable', null],
        ['service-endpoints-not-ready', 'node-network-unavailable/Node//n1'],
        ['pod-not-running', 'node-network-unavailable/Node//n1'],
      ]);
    });

    it('ranks the cause that explains more findings first among equally severe roots', () => {
      const lone = { check: 'service-no-endpoints', order: 6, draft: draft({ subject: { kind: 'Service', namespace: 'triton', name: 'other' }, explains: [] }) };
      const findings = linkFindings([lone, serviceSymptom, podSymptom()]);
      expect(findings.filter((f) => f.rootCause).map((f) => f.check)).toEqual(['pod-not-running', 'service-no-endpoints']);
    });

    it('keeps independent declared roots apart: a root never hangs under a symptom', () => {
      const selectorTypo = { check: 'service-no-endpoints', order: 6, draft: draft({ subject: svc, explains: [svc] }) };
      const policy = { check: 'network-policy-blocks', order: 12, draft: draft({ subject: { kind: 'NetworkPolicy', namespace: 'triton', name: 'deny' }, explains: [{ kind: 'Service', namespace: 'triton', name: 'db' }, { kind: 'Deployment', namespace: 'triton', name: 'client' }] }) };
      const findings = linkFindings([selectorTypo, policy, podSymptom()]);
      expect(findings.filter((f) => f.rootCause).map((f) => f.check).sort()).toEqual(['network-policy-blocks', 'pod-not-running', 'service-no-endpoints']);
    });

    it('ends a cycle of symptoms that depend on each other at one of them', () => {
      const a = { kind: 'Service', namespace: 'n', name: 'a' };
      const b = { kind: 'Service', namespace: 'n', name: 'b' };
      const findings = linkFindings([
        { check: 'x', order: 0, draft: draft({ rootCause: false, subject: a, dependsOn: [b] }) },
        { check: 'y', order: 1, draft: draft({ rootCause: false, subject: b, dependsOn: [a] }) },
      ]);
      expect(findings.filter((f) => f.rootCause)).toHaveLength(1);
      expect(findings[1]!.causedBy).toBe(findings[0]!.id);
    });
  });
});
