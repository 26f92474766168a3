// An egress NetworkPolicy for webapp that allows mysql but not DNS. flannel enforces no
// NetworkPolicy: on the real node webapp still resolves mysql, and netdoctor must say so.
import { type Fault, createNetworkPolicy, policyInPlaceTrafficFlows } from './fault';

export const dnsEgressDeny: Fault = {
  name: 'dns-egress-deny',
  description:
    'kubectl apply of NetworkPolicy triton/webapp-egress (webapp pods, Egress only to mysql:3306, no DNS) on the real node, whose pod network is flannel: ' +
    'flannel enforces no NetworkPolicy, so webapp still resolves and reaches mysql; the policy is a gap, not an outage.',
  async break(c) {
    await createNetworkPolicy(c, 'webapp-egress', {
      podSelector: { matchLabels: { name: 'webapp-mysql' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { name: 'mysql' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }],
    });
  },
  breakBoundMs: 0,
  ready: (c) => policyInPlaceTrafficFlows(c, 'webapp-egress'),
  expected: {
    rootCause: { code: 'NP-NOT-ENFORCED', subject: { kind: 'NetworkPolicy', namespace: 'triton', name: 'webapp-egress' }, mentions: ['flannel', 'DNS'] },
    plan: false,
  },
};
