import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { corednsLoop } from '../../../src/checks/coredns-loop';
import { kubeDnsService } from '../../../src/checks/kube-dns-service';
import { podNotRunning } from '../../../src/checks/pod-not-running';
import { linkFindings } from '../../../src/engine/link-findings';
import { NOW, WEAVE_SANDBOX, ago, cluster, daemonSet, deployment, event, node, pod, rsOf, runCheck, scenario } from './network-fixtures';
import { describeShared } from '../../support/scenarios';

const web = { app: 'webapp' };
const dnsLabels = { 'k8s-app': 'kube-dns' };

describe('pod-not-running', () => {
  it('reports a crash-looping Deployment once, with the previous log, as a symptom', () => {
    const view = cluster(
      [
        ...deployment('triton', 'webapp', web),
        pod('triton', 'webapp-5d4f8c7b9-aaaaa', { owner: rsOf('webapp'), labels: web, shape: 'crashloop', containers: ['web'] }),
        pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: web, shape: 'crashloop', containers: ['web'] }),
        event('Pod', 'triton', 'webapp-5d4f8c7b9-aaaaa', 'BackOff', 'Back-off restarting failed container web', { count: 25 }),
      ],
      { 'triton/webapp-5d4f8c7b9-aaaaa/web#previous': 'starting\npanic: dial tcp: lookup mysql on 10.96.0.10:53: no such host\n' },
    );
    const findings = runCheck(podNotRunning, view, 'triton');
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ severity: 'critical', rootCause: false, subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp' } });
    expect(f.title).toBe('2/2 pods crash-looping');
    expect(f.summary).toContain('2 of 2 pods are crash-looping (6 restarts)');
    expect(f.summary).toContain('Container web logged: panic: dial tcp: lookup mysql');
    expect(f.explains!.map((r) => r.name)).toEqual(['webapp-5d4f8c7b9-aaaaa', 'webapp-5d4f8c7b9-bbbbb']);
    expect(f.evidence).toContainEqual({ type: 'log', text: 'panic: dial tcp: lookup mysql on 10.96.0.10:53: no such host', command: 'kubectl logs -n triton webapp-5d4f8c7b9-aaaaa -c web --previous' });
    expect(f.evidence.some((e) => e.type === 'event' && e.text.includes('BackOff (x25)'))).toBe(true);
  });

  it('reports pods stuck in ContainerCreating with the sandbox event, and bare pods under their own name', () => {
    const view = cluster([
      ...deployment('triton', 'webapp', web),
      pod('triton', 'webapp-5d4f8c7b9-aaaaa', { owner: rsOf('webapp'), labels: web, shape: 'creating', ageMin: 2 }),
      event('Pod', 'triton', 'webapp-5d4f8c7b9-aaaaa', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { count: 4 }),
      pod('triton', 'mysql', { shape: 'creating', ageMin: 30 }),
    ]);
    const findings = runCheck(podNotRunning, view, 'triton');
    expect(findings.map((f) => `${f.subject.kind}/${f.subject.name}`).sort()).toEqual(['Deployment/webapp', 'Pod/mysql']);
    const webFinding = findings.find((f) => f.subject.name === 'webapp')!;
    expect(webFinding.summary).toContain('deployment/webapp -n triton: 1 of 1 pods is stuck in ContainerCreating for 2m, so it serves no traffic.');
    expect(webFinding.summary).toContain('FailedCreatePodSandBox: CNI plugin type="weave-net" failed: unable to allocate IP address');
    expect(webFinding.summary).not.toMatch(/[0-9a-f]{40}/);
    expect(findings.find((f) => f.subject.name === 'mysql')!.summary).toMatch(/^Pod triton\/mysql is stuck in ContainerCreating for 30m, so it serves no traffic\.$/);
  });

  it('leaves young pods alone while they start (look-alike)', () => {
    const view = cluster([
      pod('triton', 'fresh', { shape: 'creating', ageMin: 1 }),
      pod('triton', 'unscheduled', { shape: 'pending', ageMin: 1 }),
      pod('triton', 'warming', { shape: 'notready', ageMin: 1 }),
    ]);
    expect(runCheck(podNotRunning, view, 'triton')).toHaveLength(0);
  });

  it('reports Pending for a non-network reason with the scheduler message (no CNI involved)', () => {
    const view = cluster([pod('triton', 'big', { shape: 'pending', ageMin: 1 }), event('Pod', 'triton', 'big', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.')]);
    const [f] = runCheck(podNotRunning, view, 'triton');
    expect(f).toMatchObject({ rootCause: false, subject: { kind: 'Pod', name: 'big' } });
    expect(f!.summary).toContain('Scheduler: 0/1 nodes are available: 1 Insufficient cpu.');
  });

  describe('names a cause that is not the network in the title, with its code', () => {
    // kube-scheduler FitError.Error (pkg/scheduler/framework/types.go) with noderesources/fit.go "Insufficient %v"
    // and the DefaultPreemption PostFilter message, as `kubectl describe pod` shows it.
    const INSUFFICIENT_CPU = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..';
    // plugins/tainttoleration/taint_toleration.go: "node(s) had untolerated taint {%s: %s}".
    const NETWORK_TAINT = '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/network-unavailable: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..';
    const pending = (message: string) => {
      const p = pod('triton', 'webapp-5d4f8c7b9-aaaaa', { owner: rsOf('webapp'), labels: web, shape: 'pending', ageMin: 20 }) as { spec: { containers: Record<string, unknown>[] } };
      p.spec.containers[0]!.resources = { requests: { cpu: '4' } };
      return [...deployment('triton', 'webapp', web), p, event('Pod', 'triton', 'webapp-5d4f8c7b9-aaaaa', 'FailedScheduling', message, { count: 9 })];
    };

    it('Insufficient cpu: a capacity problem, said so, with the requests', () => {
      const [f] = runCheck(podNotRunning, cluster(pending(INSUFFICIENT_CPU)), 'triton');
      expect(f).toMatchObject({ code: 'POD-INSUFFICIENT-RESOURCES', title: '1/1 pods Pending, not scheduled (Insufficient cpu)', rootCause: false });
      expect(f!.summary).toContain('A capacity problem, not a network fault: no node has enough allocatable cpu left for the pod\'s requests (cpu 4).');
      expect(f!.advice![0]).toContain('Lower the requests of deployment/webapp');
      expect(f!.dependsOn).toBeUndefined();
    });

    it('an untolerated taint: depends on the Node that carries it', () => {
      const tainted = { ...node('node1', { networkUnavailable: { reason: 'NoRouteCreated' } }), spec: { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] } };
      const [f] = runCheck(podNotRunning, cluster([...pending(NETWORK_TAINT), tainted, node('node2')]), 'triton');
      expect(f).toMatchObject({ code: 'POD-UNTOLERATED-TAINT', title: '1/1 pods Pending, not scheduled (untolerated taint node.kubernetes.io/network-unavailable)' });
      expect(f!.dependsOn).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'node1' }]);
      expect(f!.summary).toContain('The taint is on node node1');
    });

    it('look-alike: the taint the scheduler named is gone from every node (or is only PreferNoSchedule)', () => {
      const soft = { ...node('node1'), spec: { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'PreferNoSchedule' }] } };
      const [f] = runCheck(podNotRunning, cluster([...pending(NETWORK_TAINT), soft]), 'triton');
      expect(f!.code).toBe('POD-UNTOLERATED-TAINT');
      expect(f!.dependsOn).toBeUndefined();
    });

    it('look-alike: a scheduler reason that is neither (node affinity) stays POD-PENDING with the message', () => {
      const [f] = runCheck(podNotRunning, cluster(pending("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..")), 'triton');
      expect(f).toMatchObject({ code: 'POD-PENDING', title: '1/1 pods Pending, not scheduled' });
      expect(f!.summary).toContain("didn't match Pod's node affinity/selector");
    });

    it('OOMKilled: exit 137 at the memory limit, in the title', () => {
      const p = pod('triton', 'mysql', { shape: 'crashloop', restarts: 8 }) as { spec: { containers: Record<string, unknown>[] }; status: { containerStatuses: Record<string, unknown>[] } };
      p.spec.containers[0]!.resources = { limits: { memory: '64Mi' } };
      p.status.containerStatuses[0]!.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled' } };
      const [f] = runCheck(podNotRunning, cluster([p]), 'triton');
      expect(f).toMatchObject({ code: 'POD-OOMKILLED', title: 'Pod crash-looping (OOMKilled)' });
      expect(f!.summary).toContain('Container mysql was OOMKilled (exit 137) at its memory limit 64Mi: a memory problem, not a network fault.');
    });

    it('look-alike: a crash loop that exits with Error keeps POD-CRASHLOOP and a plain title', () => {
      const [f] = runCheck(podNotRunning, cluster([pod('triton', 'mysql', { shape: 'crashloop' })]), 'triton');
      expect(f).toMatchObject({ code: 'POD-CRASHLOOP', title: 'Pod crash-looping' });
    });
  });

  it('warns when some replicas are still Ready', () => {
    const view = cluster([
      ...deployment('triton', 'webapp', web),
      pod('triton', 'webapp-5d4f8c7b9-aaaaa', { owner: rsOf('webapp'), labels: web }),
      pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: web, shape: 'notready' }),
      event('Pod', 'triton', 'webapp-5d4f8c7b9-bbbbb', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', { count: 9 }),
    ]);
    const [f] = runCheck(podNotRunning, view, 'triton');
    expect(f).toMatchObject({ severity: 'warning' });
    expect(f!.summary).toContain('1 of 2 pods is Running but not Ready, 1 still Ready. Unhealthy: Readiness probe failed');
    // The cause the Service's missing endpoints hang under: it says what to look at.
    expect(f!.advice).toEqual([
      'Read why the containers are not Ready: kubectl describe pod webapp-5d4f8c7b9-bbbbb -n triton',
      "Read the application's log: kubectl logs -n triton webapp-5d4f8c7b9-bbbbb",
    ]);
  });

  it('reports a Ready pod that keeps restarting after errors as crash-looping, with its previous log', () => {
    const restarting = (exitedMinutesAgo: number, restarts = 4) => {
      const p = pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: web });
      const [status] = (p.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses;
      // The crashed instance lived 2 minutes; the current one started when it exited.
      const lastState = { terminated: { exitCode: 2, reason: 'Error', startedAt: ago(exitedMinutesAgo + 2), finishedAt: ago(exitedMinutesAgo) } };
      Object.assign(status!, { restartCount: restarts, lastState, state: { running: { startedAt: ago(exitedMinutesAgo) } } });
      return cluster(
        [...deployment('triton', 'webapp', web), pod('triton', 'webapp-5d4f8c7b9-aaaaa', { owner: rsOf('webapp'), labels: web }), p],
        { 'triton/webapp-5d4f8c7b9-bbbbb/webapp#previous': 'listening on :8080\npanic: runtime error: invalid memory address or nil pointer dereference\n' },
      );
    };
    const [f, ...rest] = runCheck(podNotRunning, restarting(2), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ code: 'POD-CRASHLOOP', severity: 'warning', rootCause: false });
    expect(f!.summary).toContain('1 of 2 pods is crash-looping (4 restarts), 2 still Ready');
    expect(f!.evidence).toContainEqual(expect.objectContaining({ type: 'log', command: 'kubectl logs -n triton webapp-5d4f8c7b9-bbbbb -c webapp --previous' }));
    // Look-alikes: the last error exit long ago, or a single restart.
    expect(runCheck(podNotRunning, restarting(90), 'triton')).toHaveLength(0);
    expect(runCheck(podNotRunning, restarting(2, 1), 'triton')).toHaveLength(0);
  });

  it('looks at CoreDNS and kube-proxy in kube-system, not at other kube-system pods, in a namespace run', () => {
    const view = cluster([
      ...deployment('kube-system', 'coredns', dnsLabels),
      pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels: dnsLabels, shape: 'crashloop' }),
      daemonSet('kube-system', 'kube-proxy', { labels: { 'k8s-app': 'kube-proxy' } }),
      pod('kube-system', 'kube-proxy-abcde', { owner: { kind: 'DaemonSet', name: 'kube-proxy' }, labels: { 'k8s-app': 'kube-proxy' }, shape: 'crashloop', hostNetwork: true }),
      pod('kube-system', 'metrics-server-x', { shape: 'crashloop' }),
      pod('kube-system', 'kube-apiserver-cp', { owner: { kind: 'Node', name: 'cp' }, shape: 'notready' }),
    ]);
    const subjects = (ns?: string) => runCheck(podNotRunning, view, ns).map((f) => `${f.subject.kind}/${f.subject.name}`).sort();
    expect(subjects('triton')).toEqual(['DaemonSet/kube-proxy', 'Deployment/coredns']);
    // Cluster-wide (and kube-system) runs see every pod; a static pod is its own subject, not its Node.
    expect(subjects(undefined)).toEqual(['DaemonSet/kube-proxy', 'Deployment/coredns', 'Pod/kube-apiserver-cp', 'Pod/metrics-server-x']);
  });

  it('only notes pods that wait for a CNI agent that is still starting (look-alike), and they hang under its note', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'weave-net', { ready: 0, ageMin: 1 }),
      pod('kube-system', 'weave-net-new01', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'creating', ageMin: 1, hostNetwork: true }),
      ...deployment('triton', 'webapp', web),
      pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: web, shape: 'creating', ageMin: 20 }),
      event('Pod', 'triton', 'webapp-5d4f8c7b9-bbbbb', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { count: 12, lastMin: 2 }),
    ]);
    const [f] = runCheck(podNotRunning, view, 'triton');
    expect(f).toMatchObject({ severity: 'info', rootCause: false });
    expect(f!.summary).toContain('It waits for the CNI agent weave-net, which is still starting.');
    const drafts = [cniNotRunning, podNotRunning].flatMap((check, order) => check.run({ view, namespace: 'triton', now: NOW }).map((draft) => ({ check: check.id, order, draft })));
    const linked = linkFindings(drafts);
    expect(linked.filter((x) => x.severity !== 'info')).toHaveLength(0);
    expect(linked.find((x) => x.rootCause)!.symptoms).toEqual(['pod-not-running/Deployment/triton/webapp']);
  });

  it('ignores finished pods and healthy ones', () => {
    const done = pod('triton', 'job-1', { shape: 'running' });
    (done.status as Record<string, unknown>).phase = 'Succeeded';
    (done.status as Record<string, unknown>).conditions = [{ type: 'Ready', status: 'False' }];
    expect(runCheck(podNotRunning, cluster([done, pod('triton', 'mysql')]), 'triton')).toHaveLength(0);
  });

  describeShared('on the shared scenarios', () => {
    it('healthy: nothing', () => {
      expect(runCheck(podNotRunning, scenario('healthy'), 'triton', new Date())).toHaveLength(0);
    });

    it('triton-kube-proxy-config: the crash-looping kube-proxy DaemonSet', () => {
      const findings = runCheck(podNotRunning, scenario('triton-kube-proxy-config'), 'triton', new Date());
      expect(findings.map((f) => [f.subject.kind, f.subject.name, f.rootCause])).toEqual([['DaemonSet', 'kube-proxy', false]]);
      expect(findings[0]!.summary).toContain('failed complete: open /var/lib/kube-proxy/configuration.conf: no such file or directory');
    });

    it('triton-cni-missing: every symptom hangs under the weave CNI root cause', () => {
      const view = scenario('triton-cni-missing');
      const now = new Date();
      const checks = [cniNotRunning, corednsLoop, kubeDnsService, podNotRunning];
      const drafts = checks.flatMap((check, order) => check.run({ view, namespace: 'triton', now }).map((draft) => ({ check: check.id, order, draft })));
      const findings = linkFindings(drafts);
      const roots = findings.filter((f) => f.rootCause);
      expect(roots.map((f) => f.check)).toEqual(['cni-not-running']);
      expect(roots[0]!.symptoms.sort()).toEqual([
        'kube-dns-service/Service/kube-system/kube-dns',
        'pod-not-running/Deployment/kube-system/coredns',
        'pod-not-running/Deployment/triton/webapp-mysql',
        'pod-not-running/Pod/triton/mysql',
      ]);
    });
  });
});
