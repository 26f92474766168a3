import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { nodeNetworkUnavailable } from '../../../src/checks/node-network-unavailable';
import { linkFindings } from '../../../src/engine/link-findings';
import { ago, cluster, daemonSet, node, pod, runCheck, scenario, scenarioNames, NOW } from './network-fixtures';
import { describeShared } from '../../support/scenarios';

const calico = { 'k8s-app': 'calico-node' };
const unavailable = { reason: 'CalicoIsDown', message: 'Calico is shutting down on this node' };

describe('node-network-unavailable', () => {
  it('is a symptom of a CNI agent that is down on the node, linked under the cni-not-running root cause', () => {
    const view = cluster([
      node('node1'),
      node('node2', { networkUnavailable: unavailable }),
      daemonSet('kube-system', 'calico-node', { labels: calico, desired: 2, ready: 1 }),
      pod('kube-system', 'calico-node-aaaaa', { owner: { kind: 'DaemonSet', name: 'calico-node' }, labels: calico, node: 'node1', hostNetwork: true }),
      pod('kube-system', 'calico-node-bbbbb', { owner: { kind: 'DaemonSet', name: 'calico-node' }, labels: calico, node: 'node2', hostNetwork: true, shape: 'crashloop' }),
    ]);
    const [f, ...rest] = runCheck(nodeNetworkUnavailable, view, 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'warning', rootCause: false, subject: { kind: 'Node', name: 'node2' } });
    expect(f!.evidence[0]!.text).toBe('node/node2 NetworkUnavailable=True (CalicoIsDown): Calico is shutting down on this node, for 30m');

    const drafts = [cniNotRunning, nodeNetworkUnavailable].flatMap((check, order) => check.run({ view, namespace: 'triton', now: NOW }).map((draft) => ({ check: check.id, order, draft })));
    const linked = linkFindings(drafts);
    const root = linked.find((x) => x.rootCause)!;
    expect(root).toMatchObject({ check: 'cni-not-running', severity: 'critical', subject: { kind: 'DaemonSet', name: 'calico-node' } });
    expect(root.symptoms).toEqual(['node-network-unavailable/Node//node2']);
  });

  it('is a root cause when no CNI agent is down (cloud routes), critical when every node is affected', () => {
    const view = cluster([node('node1', { networkUnavailable: { reason: 'NoRouteCreated', message: 'Node created without a route' } })]);
    const [f] = runCheck(nodeNetworkUnavailable, view, undefined);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Node', name: 'node1' } });
    expect(f!.advice!.join(' ')).toContain('cloud-controller-manager');
    expect(f!.advice!.join(' ')).toContain('Do not patch the node status by hand');
  });

  describe('cloud routes (NoRouteCreated)', () => {
    // k8s.io/cloud-provider controllers/route/route_controller.go: reason NoRouteCreated, message
    // "RouteController failed to create a route", and a FailedToCreateRoute event on the Node whose text is
    // "Could not create route %s %s for node %s after %v: %v" (this cloud error from hetznercloud/hcloud-cloud-controller-manager#134).
    const ROUTE_EVENT =
      'Could not create route e1ced4d4-b410-4b86-9138-72c1ede017b6 10.244.1.0/24 for node node2 after 166.14063ms: hcloud/CreateRoute: hcops/AllServersCache.ByName: hcops/AllServersCache.getCache: not found';
    // pkg/scheduler/framework/plugins/tainttoleration: "node(s) had untolerated taint {%s: %s}" up to 1.32, "node(s) had untolerated taint(s)" since.
    const OLD_SCHED = '0/2 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {node.kubernetes.io/network-unavailable: }. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.';
    const NEW_SCHED = '0/2 nodes are available: 2 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.';
    const tainted = (n: Record<string, unknown>, taints: { key: string; effect: string }[]): Record<string, unknown> => ({ ...n, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], taints } });
    const routeEvent = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'node2.17a', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'node2', uid: 'e1ced4d4' }, reason: 'FailedToCreateRoute', type: 'Warning', count: 40, lastTimestamp: ago(1), message: ROUTE_EVENT };
    const schedEvent = (pod: string, message: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `${pod}.fs`, namespace: 'triton' }, involvedObject: { kind: 'Pod', name: pod, namespace: 'triton' }, reason: 'FailedScheduling', type: 'Warning', lastTimestamp: ago(1), message });
    const objects = (message: string, extraPod: Record<string, unknown>[] = []): Record<string, unknown>[] => [
      tainted(node('node1'), [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]),
      tainted(node('node2', { networkUnavailable: { reason: 'NoRouteCreated', message: 'RouteController failed to create a route' } }), [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]),
      routeEvent,
      pod('triton', 'web-7d9f8-abcde', { shape: 'pending', owner: { kind: 'ReplicaSet', name: 'web-7d9f8' }, labels: { app: 'web' } }),
      schedEvent('web-7d9f8-abcde', message),
      ...extraPod,
    ];

    it('quotes the FailedToCreateRoute cloud error and hangs the Pending pods the taint keeps off under the node', () => {
      const [f, ...rest] = runCheck(nodeNetworkUnavailable, cluster(objects(OLD_SCHED)), 'triton');
      expect(rest).toHaveLength(0);
      expect(f).toMatchObject({ code: 'NODE-ROUTE-MISSING', severity: 'critical', rootCause: true, subject: { kind: 'Node', name: 'node2' } });
      expect(f!.summary).toContain('hcloud/CreateRoute: hcops/AllServersCache.ByName: hcops/AllServersCache.getCache: not found');
      expect(f!.summary).toContain('10.244.1.0/24');
      expect(f!.summary).toContain('1 pod is Pending');
      expect(f!.evidence.map((e) => e.text)).toEqual(expect.arrayContaining([`Warning FailedToCreateRoute (x40): ${ROUTE_EVENT}`, `pod triton/web-7d9f8-abcde Pending: ${OLD_SCHED}`]));
      expect(f!.explains).toEqual(expect.arrayContaining([{ apiVersion: 'v1', kind: 'Pod', namespace: 'triton', name: 'web-7d9f8-abcde' }]));
      expect(f!.advice!.join(' ')).toContain('FailedToCreateRoute');
    });

    it('reads the 1.33+ scheduler message, which no longer names the taint, from the pod tolerations', () => {
      const [f] = runCheck(nodeNetworkUnavailable, cluster(objects(NEW_SCHED)), 'triton');
      expect(f!.summary).toContain('1 pod is Pending');
    });

    it("falls back to the pod's PodScheduled=False condition once the FailedScheduling event has expired", () => {
      const expired = objects(OLD_SCHED)
        .filter((o) => !(o.kind === 'Event' && o.reason === 'FailedScheduling'))
        .map((o) => (o.kind === 'Pod' ? { ...o, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: NEW_SCHED }] } } : o));
      const [f] = runCheck(nodeNetworkUnavailable, cluster(expired), 'triton');
      expect(f!.summary).toContain('1 pod is Pending');
      expect(f!.evidence.map((e) => e.text)).toContain(`pod triton/web-7d9f8-abcde Pending: ${NEW_SCHED}`);
    });

    it('look-alikes: a pod Pending for another taint, one that tolerates network-unavailable, one Pending for cpu', () => {
      const other = '0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}.';
      const [f] = runCheck(nodeNetworkUnavailable, cluster(objects(other)), 'triton');
      expect(f!.summary).not.toContain('Pending because');
      const tolerant = objects(NEW_SCHED).map((o) =>
        o.kind === 'Pod' ? { ...o, spec: { ...(o.spec as object), tolerations: [{ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' }] } } : o,
      );
      expect(runCheck(nodeNetworkUnavailable, cluster(tolerant), 'triton')[0]!.summary).not.toContain('Pending because');
      const cpu = '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';
      expect(runCheck(nodeNetworkUnavailable, cluster(objects(cpu)), 'triton')[0]!.summary).not.toContain('Pending because');
    });
  });

  it('is quiet when no node reports NetworkUnavailable (look-alike: condition False)', () => {
    const n = node('node1');
    ((n.status as { conditions: unknown[] }).conditions).push({ type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' });
    expect(runCheck(nodeNetworkUnavailable, cluster([n]), 'triton')).toHaveLength(0);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: nothing', (name) => {
      expect(runCheck(nodeNetworkUnavailable, scenario(name), 'triton', new Date())).toHaveLength(0);
    });
  });
});
