// Service mysql's port edited to protocol UDP: webapp's TCP connection to the ClusterIP finds no rule.
import { type Fault, jsonPatch, pageSays, servicePath } from './fault';

export const serviceProtocol: Fault = {
  name: 'service-protocol',
  description: 'kubectl edit of Service triton/mysql on the real node: port 3306 protocol UDP (mysql serves TCP); webapp cannot connect.',
  async break(c) {
    await jsonPatch(c, servicePath('triton', 'mysql'), [
      { op: 'test', path: '/spec/ports/0/protocol', value: 'TCP' },
      { op: 'replace', path: '/spec/ports/0/protocol', value: 'UDP' },
    ]);
  },
  breakBoundMs: 0,
  // A failed connection, not a failed lookup (mysql still resolves to its ClusterIP).
  ready: (c) => pageSays(c, /Failed connecting(?![\s\S]*lookup)/),
  expected: {
    rootCause: { code: 'SVC-PORT-PROTOCOL', subject: { kind: 'Service', namespace: 'triton', name: 'mysql' }, mentions: ['UDP', 'TCP'], fixContains: '/spec/ports/0/protocol' },
    plan: true,
  },
};
