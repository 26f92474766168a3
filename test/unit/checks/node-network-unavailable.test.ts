import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { nodeNetworkUnavailable } from '../../../src/checks/node-network-unavailable';
import { linkFindings } from '../../../src/engine/link-findings';
import { cluster, daemonSet, node, pod, runCheck, scenario, scenarioNames, NOW } from './network-fixtures';

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

  it('is quiet when no node reports NetworkUnavailable (look-alike: condition False)', () => {
    const n = node('node1');
    ((n.status as { conditions: unknown[] }).conditions).push({ type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' });
    expect(runCheck(nodeNetworkUnavailable, cluster([n]), 'triton')).toHaveLength(0);
  });

  it.each(scenarioNames())('scenario %s: nothing', (name) => {
    expect(runCheck(nodeNetworkUnavailable, scenario(name), 'triton', new Date())).toHaveLength(0);
  });
});
