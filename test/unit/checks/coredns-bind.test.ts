import { corednsBind } from '../../../src/checks/coredns-bind';
import { cluster, deployment, node, pod, rsOf, runCheck, scenario, scenarioNames, textOf } from './network-fixtures';

/*
 * The real lines. CoreDNS starts its servers through github.com/coredns/caddy, caddy.go (startServers):
 *   return fmt.Errorf("Listen: %v", err)          (TCP listener)
 *   return fmt.Errorf("ListenPacket: %v", err)    (UDP listener)
 * and coremain/run.go prints the error with log.Fatal (LogFlags 0, so no prefix). The cause is Go's net error,
 * `listen tcp :53: bind: permission denied` / `bind: address already in use`, as quoted in
 * kubernetes/kubernetes#125226, coredns/coredns#6716 and k3s-io/k3s#11690.
 */
const DENIED = 'Listen: listen tcp :53: bind: permission denied';
const IN_USE = 'Listen: listen tcp :53: bind: address already in use';
const IN_USE_UDP = 'ListenPacket: listen udp :53: bind: address already in use';
/** The health listener (plugin/health/health.go OnStartup) returns Go's error bare, before the DNS servers start. */
const HEALTH_IN_USE = 'listen tcp :8080: bind: address already in use';

const labels = { 'k8s-app': 'kube-dns' };
const KUBEADM_SC = { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, readOnlyRootFilesystem: true };

function nodeWith(name: string, runtime: string, osImage: string) {
  const n = node(name) as { status: Record<string, unknown> };
  n.status.nodeInfo = { containerRuntimeVersion: runtime, osImage, kernelVersion: '3.10.0-1160.el7.x86_64' };
  return n;
}

function coreDns(o: { sc?: Record<string, unknown>; podSc?: Record<string, unknown>; hostNetwork?: boolean; shapes?: ('crashloop' | 'running')[]; nodes?: string[]; logs?: Record<string, string> } = {}) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixture edits deep paths of a hand-built object
  const [deploy, rs] = deployment('kube-system', 'coredns', labels, { dnsPolicy: 'Default' }) as [Record<string, any>, Record<string, unknown>];
  const tpl = deploy.spec.template.spec;
  tpl.containers[0].name = 'coredns';
  if (o.sc) tpl.containers[0].securityContext = o.sc;
  if (o.hostNetwork) tpl.hostNetwork = true;
  const shapes = o.shapes ?? ['crashloop', 'crashloop'];
  const nodes = o.nodes ?? ['node1', 'node2'];
  return cluster(
    [
      nodeWith('node1', 'docker://1.13.1', 'CentOS Linux 7 (Core)'),
      nodeWith('node2', 'containerd://1.7.13', 'Ubuntu 22.04.4 LTS'),
      deploy,
      rs,
      ...shapes.map((shape, i) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixture edits deep paths of a hand-built object
        const p = pod('kube-system', `coredns-5d4f8c7b9-${'ab'[i]!.repeat(5)}`, { owner: rsOf('coredns'), labels, shape, node: nodes[i], hostNetwork: o.hostNetwork, containers: ['coredns'] }) as Record<string, any>;
        // The pods run the template (a pod from an older template is the rollout's business, see below).
        p.spec.containers[0] = { ...tpl.containers[0], ...(o.podSc ? { securityContext: o.podSc } : {}) };
        return p;
      }),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: labels } },
    ],
    o.logs ?? {},
  );
}

const logsOf = (line: string, pods = ['aaaaa', 'bbbbb']): Record<string, string> =>
  Object.fromEntries(pods.map((p) => [`kube-system/coredns-5d4f8c7b9-${p}/coredns#previous`, `${line}\n`]));

describe('coredns-bind', () => {
  it('permission denied with allowPrivilegeEscalation: false: Deployment is the cause, plan flips it with a test of the old value', () => {
    const findings = runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, logs: logsOf(DENIED, ['aaaaa']), shapes: ['crashloop', 'running'] }), 'triton');
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ code: 'DNS-BIND-DENIED', severity: 'warning', rootCause: true, subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } });
    expect(f.summary).toContain(`CoreDNS exits with \`${DENIED}\``);
    expect(f.summary).toContain('allowPrivilegeEscalation: false');
    expect(f.summary).toContain('on node node1 while it runs on node2');
    expect(f.evidence).toContainEqual({ type: 'log', text: DENIED, command: 'kubectl logs -n kube-system coredns-5d4f8c7b9-aaaaa -c coredns --previous' });
    expect(textOf(f)).toContain('node node1: docker://1.13.1, centos linux 7 (core)');
    const advice = f.advice!.join('\n');
    expect(advice).toContain('upgrade the container runtime');
    expect(advice).toContain('SELinux');
    expect(advice).toContain('getenforce');
    expect(advice).toContain('-o wide');
    expect(f.plan).toMatchObject({ risk: 'high', verify: { check: 'coredns-bind', waitFor: 'rollout' } });
    expect(f.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'coredns' },
        patchType: 'json',
        patch: [
          { op: 'test', path: '/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation', value: false },
          { op: 'replace', path: '/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation', value: true },
        ],
        resourceVersion: '42',
      },
    ]);
    expect(f.explains!.map((r) => `${r.kind}/${r.name}`)).toEqual(expect.arrayContaining(['Deployment/coredns', 'Service/kube-dns', 'Pod/coredns-5d4f8c7b9-aaaaa']));
  });

  it('is critical when no replica is Ready', () => {
    const [f] = runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, logs: logsOf(DENIED) }), 'triton');
    expect(f!.severity).toBe('critical');
    expect(f!.summary).toContain('cluster DNS is down');
  });

  it('permission denied with capabilities drop ALL and no NET_BIND_SERVICE: plan adds the capability instead', () => {
    const sc = { capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };
    const [f] = runCheck(corednsBind, coreDns({ sc, logs: logsOf(DENIED) }), 'triton');
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/template/spec/containers/0/securityContext/capabilities', value: { drop: ['ALL'] } },
      { op: 'add', path: '/spec/template/spec/containers/0/securityContext/capabilities/add', value: ['NET_BIND_SERVICE'] },
    ]);
  });

  it('permission denied with nothing to flip in the securityContext: advice, no plan', () => {
    const [f] = runCheck(corednsBind, coreDns({ sc: { capabilities: { add: ['NET_BIND_SERVICE'] } }, logs: logsOf(DENIED) }), 'triton');
    expect(f!.code).toBe('DNS-BIND-DENIED');
    expect(f!.plan).toBeUndefined();
    expect(f!.advice!.join('\n')).toContain('kubectl -n kube-system edit deployment coredns');
  });

  it('without logs, names the old-Docker node as the likely cause but offers no plan', () => {
    const [f, ...rest] = runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, shapes: ['crashloop', 'running'] }), 'triton');
    expect(rest).toHaveLength(0);
    expect(f!.summary).toContain('docker://1.13.1');
    expect(f!.summary).toContain('node node1');
    expect(f!.plan).toBeUndefined();
  });

  it('address already in use with hostNetwork: which node, what to look for, no plan', () => {
    const [f] = runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, hostNetwork: true, logs: logsOf(IN_USE, ['aaaaa']), shapes: ['crashloop', 'running'] }), 'triton');
    expect(f).toMatchObject({ code: 'DNS-PORT-IN-USE', rootCause: true, subject: { kind: 'Deployment', name: 'coredns' } });
    expect(f!.summary).toContain(IN_USE);
    expect(f!.summary).toContain("node's own network namespace");
    expect(f!.advice!.join('\n')).toContain("sudo ss -lntup 'sport = :53'");
    expect(f!.plan).toBeUndefined();
  });

  it('hostNetwork and the health port (8080) taken on the node: the port from the log, no plan', () => {
    const [f] = runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, hostNetwork: true, logs: logsOf(HEALTH_IN_USE, ['aaaaa']), shapes: ['crashloop', 'running'] }), 'triton');
    expect(f).toMatchObject({ code: 'DNS-PORT-IN-USE', title: 'CoreDNS cannot bind :8080: address already in use' });
    expect(f!.advice!.join('\n')).toContain("sudo ss -lntup 'sport = :8080'");
    expect(f!.plan).toBeUndefined();
  });

  it('permission denied on an unprivileged port is not the capability story: no allowPrivilegeEscalation plan', () => {
    const [f] = runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, logs: logsOf('listen tcp :8080: bind: permission denied') }), 'triton');
    expect(f!.code).toBe('DNS-BIND-DENIED');
    expect(f!.plan).toBeUndefined();
  });

  it('two hostNetwork replicas on one node: says the second collides with the first', () => {
    const [f] = runCheck(corednsBind, coreDns({ hostNetwork: true, nodes: ['node1', 'node1'], logs: logsOf(IN_USE_UDP, ['bbbbb']), shapes: ['running', 'crashloop'] }), 'triton');
    expect(f!.summary).toContain('two CoreDNS replicas share a node');
    expect(f!.advice!.join('\n')).toContain('podAntiAffinity');
  });

  it('look-alike: CoreDNS crashing for another reason (Corefile parse error, loop) gets no bind finding and no privilege-escalation plan', () => {
    const parse = logsOf("/etc/coredns/Corefile:10 - Error during parsing: Unknown directive 'proxy'");
    expect(runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, logs: parse, nodes: ['node2', 'node2'] }), 'triton')).toHaveLength(0);
    const loop = logsOf('[FATAL] plugin/loop: Loop (127.0.0.1:34614 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 1.2."');
    expect(runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, logs: loop, nodes: ['node2', 'node2'] }), 'triton')).toHaveLength(0);
  });

  it('look-alike: a parse error on an old-Docker node is not blamed on SELinux (the log wins over the node guess)', () => {
    const parse = logsOf("/etc/coredns/Corefile:10 - Error during parsing: Unknown directive 'proxy'");
    expect(runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, logs: parse }), 'triton')).toHaveLength(0);
  });

  it('look-alike: a healthy CoreDNS with an old bind line in its current log stays quiet', () => {
    expect(runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, shapes: ['running', 'running'], logs: { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns': `${DENIED}\n` } }), 'triton')).toHaveLength(0);
  });

  it('once the fix is in the template, pods still crashing from the old template are the rollout\'s business: no finding', () => {
    const fixed = { ...KUBEADM_SC, allowPrivilegeEscalation: true };
    expect(runCheck(corednsBind, coreDns({ sc: fixed, podSc: KUBEADM_SC, logs: logsOf(DENIED) }), 'triton')).toHaveLength(0);
    // same content, other key order: still the current template
    const reordered = { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, allowPrivilegeEscalation: false };
    expect(runCheck(corednsBind, coreDns({ sc: KUBEADM_SC, podSc: reordered, logs: logsOf(DENIED) }), 'triton')).toHaveLength(1);
  });

  it.each(scenarioNames())('scenario %s: no bind failure', (name) => {
    expect(runCheck(corednsBind, scenario(name), 'triton', new Date())).toHaveLength(0);
  });
});
