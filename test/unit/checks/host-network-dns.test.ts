import { hostNetworkDns } from '../../../src/checks/host-network-dns';
import { cluster, deployment, runCheck, textOf } from './network-fixtures';

const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'triton' } };
const mysql = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: 'triton' }, spec: { selector: { name: 'mysql' }, ports: [{ port: 3306 }] } };

function webapp(o: { hostNetwork?: boolean; dnsPolicy?: string; env?: { name: string; value: string }[] }) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixture edits deep paths of a hand-built object
  const [deploy, rs] = deployment('triton', 'webapp-mysql', { name: 'webapp-mysql' }, o.dnsPolicy ? { dnsPolicy: o.dnsPolicy } : {}) as [Record<string, any>, Record<string, unknown>];
  const spec = deploy.spec.template.spec;
  if (o.hostNetwork !== undefined) spec.hostNetwork = o.hostNetwork;
  spec.containers[0].env = o.env ?? [{ name: 'DB_Host', value: 'mysql' }, { name: 'DB_User', value: 'root' }];
  return [deploy, rs];
}

describe('host-network-dns', () => {
  it('names a host-network Deployment with the default ClusterFirst policy whose env names a Service, with the patch that adds ClusterFirstWithHostNet', () => {
    const [f, ...rest] = runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({ hostNetwork: true })]), 'triton');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'WL-HOSTNET-DNS-POLICY', severity: 'critical', rootCause: true, subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp-mysql' } });
    expect(textOf(f!)).toContain('db_host=mysql names service triton/mysql');
    expect(f!.plan!.operations[0]).toMatchObject({
      action: 'patch',
      patchType: 'json',
      resourceVersion: '42',
      patch: [
        { op: 'test', path: '/spec/template/spec/hostNetwork', value: true },
        { op: 'add', path: '/spec/template/spec/dnsPolicy', value: 'ClusterFirstWithHostNet' },
      ],
    });
    // An explicit ClusterFirst is replaced under a test of its value.
    const [explicit] = runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({ hostNetwork: true, dnsPolicy: 'ClusterFirst' })]), 'triton');
    expect(explicit!.plan!.operations[0]).toMatchObject({
      patch: [
        { op: 'test', path: '/spec/template/spec/dnsPolicy', value: 'ClusterFirst' },
        { op: 'replace', path: '/spec/template/spec/dnsPolicy', value: 'ClusterFirstWithHostNet' },
      ],
    });
  });

  it('offers no plan when a rolling update would stall on the node\'s ports (seen on the real node), unless the strategy cannot surge', () => {
    const withPorts = (strategy?: Record<string, unknown>) => {
      const [deploy, rs] = webapp({ hostNetwork: true }) as [Record<string, any>, Record<string, unknown>]; // eslint-disable-line @typescript-eslint/no-explicit-any -- a hand-built fixture
      deploy.spec.template.spec.containers[0].ports = [{ containerPort: 8080 }];
      if (strategy) deploy.spec.strategy = strategy;
      return [deploy, rs];
    };
    const [f] = runCheck(hostNetworkDns, cluster([ns, mysql, ...withPorts()]), 'triton');
    expect(f).toMatchObject({ code: 'WL-HOSTNET-DNS-POLICY', plan: null });
    expect(f!.advice![0]).toContain("didn't have free ports");
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...withPorts({ type: 'Recreate' })]), 'triton')[0]!.plan).not.toBeNull();
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...withPorts({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } })]), 'triton')[0]!.plan).not.toBeNull();
  });

  it('leaves alone pods off the host network, the right policy, and host-network pods that name no Service (node agents)', () => {
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({ hostNetwork: false })]), 'triton')).toEqual([]);
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({})]), 'triton')).toEqual([]);
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' })]), 'triton')).toEqual([]);
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({ hostNetwork: true, dnsPolicy: 'Default' })]), 'triton')).toEqual([]);
    expect(runCheck(hostNetworkDns, cluster([ns, mysql, ...webapp({ hostNetwork: true, env: [{ name: 'NODE_NAME', value: 'node1' }, { name: 'API_URL', value: 'https://api.example.com' }] })]), 'triton')).toEqual([]);
  });
});
