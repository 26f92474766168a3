import { daemonsetNoNodes, exclusionReasons } from '../../../src/checks/daemonset-no-nodes';
import { viewOf } from '../../support/view';
import { describeShared } from '../../support/scenarios';
import { runOn, scenarioNames } from './scenario-view';

const run = (yaml: string, namespace: string | null = 'triton') => daemonsetNoNodes.run({ view: viewOf(yaml), namespace: namespace ?? undefined, now: new Date() });

function node(name: string, labels: Record<string, string> = {}, taints: { key: string; value?: string; effect: string }[] = []): string {
  return `---
apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: ${JSON.stringify({ 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels })}}
spec: {taints: ${JSON.stringify(taints)}}
`;
}
function daemonSet(name: string, ns: string, spec: Record<string, unknown>, desired: number | null, labels: Record<string, string> = { app: name }): string {
  return `---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: ${JSON.stringify(labels)}}
  template:
    metadata: {labels: ${JSON.stringify(labels)}}
    spec: ${JSON.stringify({ containers: [{ name: 'main', image: 'example' }], ...spec })}
${desired === null ? '' : `status: {desiredNumberScheduled: ${desired}, currentNumberScheduled: 0, numberReady: 0}`}
`;
}
const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

// No component logs this: the DaemonSet controller simply computes desiredNumberScheduled 0 (pkg/controller/daemon);
// the evidence is the DaemonSet status against the nodes' labels and taints.
describe('daemonset-no-nodes', () => {
  it('kube-proxy with a nodeSelector no node carries: critical, names the node and the missing label', () => {
    const yaml = node('controlplane', { 'node-role.kubernetes.io/control-plane': '' }) + daemonSet('kube-proxy', 'kube-system', { nodeSelector: { 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '' } }, 0, { 'k8s-app': 'kube-proxy' });
    const [f, ...rest] = run(yaml);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'WL-DS-NO-NODES', severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' }, plan: null });
    expect(f!.summary).toContain('controlplane: nodeSelector node-role.kubernetes.io/worker= (node has no node-role.kubernetes.io/worker label)');
    expect(f!.summary).toContain('Without kube-proxy no node programs Service rules');
    expect(f!.advice![0]).toContain('remove that key');
  });

  it('a CNI agent without tolerations on tainted nodes is critical; an app DaemonSet is a warning, in its own namespace only', () => {
    const nodes = node('cp', {}, [CONTROL_PLANE_TAINT]) + node('w1', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    const [cni] = run(nodes + daemonSet('kube-flannel-ds', 'kube-flannel', { hostNetwork: true }, 0, { app: 'flannel' }));
    expect(cni).toMatchObject({ severity: 'critical', subject: { name: 'kube-flannel-ds' } });
    expect(cni!.summary).toContain('cp: untolerated taint node-role.kubernetes.io/control-plane:NoSchedule');
    expect(cni!.summary).toContain('w1: untolerated taint dedicated=gpu:NoSchedule');
    const app = daemonSet('log-agent', 'triton', {}, 0);
    expect(run(nodes + app)[0]).toMatchObject({ severity: 'warning' });
    expect(run(nodes + app, 'other')).toEqual([]);
  });

  it('required node affinity that matches no node', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] }] } } };
    const [f] = run(node('n1', { 'kubernetes.io/arch': 'amd64' }) + daemonSet('agent', 'triton', { affinity }, 0));
    expect(f!.summary).toContain('required node affinity kubernetes.io/arch In (arm64) does not match');
  });

  it('kube-proxy kept off a new tainted pool while it runs elsewhere: critical when the namespace has pods there, naming node and taint', () => {
    const nodes = node('cp', {}, [CONTROL_PLANE_TAINT]) + node('w1') + node('gpu1', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    const kubeProxy = daemonSet('kube-proxy', 'kube-system', { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'kubernetes.io/os': 'linux' } }, 2, { 'k8s-app': 'kube-proxy' });
    const webOnGpu = `---
apiVersion: v1
kind: Pod
metadata: {name: webapp-1, namespace: triton}
spec: {nodeName: gpu1, containers: [{name: web, image: web}]}
status: {phase: Running}
`;
    const [f, ...rest] = run(nodes + kubeProxy + webOnGpu);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'WL-DS-SOME-NODES', severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' } });
    expect(f!.title).toBe('DaemonSet kube-proxy (kube-proxy) does not run on 1 of 3 nodes: gpu1');
    expect(f!.summary).toContain('gpu1 (untolerated taint dedicated=gpu:NoSchedule)');
    expect(f!.summary).toContain('webapp-1');
    expect(f!.advice![0]).toContain('Tolerate dedicated=gpu:NoSchedule');
    // No pod of the namespace there: still worth knowing, a warning.
    expect(run(nodes + kubeProxy)).toMatchObject([{ code: 'WL-DS-SOME-NODES', severity: 'warning' }]);
    // A Windows node left out by kubernetes.io/os=linux is meant to be.
    expect(run(node('w1') + node('win1', { 'kubernetes.io/os': 'windows' }) + daemonSet('kube-proxy', 'kube-system', { nodeSelector: { 'kubernetes.io/os': 'linux' } }, 1, { 'k8s-app': 'kube-proxy' }))).toEqual([]);
    // An app DaemonSet on some nodes only is its own business.
    expect(run(node('w1') + node('gpu1', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]) + daemonSet('log-agent', 'triton', {}, 1))).toEqual([]);
  });

  it('look-alikes that must not fire: pods wanted somewhere, tolerated taints (also the controller-added ones), no nodes at all', () => {
    expect(run(node('n1') + daemonSet('kube-proxy', 'kube-system', {}, 1, { 'k8s-app': 'kube-proxy' }))).toEqual([]);
    expect(run(node('cp', {}, [CONTROL_PLANE_TAINT]) + daemonSet('kube-proxy', 'kube-system', { tolerations: [{ operator: 'Exists' }] }, 0, { 'k8s-app': 'kube-proxy' }))).toEqual([]);
    expect(run(node('n1', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]) + daemonSet('kube-proxy', 'kube-system', {}, null, { 'k8s-app': 'kube-proxy' }))).toEqual([]);
    // GPU-only DaemonSet on a cluster with a GPU node: some node qualifies.
    expect(run(node('n1') + node('gpu-1', { gpu: 'true' }) + daemonSet('nvidia', 'triton', { nodeSelector: { gpu: 'true' } }, 0))).toEqual([]);
    expect(run(daemonSet('kube-proxy', 'kube-system', {}, 0, { 'k8s-app': 'kube-proxy' }))).toEqual([]);
    expect(exclusionReasons({ containers: [], tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }, viewOf(node('w1', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }])).list('Node')[0]!)).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(runOn(daemonsetNoNodes, name)).toEqual([]);
      expect(runOn(daemonsetNoNodes, name, 'cluster')).toEqual([]);
    });
  });
});
