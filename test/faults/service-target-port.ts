// Service mysql's targetPort edited to 3307: endpoints exist, but nothing listens there.
import { type Fault, jsonPatch, pageSays, servicePath } from './fault';

export const serviceTargetPort: Fault = {
  name: 'service-target-port',
  description: 'kubectl edit of Service triton/mysql on the real node: targetPort 3307 (mysql listens on 3306); connections are refused.',
  async break(c) {
    await jsonPatch(c, servicePath('triton', 'mysql'), [
      { op: 'test', path: '/spec/ports/0/targetPort', value: 3306 },
      { op: 'replace', path: '/spec/ports/0/targetPort', value: 3307 },
    ]);
  },
  breakBoundMs: 0,
  ready: (c) => pageSays(c, /connection refused/),
  expected: {
    rootCause: { code: 'SVC-TARGET-PORT', subject: { kind: 'Service', namespace: 'triton', name: 'mysql' }, mentions: ['targetPort', '3307'], fixContains: '3306' },
    plan: true,
  },
};
