import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { podIpExhaustion } from '../../../src/checks/pod-ip-exhaustion';
import { ipExhaustion, ipv4Ranges } from '../../../src/checks/support/ipam';
import { viewOf } from '../../support/view';
import { event, pod } from './service-fixtures';
import { describeShared } from '../../support/scenarios';
import { runOn, scenarioNames } from './scenario-view';

const ctx = (yaml: string, namespace: string | null = null) => ({ view: viewOf(yaml), namespace: namespace ?? undefined, now: new Date('2026-03-01T07:00:00Z') });
const run = (yaml: string, namespace: string | null = null) => podIpExhaustion.run(ctx(yaml, namespace));

/**
 * Upstream texts:
 * - host-local: containernetworking/plugins plugins/ipam/host-local/main.go (`failed to allocate for range %d: %v`) around
 *   backend/allocator/allocator.go (`no IP addresses available in range set: %s`), inside containerd's CRI sandbox error.
 * - Calico: projectcalico cni-plugin pkg/ipamplugin/ipam_plugin.go, `failed to request %d IPv4 addresses. IPAM allocated only %d`.
 * - Cilium: plugins/cilium-cni `unable to allocate IP via local cilium agent: %w` with the agent's `[POST /ipam][502] postIpamFailure  range is full`
 *   (as quoted in cilium/cilium#10627), `all CIDR ranges are exhausted` (pkg/ipam multi-pool cidrPool.allocateNext),
 *   `no IPs currently available on the node, …` (pkg/ipam/crd.go).
 */
const HOST_LOCAL =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "5b8f0c1e2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c": plugin type="bridge" name="cbr0" failed (add): failed to allocate for range 0: no IP addresses available in range set: 10.244.0.1-10.244.0.254';
const CALICO = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="calico" failed (add): failed to request 1 IPv4 addresses. IPAM allocated only 0';
const CILIUM =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up sandbox container "3948297ee605" network for pod "web-1": networkPlugin cni failed to set up pod "web-1_triton" network: unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure  range is full';

const NODE = `---
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.0.0/24, podCIDRs: [10.244.0.0/24]}
status: {conditions: [{type: Ready, status: 'True'}]}
`;
const running = (n: number): string => Array.from({ length: n }, (_, i) => pod(`run-${i}`, { ip: `10.244.0.${i + 2}` })).join('');
const stuck = (name: string, message: string): string => pod(name, { ready: false, phase: 'Pending', waiting: 'ContainerCreating', ip: '' }).replace("podIP: ''\n", '') + event(name, 'FailedCreatePodSandBox', message, { count: 31 });

describe('pod-ip-exhaustion', () => {
  it('parses host-local, Calico and Cilium exhaustion, and not other sandbox failures', () => {
    expect(ipExhaustion(HOST_LOCAL)).toEqual({ ipam: 'host-local', rangeSet: '10.244.0.1-10.244.0.254', text: 'failed to allocate for range 0: no IP addresses available in range set: 10.244.0.1-10.244.0.254' });
    expect(ipExhaustion(CALICO)).toMatchObject({ ipam: 'calico-ipam', text: 'failed to request 1 IPv4 addresses. IPAM allocated only 0' });
    expect(ipExhaustion(CILIUM)).toMatchObject({ ipam: 'cilium', text: 'unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure range is full' });
    // Cilium's multi-pool and CRD (ENI/Azure) allocators say it in their own words.
    expect(ipExhaustion('plugin type="cilium-cni" failed (add): unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure "all CIDR ranges are exhausted"')).toMatchObject({ ipam: 'cilium' });
    expect(ipExhaustion('plugin type="cilium-cni" failed (add): unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure "no IPs currently available on the node, allocation will be retried once Cilium Operator allocates more IPs"')).toMatchObject({ ipam: 'cilium' });
    expect(ipExhaustion('plugin type="cilium-cni" failed (add): unable to connect to Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout')).toBeUndefined();
    expect(ipExhaustion('plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory')).toBeUndefined();
    expect(ipv4Ranges('10.244.0.1-10.244.0.254,10.245.0.1-10.245.0.10')).toEqual([
      { start: 183762945, end: 183763198 },
      { start: 183828481, end: 183828490 },
    ]);
  });

  it('host-local range full with 4 pods holding addresses: names the range, the count and the leaked reservations; not a CNI failure', () => {
    const yaml = NODE + running(4) + stuck('web-1', HOST_LOCAL) + stuck('web-2', HOST_LOCAL);
    const [f, ...rest] = run(yaml);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'CNI-IPAM-EXHAUSTED', severity: 'critical', rootCause: true, subject: { kind: 'Node', name: 'node-1' } });
    expect(f!.summary).toContain('range 10.244.0.1-10.244.0.254 (podCIDR 10.244.0.0/24)');
    expect(f!.summary).toContain('4 pod(s) hold an address');
    expect(f!.summary).toContain('about 249 reservations are leaked');
    expect(f!.advice![0]).toContain('/var/lib/cni/networks/cbr0/');
    expect(f!.explains).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'Pod', name: 'web-1' }), expect.objectContaining({ kind: 'Pod', name: 'web-2' })]));
    // cni-not-running leaves them alone: the CNI works, the range is used up.
    expect(cniNotRunning.run(ctx(yaml))).toEqual([]);
  });

  it('a genuinely full range says so instead of leaks; Calico and Cilium get their own advice', () => {
    const full = NODE.replace(/10\.244\.0\.0\/24/g, '10.244.0.0/29') + running(5) + stuck('web-1', HOST_LOCAL.replace('10.244.0.1-10.244.0.254', '10.244.0.1-10.244.0.6'));
    expect(run(full)[0]!.summary).toContain('All 5 usable addresses are held by running pods');
    expect(run(NODE + running(2) + stuck('web-1', CALICO))[0]!.advice![0]).toContain('calicoctl ipam check');
    expect(run(NODE + stuck('web-1', CILIUM))[0]!.advice![0]).toContain('cilium status --all-addresses');
  });

  it('look-alikes that must not fire: other sandbox failures, a pod that got its IP since, a namespace run where no stuck pod is', () => {
    expect(run(NODE + stuck('web-1', 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "x": plugin type="weave-net" name="weave" failed (add): unable to allocate IP address: Post "http://127.0.0.1:6784/ip/x": dial tcp 127.0.0.1:6784: connect: connection refused'))).toEqual([]);
    expect(run(NODE + pod('web-1', { ip: '10.244.0.9' }) + event('web-1', 'FailedCreatePodSandBox', HOST_LOCAL))).toEqual([]);
    expect(run(NODE + stuck('web-1', HOST_LOCAL), 'other')).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(runOn(podIpExhaustion, name)).toEqual([]);
      expect(runOn(podIpExhaustion, name, 'cluster')).toEqual([]);
    });
  });
});
