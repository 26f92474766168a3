import { nodeDuplicateIp } from '../../../src/checks/node-duplicate-ip';
import { cluster, node, runCheck, textOf } from './network-fixtures';

/** A node as a Vagrant VM's kubelet registers it without --node-ip: the NAT interface's address. */
function vm(name: string, ip: string, flannelIp?: string) {
  const n = node(name) as { metadata: Record<string, unknown>; status: Record<string, unknown> };
  n.status.addresses = [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }];
  if (flannelIp) n.metadata.annotations = { 'flannel.alpha.coreos.com/public-ip': flannelIp };
  return n;
}

describe('node-duplicate-ip', () => {
  it('names the nodes that share an InternalIP, with the kubelet --node-ip and flannel --iface fixes', () => {
    const [f, ...rest] = runCheck(nodeDuplicateIp, cluster([vm('kubemaster', '10.0.2.15', '10.0.2.15'), vm('kubenode01', '10.0.2.15', '10.0.2.15'), vm('kubenode02', '192.168.56.22')]), 'triton');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'NODE-DUPLICATE-IP', severity: 'critical', rootCause: true, subject: { kind: 'Node', name: 'kubemaster' } });
    expect(f!.title).toBe('2 nodes announce the same InternalIP 10.0.2.15: kubemaster, kubenode01');
    expect(textOf(f!)).toContain('flannel tunnels pod traffic to 10.0.2.15');
    expect(f!.advice!.join(' ')).toContain('--node-ip');
    expect(f!.advice!.join(' ')).toContain('--iface=');
  });

  it('is quiet when every node has its own address, or there is one node', () => {
    expect(runCheck(nodeDuplicateIp, cluster([vm('kubemaster', '192.168.56.2'), vm('kubenode01', '192.168.56.21')]), 'triton')).toEqual([]);
    expect(runCheck(nodeDuplicateIp, cluster([vm('controlplane', '10.0.2.15')]), 'triton')).toEqual([]);
  });
});
