// Service mysql's selector edited with a typo (name: mysq1): no endpoints; kube-proxy rejects the ClusterIP.
import { type Fault, jsonPatch, pageSays, servicePath } from './fault';

export const serviceSelectorTypo: Fault = {
  name: 'service-selector-typo',
  description: 'kubectl edit of Service triton/mysql on the real node: selector name: mysq1 (pod label name: mysql); the Service has no endpoints.',
  async break(c) {
    await jsonPatch(c, servicePath('triton', 'mysql'), [
      { op: 'test', path: '/spec/selector/name', value: 'mysql' },
      { op: 'replace', path: '/spec/selector/name', value: 'mysq1' },
    ]);
  },
  breakBoundMs: 0,
  ready: (c) => pageSays(c, /connection refused/),
  expected: {
    rootCause: { code: 'SVC-NO-ENDPOINTS', subject: { kind: 'Service', namespace: 'triton', name: 'mysql' }, mentions: ['selector', 'mysq1'], fixContains: '/spec/selector' },
    plan: true,
  },
};
