// Service mysql labelled service.kubernetes.io/service-proxy-name (as a mesh or an alternative proxy's
// install would): kube-proxy drops its rules, so the ClusterIP answers nothing though endpoints are Ready.
import { type Fault, mergePatch, pageSays, servicePath } from './fault';

export const serviceProxyLabel: Fault = {
  name: 'service-proxy-label',
  description:
    'kubectl label service -n triton mysql service.kubernetes.io/service-proxy-name=mesh-proxy on the real node (no such proxy runs): ' +
    'kube-proxy stops programming the ClusterIP and webapp cannot connect.',
  async break(c) {
    await mergePatch(c, servicePath('triton', 'mysql'), { metadata: { labels: { 'service.kubernetes.io/service-proxy-name': 'mesh-proxy' } } });
  },
  breakBoundMs: 0,
  // A failed connection, not a failed lookup (mysql still resolves to its ClusterIP).
  ready: (c) => pageSays(c, /Failed connecting(?![\s\S]*lookup)/),
  expected: {
    rootCause: { code: 'SVC-PROXY-SKIPPED', subject: { kind: 'Service', namespace: 'triton', name: 'mysql' }, mentions: ['service-proxy-name'], fixContains: 'service.kubernetes.io~1service-proxy-name' },
    plan: true,
  },
};
