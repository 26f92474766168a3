import { networkPolicyBlocks } from '../../../src/checks/network-policy-blocks';
import { viewOf } from '../../support/view';
import { loud, runOn, scenarioNames } from './scenario-view';
import { FLANNEL, TWO_TIER, cniAgent, deployment, networkPolicy, pod, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';

const runAll = (yaml: string, namespace: string | null = 'triton') => networkPolicyBlocks.run({ view: viewOf(yaml), namespace: namespace ?? undefined, now: new Date() });
/** Without the info notes (deny-all also isolates web-service, whose clients are outside the cluster). */
const run = (yaml: string, namespace: string | null = 'triton') => loud(runAll(yaml, namespace));
const DENY_INGRESS = networkPolicy('default-deny', { podSelector: {}, policyTypes: ['Ingress'] });
const COREDNS = pod('coredns-1', { ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [{ containerPort: 53, protocol: 'UDP' }] });

describe('network-policy-blocks', () => {
  it('NP-01: default-deny ingress blocks webapp → mysql; plans an additive allow policy', () => {
    const [f, ...rest] = run(TWO_TIER + DENY_INGRESS);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'NetworkPolicy', namespace: 'triton', name: 'default-deny' } });
    expect(f!.summary).toContain('webapp-mysql');
    expect(f!.evidence[0]!.text).toBe('networkpolicy/default-deny: selects pods (all), isolates Ingress; ingress: none (deny all)');
    expect(f!.evidence.some((e) => e.text.includes('DB_Host=mysql'))).toBe(true);
    expect(f!.explains).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'Service', name: 'mysql' }), expect.objectContaining({ kind: 'Deployment', name: 'webapp-mysql' })]));
    const plan = f!.plan!;
    expect(plan.risk).toBe('low');
    expect(plan.operations).toEqual([
      {
        action: 'create',
        target: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'triton', name: 'netdoctor-allow-webapp-mysql-to-mysql' },
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'netdoctor-allow-webapp-mysql-to-mysql', namespace: 'triton', labels: { 'app.kubernetes.io/managed-by': 'netdoctor' } },
          spec: {
            podSelector: { matchLabels: { name: 'mysql' } },
            policyTypes: ['Ingress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { name: 'webapp-mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }],
          },
        },
      },
    ]);
    expect(plan.operations.some((o) => o.action !== 'create')).toBe(false);
  });

  it('an allow rule on the Service port instead of the pod port still blocks, and says so (NP-04)', () => {
    const allow80 = networkPolicy('allow-web', { podSelector: { matchLabels: { name: 'mysql' } }, ingress: [{ from: [{ podSelector: { matchLabels: { name: 'webapp-mysql' } } }], ports: [{ port: 80 }] }] });
    expect(run(TWO_TIER + DENY_INGRESS + allow80)).toHaveLength(1);
    // mysql behind port 80 → 3306: the rule names the Service's port, policies see the pod's.
    const app = [
      pod('mysql', { labels: { name: 'mysql' }, ports: [{ containerPort: 3306 }], ip: '10.32.0.5' }),
      deployment('webapp-mysql', { labels: { name: 'webapp-mysql' }, env: { DB_Host: 'mysql' } }),
      service('mysql', { selector: { name: 'mysql' }, ports: [{ port: 80, targetPort: 3306, protocol: 'TCP' }] }),
    ].join('');
    const [f] = run(app + allow80);
    expect(f!.summary).toContain('rule 1 admits pods name=webapp-mysql on 80/TCP, not on the pod port 3306/TCP (that is the Service port');
  });

  it('says why an allow rule misses its client: a selector typo, namespace labels missing, AND instead of OR (NP-03)', () => {
    const typo = networkPolicy('allow-web', { podSelector: { matchLabels: { name: 'mysql' } }, ingress: [{ from: [{ podSelector: { matchLabels: { name: 'webapp-msql' } } }], ports: [{ port: 3306 }] }] });
    const [f] = run(TWO_TIER + typo);
    expect(f!.subject).toMatchObject({ kind: 'NetworkPolicy', name: 'allow-web' });
    expect(f!.summary).toContain("networkpolicy/allow-web rule 1's peer pods name=webapp-msql selects no pod in namespace triton");
    expect(f!.evidence.some((e) => e.text.startsWith('networkpolicy/allow-web rule 1'))).toBe(true);
    const nsAndPod = networkPolicy('allow-web', { podSelector: { matchLabels: { name: 'mysql' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'web' } }, podSelector: { matchLabels: { name: 'webapp-mysql' } } }] }] });
    const [g] = run(TWO_TIER + nsAndPod);
    expect(g!.summary).toContain("rule 1's namespaceSelector team=web matches no namespace");
  });

  it('egress deny on the client: plans an egress allow, with DNS when that is blocked too', () => {
    const denyEgress = networkPolicy('deny-egress', { podSelector: { matchLabels: { name: 'webapp-mysql' } }, policyTypes: ['Egress'] });
    const [f] = run(TWO_TIER + COREDNS + denyEgress);
    expect(f!.subject).toMatchObject({ kind: 'NetworkPolicy', name: 'deny-egress' });
    const body = f!.plan!.operations[0]!.body as { spec: { egress: unknown[]; podSelector: unknown } };
    expect(f!.plan!.operations[0]!.target.name).toBe('netdoctor-allow-webapp-mysql-egress-to-mysql');
    expect(body.spec.podSelector).toEqual({ matchLabels: { name: 'webapp-mysql' } });
    expect(body.spec.egress).toHaveLength(2);
    expect(JSON.stringify(body.spec.egress[1])).toContain('kube-dns');
  });

  it('does not fire when a rule admits the client (pod selector, namespace selector, named port, ipBlock) or nothing isolates it', () => {
    expect(run(TWO_TIER)).toEqual([]);
    const allowPods = networkPolicy('allow', { podSelector: { matchLabels: { name: 'mysql' } }, ingress: [{ from: [{ podSelector: { matchLabels: { name: 'webapp-mysql' } } }], ports: [{ port: 3306, protocol: 'TCP' }] }] });
    expect(run(TWO_TIER + DENY_INGRESS + allowPods)).toEqual([]);
    const allowNs = networkPolicy('allow-ns', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'triton' } } }] }] });
    expect(run(TWO_TIER + DENY_INGRESS + allowNs)).toEqual([]);
    const namedDb = TWO_TIER.replace('containerPort: 3306', 'containerPort: 3306, name: mysql').replace('{"containerPort":3306}', '{"containerPort":3306,"name":"mysql"}');
    const allowNamed = networkPolicy('allow-named', { podSelector: {}, ingress: [{ ports: [{ port: 'mysql' }] }] });
    expect(run(namedDb + DENY_INGRESS + allowNamed)).toEqual([]);
    const allowIp = networkPolicy('allow-ip', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.32.0.0/16' } }] }] });
    expect(run(TWO_TIER + DENY_INGRESS + allowIp)).toEqual([]);
    const otherPods = networkPolicy('deny-other', { podSelector: { matchLabels: { app: 'other' } }, policyTypes: ['Ingress'] });
    expect(run(TWO_TIER + otherPods)).toEqual([]);
  });

  it('with no known client, a deny-all on a Service backend is only an info note', () => {
    const yaml = pod('db', { labels: { app: 'db' }, ports: [{ containerPort: 5432 }] }) + service('db', { ports: [{ port: 5432, targetPort: 5432 }] }) + DENY_INGRESS;
    expect(run(yaml)).toEqual([]);
    const [f] = runAll(yaml);
    expect(f).toMatchObject({ severity: 'info', plan: null, subject: { kind: 'NetworkPolicy', name: 'default-deny' } });
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(loud(runOn(networkPolicyBlocks, name))).toEqual([]);
      expect(loud(runOn(networkPolicyBlocks, name, 'cluster'))).toEqual([]);
    });
  });
});

describe('network-policy-blocks on a pod network that enforces no NetworkPolicy (NP-05)', () => {
  it('flannel alone: the deny policy is reported as not enforced (a warning, no plan, explains nothing), because on the real node traffic kept flowing', () => {
    const [f, ...rest] = run(TWO_TIER + DENY_INGRESS + FLANNEL);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'NP-NOT-ENFORCED', severity: 'warning', rootCause: true, plan: null, explains: [], subject: { kind: 'NetworkPolicy', name: 'default-deny' } });
    expect(f!.summary).toContain('the pod network is flannel (DaemonSet kube-flannel/kube-flannel-ds)');
    expect(f!.summary).toContain('traffic is not blocked');
  });

  it('flannel with a policy engine beside it (Canal, kube-router) enforces: NP-BLOCKS-CLIENTS as before', () => {
    for (const engine of [cniAgent('kube-system', 'canal', { 'k8s-app': 'canal' }), cniAgent('kube-system', 'kube-router', { 'k8s-app': 'kube-router' })]) {
      expect(run(TWO_TIER + DENY_INGRESS + FLANNEL + engine).map((f) => f.code)).toEqual(['NP-BLOCKS-CLIENTS']);
    }
  });
});
