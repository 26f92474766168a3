import { dnsEgressBlocked } from '../../../src/checks/dns-egress-blocked';
import { viewOf } from '../../support/view';
import { FLANNEL, TWO_TIER, networkPolicy, pod, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';
import { runOn, scenarioNames } from './scenario-view';

const run = (yaml: string, namespace: string | null = 'triton') => dnsEgressBlocked.run({ view: viewOf(yaml), namespace: namespace ?? undefined, now: new Date() });

const CLUSTER_DNS =
  pod('coredns-1', { ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }, { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' }], ip: '10.32.0.2' }) +
  service('kube-dns', { ns: 'kube-system', selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' }] });
/** The web tier may reach mysql on 3306, nothing else: the rule a team writes when locking down egress and forgetting DNS. */
const WEB_EGRESS_ONLY_DB = networkPolicy('webapp-egress', {
  podSelector: { matchLabels: { name: 'webapp-mysql' } },
  policyTypes: ['Egress'],
  egress: [{ to: [{ podSelector: { matchLabels: { name: 'mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }],
});
const ALLOW_DNS_RULE = { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] };

describe('dns-egress-blocked', () => {
  it('an egress policy that allows mysql but not DNS: the policy is the cause, the plan is an additive DNS allow with the same podSelector', () => {
    const [f, ...rest] = run(TWO_TIER + CLUSTER_DNS + WEB_EGRESS_ONLY_DB);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'DNS-EGRESS-BLOCKED', severity: 'critical', rootCause: true, subject: { kind: 'NetworkPolicy', namespace: 'triton', name: 'webapp-egress' } });
    expect(f!.summary).toContain('deployment/webapp-mysql');
    expect(f!.summary).toContain('53/UDP to the kube-dns pods');
    expect(f!.explains).toContainEqual(expect.objectContaining({ kind: 'Pod', name: 'webapp-mysql-5d4f-x0' }));
    expect(f!.plan!.operations).toEqual([
      {
        action: 'create',
        target: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'triton', name: 'netdoctor-allow-dns-webapp-egress' },
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'netdoctor-allow-dns-webapp-egress', namespace: 'triton', labels: { 'app.kubernetes.io/managed-by': 'netdoctor' } },
          spec: { podSelector: { matchLabels: { name: 'webapp-mysql' } }, policyTypes: ['Egress'], egress: [ALLOW_DNS_RULE] },
        },
      },
    ]);
    // Additive only: the existing policy is never patched or deleted.
    expect(f!.plan!.operations.every((o) => o.action === 'create')).toBe(true);
  });

  it('is fixed by its own plan: with the planned policy added the check is quiet', () => {
    const planned = run(TWO_TIER + CLUSTER_DNS + WEB_EGRESS_ONLY_DB)[0]!.plan!.operations[0]!.body!;
    const spec = planned.spec as Record<string, unknown>;
    expect(run(TWO_TIER + CLUSTER_DNS + WEB_EGRESS_ONLY_DB + networkPolicy('netdoctor-allow-dns-webapp-egress', spec))).toEqual([]);
  });

  it('a DNS rule whose namespaceSelector uses a label kube-system lacks (name=kube-system) still blocks DNS, and says why', () => {
    const misaimed = networkPolicy('webapp-egress', {
      podSelector: { matchLabels: { name: 'webapp-mysql' } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ podSelector: { matchLabels: { name: 'mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] },
        { to: [{ namespaceSelector: { matchLabels: { name: 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
      ],
    });
    const [f] = run(TWO_TIER + CLUSTER_DNS + misaimed);
    expect(f!.summary).toContain("networkpolicy/webapp-egress has a rule for port 53/UDP, but its peers match no kube-dns pod (kube-system's labels: kubernetes.io/metadata.name=kube-system)");
  });

  it('a DNS rule to NodeLocal DNSCache (169.254.20.10) is left alone: lookups do not go to the kube-dns pods', () => {
    const nodeLocal = networkPolicy('webapp-egress', {
      podSelector: { matchLabels: { name: 'webapp-mysql' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { name: 'mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }, { to: [{ ipBlock: { cidr: '169.254.20.10/32' } }], ports: [{ protocol: 'UDP', port: 53 }] }],
    });
    expect(run(TWO_TIER + CLUSTER_DNS + nodeLocal)).toEqual([]);
  });

  it('a DNS rule by named port (dns) counts as allowing DNS', () => {
    const named = networkPolicy('webapp-egress', {
      podSelector: { matchLabels: { name: 'webapp-mysql' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { name: 'mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }, { ports: [{ protocol: 'UDP', port: 'dns' }] }],
    });
    expect(run(TWO_TIER + CLUSTER_DNS + named)).toEqual([]);
  });

  it('look-alikes that must not fire: DNS allowed, deny-all egress (a deliberate lock-down), ingress-only policies, no CoreDNS in view', () => {
    const withDns = networkPolicy('webapp-egress', {
      podSelector: { matchLabels: { name: 'webapp-mysql' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { name: 'mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }, ALLOW_DNS_RULE],
    });
    expect(run(TWO_TIER + CLUSTER_DNS + withDns)).toEqual([]);
    expect(run(TWO_TIER + CLUSTER_DNS + networkPolicy('deny-egress', { podSelector: {}, policyTypes: ['Egress'] }))).toEqual([]);
    expect(run(TWO_TIER + CLUSTER_DNS + networkPolicy('deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }))).toEqual([]);
    expect(run(TWO_TIER + WEB_EGRESS_ONLY_DB)).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(runOn(dnsEgressBlocked, name)).toEqual([]);
      expect(runOn(dnsEgressBlocked, name, 'cluster')).toEqual([]);
    });
  });
});

describe('dns-egress-blocked on a pod network that enforces no NetworkPolicy (NP-05)', () => {
  it('flannel alone: DNS is not blocked in fact (on the real node webapp kept resolving mysql): NP-NOT-ENFORCED, a warning without plan', () => {
    const [f, ...rest] = run(TWO_TIER + CLUSTER_DNS + WEB_EGRESS_ONLY_DB + FLANNEL);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'NP-NOT-ENFORCED', severity: 'warning', rootCause: true, plan: null, subject: { kind: 'NetworkPolicy', name: 'webapp-egress' } });
    expect(f!.summary).toMatch(/not DNS.*flannel.*has no effect today/s);
  });
});
