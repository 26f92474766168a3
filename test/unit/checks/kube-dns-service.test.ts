import { kubeDnsService } from '../../../src/checks/kube-dns-service';
import { WEAVE_SANDBOX, cluster, daemonSet, deployment, event, loud, node, pod, rsOf, runCheck, scenario, scenarioNames } from './network-fixtures';
import { describeShared } from '../../support/scenarios';

const labels = { 'k8s-app': 'kube-dns' };
const containerPorts = [
  { containerPort: 53, name: 'dns', protocol: 'UDP' },
  { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
  { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
];
const goodPorts = [
  { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
  { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
  { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
];

function service(selector: Record<string, string>, ports: unknown[] = goodPorts) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', resourceVersion: '1056', labels: { 'k8s-app': 'kube-dns' } },
    spec: { clusterIP: '10.96.0.10', selector, ports },
  };
}

function slice(ready: boolean | null) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kube-dns-abcde', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
    addressType: 'IPv4',
    endpoints:
      ready === null
        ? []
        : [{ addresses: ['10.32.0.3'], conditions: { ready }, targetRef: { kind: 'Pod', name: 'coredns-5d4f8c7b9-aaaaa', namespace: 'kube-system' } }],
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ],
  };
}

/** kubeadm's ConfigMap kube-system/kubelet-config with these clusterDNS nameservers. */
const kubeletConfig = (clusterDns: string[]) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'kubelet-config', namespace: 'kube-system' },
  data: { kubelet: `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS:\n${clusterDns.map((ip) => `- ${ip}`).join('\n')}\nclusterDomain: cluster.local\n` },
});

function dns(svc: unknown, opts: { shape?: 'running' | 'creating'; slice?: boolean | null; extra?: Record<string, unknown>[] } = {}) {
  return cluster([
    node('node1'),
    ...deployment('kube-system', 'coredns', labels, { ports: containerPorts }),
    pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels, shape: opts.shape ?? 'running', ports: containerPorts, containers: ['coredns'] }),
    pod('kube-system', 'coredns-5d4f8c7b9-bbbbb', { owner: rsOf('coredns'), labels, shape: opts.shape ?? 'running', ports: containerPorts, containers: ['coredns'] }),
    ...(svc ? [svc as Record<string, unknown>] : []),
    slice(opts.slice === undefined ? (opts.shape ?? 'running') === 'running' : opts.slice),
    ...(opts.extra ?? []),
  ]);
}

describe('kube-dns-service', () => {
  it('is quiet when kube-dns selects Ready CoreDNS pods on the baseline ports', () => {
    expect(runCheck(kubeDnsService, dns(service(labels)), 'triton')).toHaveLength(0);
  });

  it('blames kube-dns recreated at another clusterIP than the kubelet clusterDNS every pod uses', () => {
    const moved = { ...service(labels), spec: { ...service(labels).spec, clusterIP: '10.96.143.7' } };
    const [f, ...rest] = runCheck(kubeDnsService, dns(moved, { extra: [kubeletConfig(['10.96.0.10'])] }), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ code: 'DNS-SVC-CLUSTERIP', severity: 'critical', rootCause: true, subject: { kind: 'Service', namespace: 'kube-system', name: 'kube-dns' } });
    expect(f!.summary).toContain('has clusterIP 10.96.143.7, while the kubelet writes nameserver 10.96.0.10');
    expect(f!.advice![0]).toContain('set spec.clusterIP and spec.clusterIPs to 10.96.0.10');
    // Look-alikes: kube-dns at the clusterDNS IP; NodeLocal DNSCache (clusterDNS is its link-local listener); no kubelet-config.
    expect(runCheck(kubeDnsService, dns(service(labels), { extra: [kubeletConfig(['10.96.0.10'])] }), 'triton')).toHaveLength(0);
    expect(runCheck(kubeDnsService, dns(moved, { extra: [kubeletConfig(['169.254.20.10'])] }), 'triton')).toHaveLength(0);
    expect(runCheck(kubeDnsService, dns(moved), 'triton')).toHaveLength(0);
  });

  it('blames a selector that misses CoreDNS, names the near-miss labels and plans the exact patch', () => {
    const [f, ...rest] = runCheck(kubeDnsService, dns(service({ 'k8s-app': 'coredns' }), { slice: null }), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Service', namespace: 'kube-system', name: 'kube-dns' } });
    expect(f!.title).toBe('kube-dns selector k8s-app=coredns selects no CoreDNS pods');
    expect(f!.evidence[0]!.text).toContain('k8s-app=coredns: the CoreDNS pods are labelled k8s-app=kube-dns');
    expect(f!.plan).toMatchObject({
      risk: 'low',
      operations: [
        {
          action: 'patch',
          target: { apiVersion: 'v1', kind: 'Service', namespace: 'kube-system', name: 'kube-dns' },
          patchType: 'json',
          resourceVersion: '1056',
          patch: [
            { op: 'test', path: '/spec/selector', value: { 'k8s-app': 'coredns' } },
            { op: 'replace', path: '/spec/selector', value: { 'k8s-app': 'kube-dns' } },
          ],
        },
      ],
      verify: { check: 'kube-dns-service', subject: { kind: 'Service', name: 'kube-dns' }, waitFor: 'endpoints' },
    });
    expect(f!.plan!.id).toMatch(/^plan-[0-9a-f]{16}$/);
  });

  it('plans scaling CoreDNS back to two replicas when its Deployment is scaled to zero', () => {
    const objects = [node('node1'), ...deployment('kube-system', 'coredns', labels, { replicas: 0, ports: containerPorts }), service(labels), slice(null)];
    const [f, ...rest] = runCheck(kubeDnsService, cluster(objects), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ code: 'DNS-SCALED-TO-ZERO', rootCause: true, subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } });
    expect(f!.plan?.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'coredns' },
        patchType: 'json',
        patch: [
          { op: 'test', path: '/spec/replicas', value: 0 },
          { op: 'replace', path: '/spec/replicas', value: 2 },
        ],
        resourceVersion: '42',
      },
    ]);
    expect(f!.plan?.verify).toEqual({ check: 'kube-dns-service', subject: f!.subject, waitFor: 'rollout' });
  });

  it('reports a missing key in the selector', () => {
    const [f] = runCheck(kubeDnsService, dns(service({ 'k8s-app': 'kube-dns', tier: 'dns' }), { slice: null }), 'triton');
    expect(f!.evidence[0]!.text).toContain('tier=dns: the CoreDNS pods have no tier label');
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/selector', value: { 'k8s-app': 'kube-dns' } });
  });

  it('plans a targetPort fix when 53/UDP points at a port CoreDNS does not serve', () => {
    const ports = [{ ...goodPorts[0], targetPort: 5353 }, goodPorts[1], goodPorts[2]];
    const [f, ...rest] = runCheck(kubeDnsService, dns(service(labels, ports)), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, title: 'kube-dns Service ports are wrong' });
    expect(f!.summary).toContain('CoreDNS does not serve 5353/UDP');
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/ports/0/targetPort', value: 5353 },
      { op: 'replace', path: '/spec/ports/0/targetPort', value: 53 },
    ]);
  });

  it('plans a fix for a named targetPort that no CoreDNS port has', () => {
    const ports = [goodPorts[0], { ...goodPorts[1], targetPort: 'dns-tcpp' }, goodPorts[2]];
    const [f] = runCheck(kubeDnsService, dns(service(labels, ports)), 'triton');
    expect(f!.summary).toContain('no CoreDNS container port is named "dns-tcpp"');
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/ports/1/targetPort', value: 'dns-tcpp' },
      { op: 'replace', path: '/spec/ports/1/targetPort', value: 'dns-tcp' },
    ]);
  });

  it('accepts named targetPorts that CoreDNS declares (look-alike)', () => {
    const ports = [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
      { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 'metrics' },
    ];
    expect(runCheck(kubeDnsService, dns(service(labels, ports)), 'triton')).toHaveLength(0);
  });

  it('advises (no plan) when the 53/UDP port is missing altogether', () => {
    const [f] = runCheck(kubeDnsService, dns(service(labels, [goodPorts[1], goodPorts[2]])), 'triton');
    expect(f).toMatchObject({ severity: 'critical' });
    expect(f!.plan).toBeUndefined();
    expect(f!.summary).toContain('no 53/UDP port');
    expect(f!.advice!.join(' ')).toContain('kubectl -n kube-system patch service kube-dns --type=json');
  });

  it('only warns when 53/TCP is missing', () => {
    const [f] = runCheck(kubeDnsService, dns(service(labels, [goodPorts[0], goodPorts[2]])), 'triton');
    expect(f!.severity).toBe('warning');
  });

  it('reports no ready endpoints as a symptom of CoreDNS not being Ready, explained by whatever holds CoreDNS', () => {
    const [f, ...rest] = runCheck(kubeDnsService, dns(service(labels), { shape: 'creating', slice: null }), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: false, subject: { kind: 'Service', name: 'kube-dns' } });
    expect(f!.explains!.map((r) => `${r.kind}/${r.name}`)).toEqual(expect.arrayContaining(['Deployment/coredns', 'Pod/coredns-5d4f8c7b9-aaaaa']));
  });

  it('only notes no ready endpoints while CoreDNS waits for a CNI agent that is still starting (look-alike)', () => {
    const view = cluster([
      node('node1'),
      daemonSet('kube-system', 'weave-net', { ready: 0, ageMin: 1 }),
      pod('kube-system', 'weave-net-new01', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'creating', ageMin: 1, hostNetwork: true }),
      ...deployment('kube-system', 'coredns', labels, { ports: containerPorts }),
      pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels, shape: 'creating', ports: containerPorts, containers: ['coredns'] }),
      event('Pod', 'kube-system', 'coredns-5d4f8c7b9-aaaaa', 'FailedCreatePodSandBox', WEAVE_SANDBOX),
      service(labels),
      slice(null),
    ]);
    const [f] = runCheck(kubeDnsService, view, 'triton');
    expect(f).toMatchObject({ severity: 'info', rootCause: false });
    expect(f!.summary).toContain('They wait for the CNI agent weave-net, which is still starting.');
  });

  it('says the controller is not publishing endpoints when CoreDNS is Ready but the slice is empty', () => {
    const [f] = runCheck(kubeDnsService, dns(service(labels), { slice: null }), 'triton');
    expect(f).toMatchObject({ severity: 'warning', rootCause: true });
  });

  it('reports a missing kube-dns Service', () => {
    const [f] = runCheck(kubeDnsService, dns(undefined), 'triton');
    expect(f).toMatchObject({ severity: 'critical', title: 'kube-dns Service is missing' });
  });

  describeShared('on the shared scenarios', () => {
    it('healthy and kube-proxy: nothing loud', () => {
      expect(loud(runCheck(kubeDnsService, scenario('healthy'), 'triton', new Date()))).toHaveLength(0);
      expect(loud(runCheck(kubeDnsService, scenario('triton-kube-proxy-config'), 'triton', new Date()))).toHaveLength(0);
    });

    it('triton-cni-missing: no ready endpoints, as a symptom only', () => {
      const findings = runCheck(kubeDnsService, scenario('triton-cni-missing'), 'triton', new Date());
      expect(findings.map((f) => [f.rootCause, f.subject.name])).toEqual([[false, 'kube-dns']]);
    });

    it.each(scenarioNames())('%s: runs', (name) => {
      expect(() => runCheck(kubeDnsService, scenario(name), undefined, new Date())).not.toThrow();
    });
  });
});
