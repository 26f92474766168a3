import { containerOomKilled } from '../../../src/checks/container-oom-killed';
import { viewOf } from '../../support/view';
import { deployment, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';
import { runOn, scenarioNames } from './scenario-view';

const run = (yaml: string) => containerOomKilled.run({ view: viewOf(yaml), namespace: 'triton', now: new Date() });

/**
 * `OOMKilled` is containerd's CRI termination reason for an OOM-killed process (pkg/cri/server/helpers.go,
 * `oomExitReason = "OOMKilled"`), copied by the kubelet into lastState.terminated; 137 = 128 + SIGKILL.
 */
function crashing(reason: string, exitCode: number, limit = '64Mi', ready = false): string {
  const status = `containerStatuses: [{name: main, ready: ${ready}, restartCount: 6, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {reason: ${reason}, exitCode: ${exitCode}, finishedAt: '2026-03-01T06:37:52Z'}}}]`;
  return deployment('webapp', { labels: { app: 'webapp' }, ports: [{ containerPort: 8080 }], ready })
    .replace(/containerStatuses: \[[^\n]*\]/, status)
    .replace(/( {2}- name: main\n {4}image: example)/, `$1\n    resources: {limits: {memory: ${limit}}, requests: {memory: 32Mi}}`);
}
const SVC = service('webapp', { selector: { app: 'webapp' } });

describe('container-oom-killed', () => {
  it('OOMKilled, exit 137, limit 64Mi: memory is the cause, with the limit and the advice; the Service hangs under it', () => {
    const [f, ...rest] = run(crashing('OOMKilled', 137) + SVC);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'POD-OOMKILLED', severity: 'critical', rootCause: true, subject: { kind: 'Deployment', name: 'webapp' }, plan: null });
    expect(f!.summary).toContain('reason OOMKilled, exit code 137');
    expect(f!.summary).toContain('memory limit of 64Mi');
    expect(f!.summary).toContain('Service webapp has no ready endpoint');
    expect(f!.advice![0]).toContain('Raise resources.limits.memory');
    expect(f!.explains).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'Service', name: 'webapp' }), expect.objectContaining({ kind: 'Pod', name: 'webapp-5d4f-x0' })]));
    expect(f!.evidence.some((e) => e.type === 'log')).toBe(false);
  });

  it('a namespace run also reports CoreDNS OOMKilled in kube-system (every lookup depends on it)', () => {
    const coredns = crashing('OOMKilled', 137, '170Mi')
      .replace(/namespace: triton/g, 'namespace: kube-system')
      .replace(/webapp/g, 'coredns')
      .replace(/\{"app":"coredns"\}/g, '{"k8s-app":"kube-dns"}');
    const [f] = run(coredns);
    expect(f).toMatchObject({ subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } });
    expect(f!.summary).toContain('memory limit of 170Mi');
  });

  it('a pod that recovered but was OOMKilled before is a warning', () => {
    expect(run(crashing('OOMKilled', 137, '1Gi', true))[0]).toMatchObject({ severity: 'warning' });
  });

  it('look-alikes that must not fire: exit 137 from a liveness kill (reason Error), an application error exit 1, no termination', () => {
    expect(run(crashing('Error', 137) + SVC)).toEqual([]);
    expect(run(crashing('Error', 1) + SVC)).toEqual([]);
    expect(run(deployment('webapp') + SVC)).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(runOn(containerOomKilled, name)).toEqual([]);
      expect(runOn(containerOomKilled, name, 'cluster')).toEqual([]);
    });
  });
});
