// A NetworkPolicy isolating mysql that admits nobody (webapp → mysql denied). flannel enforces no
// NetworkPolicy: on the real node the traffic keeps flowing, and netdoctor must say so.
import { type Fault, createNetworkPolicy, policyInPlaceTrafficFlows } from './fault';

export const netpolDenyMysql: Fault = {
  name: 'netpol-deny-mysql',
  description:
    'kubectl apply of NetworkPolicy triton/db-deny-all (podSelector name: mysql, Ingress, no rules) on the real node, whose pod network is flannel: ' +
    'flannel enforces no NetworkPolicy, so webapp keeps reaching mysql; the policy is a gap, not an outage.',
  async break(c) {
    await createNetworkPolicy(c, 'db-deny-all', { podSelector: { matchLabels: { name: 'mysql' } }, policyTypes: ['Ingress'] });
  },
  breakBoundMs: 0,
  ready: (c) => policyInPlaceTrafficFlows(c, 'db-deny-all'),
  expected: {
    rootCause: { code: 'NP-NOT-ENFORCED', subject: { kind: 'NetworkPolicy', namespace: 'triton', name: 'db-deny-all' }, mentions: ['flannel', 'not blocked'] },
    plan: false,
  },
};
