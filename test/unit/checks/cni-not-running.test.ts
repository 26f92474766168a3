import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { parseSandboxError } from '../../../src/checks/support/cni';
import {
  CALICO_SANDBOX,
  FLANNEL_SANDBOX,
  WEAVE_SANDBOX,
  cluster,
  daemonSet,
  deployment,
  event,
  loud,
  node,
  pod,
  rsOf,
  runCheck,
  scenario,
  textOf,
} from './network-fixtures';
import { describeShared } from '../../support/scenarios';

const coreDnsLabels = { 'k8s-app': 'kube-dns' };
const kubeDnsService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'kube-dns', namespace: 'kube-system' },
  spec: { selector: coreDnsLabels, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] },
};

/** The seed lab: weave config on the node, no weave-net DaemonSet, app and CoreDNS stuck. */
function weaveMissing(extra: Record<string, unknown>[] = []) {
  return cluster([
    node('node1'),
    ...deployment('kube-system', 'coredns', coreDnsLabels),
    kubeDnsService,
    pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels: coreDnsLabels, shape: 'creating' }),
    event('Pod', 'kube-system', 'coredns-5d4f8c7b9-aaaaa', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { count: 43 }),
    ...deployment('triton', 'webapp', { app: 'webapp' }),
    pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: { app: 'webapp' }, shape: 'creating' }),
    event('Pod', 'triton', 'webapp-5d4f8c7b9-bbbbb', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { count: 12 }),
    pod('triton', 'mysql', { labels: { name: 'mysql' }, shape: 'creating' }),
    pod('kube-system', 'kube-proxy-xyz12', { owner: { kind: 'DaemonSet', name: 'kube-proxy' }, hostNetwork: true }),
    daemonSet('kube-system', 'kube-proxy', { labels: { 'k8s-app': 'kube-proxy' } }),
    ...extra,
  ]);
}

describe('parseSandboxError', () => {
  it('reads the plugin type, name and cause of the CRI form, shortening sandbox ids', () => {
    const f = parseSandboxError(WEAVE_SANDBOX)!;
    expect(f).toMatchObject({ pluginType: 'weave-net', pluginName: 'weave', family: 'weave' });
    expect(f.cause).toContain('dial tcp 127.0.0.1:6784: connect: connection refused');
    expect(f.cause).not.toMatch(/[0-9a-f]{40}/);
  });

  it('recognises flannel, calico and cilium causes', () => {
    expect(parseSandboxError(FLANNEL_SANDBOX)).toMatchObject({ family: 'flannel', pluginType: 'flannel' });
    expect(parseSandboxError(FLANNEL_SANDBOX)!.cause).toContain('/run/flannel/subnet.env: no such file or directory');
    expect(parseSandboxError(CALICO_SANDBOX)).toMatchObject({ family: 'calico' });
    expect(parseSandboxError('plugin type="cilium-cni" failed (add): unable to create endpoint: Cilium API client timeout exceeded')).toMatchObject({ family: 'cilium' });
    expect(parseSandboxError('unable to connect to Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout')).toMatchObject({ family: 'cilium' });
  });

  it('reads the dockershim form and infers the plugin from the cause', () => {
    const f = parseSandboxError('NetworkPlugin cni failed to set up pod "mysql_triton" network: unable to allocate IP address: Post "http://127.0.0.1:6784/ip/abc": dial tcp 127.0.0.1:6784: connect: connection refused');
    expect(f).toMatchObject({ family: 'weave' });
    expect(parseSandboxError('networkPlugin cni failed to set up pod "a_b" network: open /run/flannel/subnet.env: no such file or directory')).toMatchObject({ family: 'flannel' });
  });

  it('reads the delegate a meta plugin wraps (Multus), and containerd ≤ 1.5\'s form without a plugin type', () => {
    // k8snetworkplumbingwg/multus-cni#1276 (thick Multus: the shim's error carries flannel's).
    const multus = parseSandboxError(
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "5a79e741217dbbd05dfe532f8346627813a11bb7ee9979e43f74b6e322042c4f": plugin type="multus-shim" name="multus-cni-network" failed (add): CmdAdd (shim): CNI request failed with status 400: \'&{ContainerID:5a79e741217d IfName:eth0}\': error adding container to network "cbr0": plugin type="flannel" failed (add): failed to delegate add: bridge port in error state: lower-layer-down',
    );
    expect(multus).toMatchObject({ pluginType: 'flannel', family: 'flannel', cause: 'failed to delegate add: bridge port in error state: lower-layer-down' });
    // containerd 1.4/1.5 (pkg/cri/server/sandbox_run.go): `failed to setup network for sandbox %q: %w`.
    expect(parseSandboxError('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "14fe2d4a3f9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d": open /run/flannel/subnet.env: no such file or directory')).toMatchObject({
      family: 'flannel',
      cause: 'open /run/flannel/subnet.env: no such file or directory',
    });
    // k8snetworkplumbingwg/multus-cni#714: a chained plugin misconfigured, no plugin type named.
    expect(parseSandboxError('failed to setup network for sandbox "6c9215c6217bf47705e90719cb264e419c8bf0ac52f1c2feccb4ad496e015abd": [max-dev/mc-void:cbr0]: error adding container to network "cbr0": must be called as chained plugin')).toMatchObject({ family: 'other' });
  });

  it('falls back to the generic family for other plugins, and ignores non-network sandbox failures', () => {
    expect(parseSandboxError('plugin type="loopback" failed (add): failed to find plugin "loopback" in path [/opt/cni/bin]')).toMatchObject({ family: 'other', pluginType: 'loopback' });
    expect(parseSandboxError('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create containerd task: OCI runtime create failed')).toBeUndefined();
    expect(parseSandboxError(undefined)).toBeUndefined();
  });
});

describe('cni-not-running', () => {
  it('names the missing weave-net DaemonSet as the root cause, explaining every stuck pod and its workload', () => {
    const [f, ...rest] = runCheck(cniNotRunning, weaveMissing(), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' } });
    expect(textOf(f!)).toContain('weave');
    expect(textOf(f!)).toContain('cni');
    expect(f!.summary).toContain('CoreDNS');
    const explained = f!.explains!.map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}`);
    expect(explained).toEqual(
      expect.arrayContaining([
        'Pod/kube-system/coredns-5d4f8c7b9-aaaaa',
        'Deployment/kube-system/coredns',
        'Service/kube-system/kube-dns',
        'Pod/triton/webapp-5d4f8c7b9-bbbbb',
        'Deployment/triton/webapp',
        'Node//node1',
      ]),
    );
    // mysql has no event (expired) but waits on the same node: explained too.
    expect(explained).toContain('Pod/triton/mysql');
    expect(f!.evidence.some((e) => e.text.startsWith('1 more pod on the same nodes waits for a network') && e.text.includes('triton/mysql'))).toBe(true);
    expect(f!.summary).toContain('3 pods stuck in ContainerCreating');
    expect(f!.evidence.some((e) => e.type === 'event' && e.text.includes('(x43)') && e.command?.includes('kubectl get events -n kube-system'))).toBe(true);
    expect(f!.evidence.some((e) => e.text.startsWith('node/node1 Ready=True'))).toBe(true);
    expect(f!.advice!.join('\n')).toContain('kubectl apply -f https://github.com/weaveworks/weave/releases/download/v2.8.1/weave-daemonset-k8s.yaml');
    expect(f!.plan).toBeUndefined();
  });

  it('blames an unhealthy weave-net DaemonSet with its own crash evidence', () => {
    const view = weaveMissing([
      daemonSet('kube-system', 'weave-net', { ready: 0 }),
      pod('kube-system', 'weave-net-k7x2p', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'crashloop', hostNetwork: true, containers: ['weave', 'weave-npc'] }),
      event('Pod', 'kube-system', 'weave-net-k7x2p', 'BackOff', 'Back-off restarting failed container weave in pod weave-net-k7x2p', { count: 30 }),
    ]);
    const findings = runCheck(cniNotRunning, view, 'triton');
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' } });
    expect(f.title).toContain('unhealthy');
    expect(f.evidence.some((e) => e.text.includes('pod/weave-net-k7x2p -n kube-system: CrashLoopBackOff, 12 restarts'))).toBe(true);
    expect(f.evidence.some((e) => e.type === 'event' && e.text.includes('BackOff (x30)'))).toBe(true);
    expect(f.explains!.some((r) => r.kind === 'Deployment' && r.name === 'coredns')).toBe(true);
  });

  describe('the agent down on one node of several (CNI-03, partial)', () => {
    const flannel = { app: 'flannel' };
    const agentPod = (n: string, shape: 'running' | 'crashloop') =>
      pod('kube-flannel', `kube-flannel-ds-${n}xxxx`, { owner: { kind: 'DaemonSet', name: 'kube-flannel-ds' }, labels: flannel, node: n, hostNetwork: true, shape, containers: ['kube-flannel'] });
    const threeNodes = (brokenAgent: boolean) =>
      cluster([
        node('node1'),
        node('node2'),
        node('node3'),
        daemonSet('kube-flannel', 'kube-flannel-ds', { labels: flannel, desired: 3, ready: brokenAgent ? 2 : 3 }),
        agentPod('node1', 'running'),
        agentPod('node2', brokenAgent ? 'crashloop' : 'running'),
        agentPod('node3', 'running'),
        ...deployment('triton', 'web', { app: 'web' }, { replicas: 3 }),
        pod('triton', 'web-5d4f8c7b9-aaaaa', { owner: rsOf('web'), labels: { app: 'web' }, node: 'node1' }),
        pod('triton', 'web-5d4f8c7b9-bbbbb', { owner: rsOf('web'), labels: { app: 'web' }, node: 'node2', shape: 'creating' }),
        // kubelet on node2: the flannel CNI plugin finds no subnet.env while flanneld is down there.
        event('Pod', 'triton', 'web-5d4f8c7b9-bbbbb', 'FailedCreatePodSandBox', FLANNEL_SANDBOX, { count: 14 }),
        pod('triton', 'web-5d4f8c7b9-ccccc', { owner: rsOf('web'), labels: { app: 'web' }, node: 'node3' }),
      ]);

    it('names the node, scopes the harm to its pods, and says the pod network works elsewhere', () => {
      const findings = runCheck(cniNotRunning, threeNodes(true), 'triton');
      expect(findings).toHaveLength(1);
      const f = findings[0]!;
      expect(f).toMatchObject({ code: 'CNI-AGENT-DOWN-ON-NODE', severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-flannel', name: 'kube-flannel-ds' } });
      expect(f.title).toBe('CNI agent kube-flannel-ds is down on node2');
      expect(f.summary).toContain('Only pods on node2 are affected');
      expect(f.summary).toContain('node1, node3');
      expect(f.summary).not.toMatch(/No pod network|not installed|missing/i);
      expect(f.explains).toEqual(expect.arrayContaining([{ apiVersion: 'v1', kind: 'Node', name: 'node2' }, expect.objectContaining({ kind: 'Pod', name: 'web-5d4f8c7b9-bbbbb' })]));
      expect(f.explains!.some((r) => r.kind === 'Pod' && r.name === 'web-5d4f8c7b9-aaaaa')).toBe(false);
      expect(f.explains!.some((r) => r.kind === 'Node' && r.name !== 'node2')).toBe(false);
    });

    it('look-alike: the same sandbox error from before the agent recovered on every node is not a partial failure', () => {
      const findings = runCheck(cniNotRunning, threeNodes(false), 'triton');
      expect(findings.some((f) => f.code === 'CNI-AGENT-DOWN-ON-NODE')).toBe(false);
    });
  });

  it('quotes the failing agent container log (the previous instance)', () => {
    const objects = [
      node('node1'),
      daemonSet('kube-system', 'weave-net', { ready: 0 }),
      pod('kube-system', 'weave-net-k7x2p', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'crashloop', hostNetwork: true, containers: ['weave'] }),
    ];
    const view = cluster(objects, { 'kube-system/weave-net-k7x2p/weave#previous': 'INFO: starting\nFATA: Could not get peers: dial tcp 10.96.0.1:443: i/o timeout\n' });
    const [f] = runCheck(cniNotRunning, view, 'triton');
    // Nothing is stuck yet: degraded, not broken.
    expect(f).toMatchObject({ severity: 'warning', rootCause: true });
    expect(f!.evidence).toContainEqual({ type: 'log', text: 'FATA: Could not get peers: dial tcp 10.96.0.1:443: i/o timeout', command: 'kubectl logs -n kube-system weave-net-k7x2p -c weave --previous' });
    expect(f!.advice![0]).toContain('check kube-proxy on that node first');
  });

  it('groups flannel subnet.env sandbox failures under a flannel that cannot get its lease (CNI-04), with the fix hint', () => {
    const flannel = { app: 'flannel' };
    const view = cluster(
      [
        node('node1'),
        daemonSet('kube-flannel', 'kube-flannel-ds', { labels: flannel, ready: 0 }),
        pod('kube-flannel', 'kube-flannel-ds-x1y2z', { owner: { kind: 'DaemonSet', name: 'kube-flannel-ds' }, labels: flannel, shape: 'crashloop', hostNetwork: true, containers: ['kube-flannel'] }),
        pod('triton', 'mysql', { shape: 'creating' }),
        event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', FLANNEL_SANDBOX, { count: 20 }),
      ],
      { 'kube-flannel/kube-flannel-ds-x1y2z/kube-flannel#previous': 'I0301 main.go:211] CLI flags config\nE0301 main.go:335] Error registering network: failed to acquire lease: node "node1" pod cidr not assigned\n' },
    );
    const [f, ...rest] = runCheck(cniNotRunning, view, undefined);
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', subject: { kind: 'DaemonSet', namespace: 'kube-flannel', name: 'kube-flannel-ds' } });
    expect(f!.summary).toContain('/run/flannel/subnet.env: no such file or directory');
    expect(f!.evidence.some((e) => e.type === 'log' && e.text.includes('pod cidr not assigned'))).toBe(true);
    expect(f!.advice![0]).toContain('--allocate-node-cidrs=true');
  });

  it('only notes a CNI DaemonSet that exists but is still starting (look-alike)', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'weave-net', { ready: 0, ageMin: 1 }),
      pod('kube-system', 'weave-net-new01', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'creating', ageMin: 1, hostNetwork: true }),
      ...deployment('triton', 'webapp', { app: 'webapp' }),
      pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: { app: 'webapp' }, shape: 'creating', ageMin: 20 }),
      event('Pod', 'triton', 'webapp-5d4f8c7b9-bbbbb', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { count: 12, lastMin: 2 }),
    ]);
    const findings = runCheck(cniNotRunning, view, 'triton');
    expect(loud(findings)).toHaveLength(0);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'info', rootCause: true, title: 'CNI agent weave-net is still starting' });
    expect(findings[0]!.explains!.some((r) => r.kind === 'Deployment' && r.name === 'webapp')).toBe(true);
  });

  it('treats a rollout in progress as starting, not broken', () => {
    const view = cluster([
      node('node1'),
      node('node2'),
      daemonSet('kube-system', 'weave-net', { desired: 2, ready: 1, updated: 1, generation: 2, observed: 2 }),
      pod('kube-system', 'weave-net-aaaaa', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, node: 'node1', hostNetwork: true }),
      pod('kube-system', 'weave-net-bbbbb', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, node: 'node2', shape: 'notready', ageMin: 2, hostNetwork: true }),
    ]);
    expect(loud(runCheck(cniNotRunning, view, 'triton'))).toHaveLength(0);
  });

  it('says the agent does not run on the node when the DaemonSet skips it', () => {
    const view = cluster([
      node('node1'),
      node('node2'),
      daemonSet('kube-system', 'weave-net', { desired: 1, ready: 1 }),
      pod('kube-system', 'weave-net-aaaaa', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, node: 'node1', hostNetwork: true }),
      pod('triton', 'mysql', { node: 'node2', shape: 'creating' }),
      event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', WEAVE_SANDBOX),
    ]);
    const [f, ...rest] = runCheck(cniNotRunning, view, 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', title: 'CNI agent weave-net does not run on node2' });
    expect(f!.advice!.join(' ')).toContain('tolerations');
  });

  it('ignores sandbox events that predate a now-healthy agent', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'weave-net'),
      pod('kube-system', 'weave-net-aaaaa', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, ageMin: 3, hostNetwork: true }),
      pod('triton', 'mysql', { shape: 'creating', ageMin: 30 }),
      event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { lastMin: 10 }),
    ]);
    expect(runCheck(cniNotRunning, view, 'triton')).toHaveLength(0);
  });

  it('reports flannel missing even when its namespace was not read, and says so', () => {
    const view = cluster([
      node('node1'),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-flannel' } },
      pod('triton', 'mysql', { shape: 'creating' }),
      event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', FLANNEL_SANDBOX),
    ]);
    const [f] = runCheck(cniNotRunning, view, 'triton');
    expect(f).toMatchObject({ severity: 'critical', subject: { kind: 'DaemonSet', namespace: 'kube-flannel', name: 'kube-flannel-ds' } });
    expect(f!.summary).toContain('kube-flannel was not');
    expect(f!.advice!.join(' ')).toContain('kube-flannel.yml');
  });

  it('tells a stale CNI config apart when another CNI is healthy', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'calico-node', { labels: { 'k8s-app': 'calico-node' } }),
      pod('triton', 'mysql', { shape: 'creating' }),
      event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', WEAVE_SANDBOX),
    ]);
    const [f] = runCheck(cniNotRunning, view, 'triton');
    expect(f).toMatchObject({ severity: 'critical', subject: { kind: 'Node', name: 'node1' } });
    expect(f!.title).toContain('Stale Weave Net CNI config');
  });

  it('reports an unknown plugin with the generic fallback', () => {
    const view = cluster([
      node('node1'),
      pod('triton', 'mysql', { shape: 'creating' }),
      event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "x": plugin type="loopback" failed (add): failed to find plugin "loopback" in path [/opt/cni/bin]'),
    ]);
    const [f] = runCheck(cniNotRunning, view, 'triton');
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Node', name: 'node1' } });
    expect(f!.advice!.join(' ')).toContain('/opt/cni/bin');
  });

  it('finds no CNI at all from the node condition (CNI-02) and explains the Pending CoreDNS', () => {
    const view = cluster([
      node('cp', { ready: false, message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' }),
      ...deployment('kube-system', 'coredns', coreDnsLabels),
      pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels: coreDnsLabels, shape: 'pending' }),
      event('Pod', 'kube-system', 'coredns-5d4f8c7b9-aaaaa', 'FailedScheduling', '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available'),
      // Its FailedScheduling event expired: with no node Ready it still waits for the network.
      pod('kube-system', 'coredns-5d4f8c7b9-bbbbb', { owner: rsOf('coredns'), labels: coreDnsLabels, shape: 'pending' }),
      pod('kube-system', 'kube-proxy-xyz12', { owner: { kind: 'DaemonSet', name: 'kube-proxy' }, hostNetwork: true, node: 'cp' }),
    ]);
    const [f, ...rest] = runCheck(cniNotRunning, view, 'kube-system');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Node', name: 'cp' } });
    expect(textOf(f!)).toContain('cni plugin not initialized');
    expect(f!.explains!.map((r) => r.name)).toEqual(expect.arrayContaining(['cp', 'coredns-5d4f8c7b9-aaaaa', 'coredns-5d4f8c7b9-bbbbb', 'coredns']));
    expect(f!.explains!.map((r) => r.name)).not.toContain('kube-proxy-xyz12');
  });

  it('does not fire for a Pending pod that lacks CPU, nor for a non-network sandbox failure (look-alikes)', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'weave-net'),
      pod('kube-system', 'weave-net-aaaaa', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, hostNetwork: true }),
      pod('triton', 'big', { shape: 'pending' }),
      event('Pod', 'triton', 'big', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.'),
      pod('triton', 'oci', { shape: 'creating' }),
      event('Pod', 'triton', 'oci', 'FailedCreatePodSandBox', 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create containerd task: OCI runtime create failed'),
    ]);
    expect(runCheck(cniNotRunning, view, 'triton')).toHaveLength(0);
  });

  it('is quiet on a healthy cluster', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'weave-net'),
      pod('kube-system', 'weave-net-aaaaa', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, hostNetwork: true }),
      pod('triton', 'mysql'),
    ]);
    expect(runCheck(cniNotRunning, view, 'triton')).toHaveLength(0);
    expect(runCheck(cniNotRunning, view, undefined)).toHaveLength(0);
  });

  describeShared('on the shared scenarios', () => {
    it('healthy: no finding', () => {
      expect(runCheck(cniNotRunning, scenario('healthy'), 'triton', new Date())).toHaveLength(0);
    });

    it('triton-cni-missing: the weave CNI agent is the critical root cause', () => {
      const findings = runCheck(cniNotRunning, scenario('triton-cni-missing'), 'triton', new Date());
      expect(findings).toHaveLength(1);
      const f = findings[0]!;
      expect(f).toMatchObject({ severity: 'critical', rootCause: true });
      expect(textOf(f)).toContain('weave');
      expect(textOf(f)).toContain('cni');
      expect(f.explains!.map((r) => `${r.kind}/${r.name}`)).toEqual(
        expect.arrayContaining(['Pod/mysql', 'Deployment/webapp-mysql', 'Deployment/coredns', 'Service/kube-dns', 'Service/web-service']),
      );
    });

    it('triton-kube-proxy-config: not a CNI fault', () => {
      expect(runCheck(cniNotRunning, scenario('triton-kube-proxy-config'), 'triton', new Date())).toHaveLength(0);
    });
  });
});

