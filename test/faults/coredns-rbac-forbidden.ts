// ClusterRole system:coredns without its EndpointSlice rule (an RBAC clean-up, or a hand-written role
// copied from an old manifest): restarted CoreDNS cannot list EndpointSlices, never syncs, never turns
// Ready, and kube-dns has no ready endpoint.
import { type Fault, deletePods, jsonPatch, pageSays, podLines, podReady, pods, symptom } from './fault';

const ROLE = '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:coredns';

export const corednsRbacForbidden: Fault = {
  name: 'coredns-rbac-forbidden',
  description:
    'kubectl edit of ClusterRole system:coredns on the real node removes the endpointslices rule, then the CoreDNS pods are restarted: ' +
    'they log "endpointslices.discovery.k8s.io is forbidden", stay unready, and webapp cannot resolve mysql.',
  async break(c) {
    await jsonPatch(c, ROLE, [
      { op: 'test', path: '/rules/1/resources', value: ['endpointslices'] },
      { op: 'remove', path: '/rules/1' },
    ]);
    await deletePods(c, 'kube-system', 'k8s-app=kube-dns');
  },
  breakBoundMs: 0,
  async ready(c) {
    const dns = await pods(c, 'kube-system', 'k8s-app=kube-dns');
    const logs = await Promise.all(dns.map((p) => c.api.request(`/api/v1/namespaces/kube-system/pods/${p.metadata.name}/log`, { query: { container: 'coredns' } }).then((r) => r.body, () => '')));
    symptom([
      [dns.length > 0 && !dns.some(podReady), `CoreDNS pods not all unready: ${podLines(dns)}`],
      [logs.some((l) => l.includes('is forbidden')), 'no CoreDNS log says "is forbidden" yet'],
    ]);
    await pageSays(c, /lookup mysql/);
  },
  expected: {
    rootCause: { code: 'DNS-RBAC-FORBIDDEN', subject: { kind: 'ClusterRole', name: 'system:coredns' }, mentions: ['endpointslices', 'forbidden'] },
    plan: false,
  },
};
