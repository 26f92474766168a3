// Service kube-dns's selector broken (k8s-app: kube-dnss): no CoreDNS endpoints, every lookup fails.
import { type Fault, jsonPatch, pageSays, servicePath } from './fault';

export const kubeDnsSelector: Fault = {
  name: 'kube-dns-selector',
  description: 'kubectl edit of Service kube-system/kube-dns on the real node: selector k8s-app: kube-dnss (CoreDNS pods carry kube-dns); lookups from pods fail.',
  async break(c) {
    await jsonPatch(c, servicePath('kube-system', 'kube-dns'), [
      { op: 'test', path: '/spec/selector/k8s-app', value: 'kube-dns' },
      { op: 'replace', path: '/spec/selector/k8s-app', value: 'kube-dnss' },
    ]);
  },
  breakBoundMs: 0,
  ready: (c) => pageSays(c, /lookup mysql/),
  expected: {
    rootCause: { code: 'DNS-SVC-SELECTOR', subject: { kind: 'Service', namespace: 'kube-system', name: 'kube-dns' }, mentions: ['selector'], fixContains: '/spec/selector' },
    plan: true,
  },
};
