// A readiness probe added to webapp on the wrong port (8081; webapp serves 8080): the new pod never
// becomes Ready and the rollout stalls (the old pod keeps serving: maxUnavailable rounds down to 0).
import { type Fault, deploymentPath, events, jsonPatch, podLines, pods, podReady, symptom } from './fault';

export const probeWrongPort: Fault = {
  name: 'probe-wrong-port',
  description: 'kubectl edit of Deployment triton/webapp-mysql on the real node: readinessProbe httpGet / on port 8081 (webapp serves 8080); the new pod is never Ready.',
  async break(c) {
    await jsonPatch(c, deploymentPath('triton', 'webapp-mysql'), [
      { op: 'add', path: '/spec/template/spec/containers/0/readinessProbe', value: { httpGet: { path: '/', port: 8081 }, periodSeconds: 2, failureThreshold: 1 } },
    ]);
  },
  breakBoundMs: 0,
  async ready(c) {
    const web = await pods(c, 'triton', 'name=webapp-mysql');
    const notReady = web.filter((p) => p.status.phase === 'Running' && !podReady(p));
    const unhealthy = await events(c, 'triton', 'Unhealthy');
    symptom([
      [notReady.length > 0, `no webapp pod Running and not Ready: ${podLines(web)}`],
      [notReady.some((p) => unhealthy.some((e) => e.involvedObject.name === p.metadata.name)), 'no Unhealthy event on a not-Ready webapp pod'],
    ]);
  },
  expected: {
    rootCause: { code: 'WL-PROBE-PORT', subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp-mysql' }, mentions: ['8081', '8080'], fixContains: 'readinessProbe/httpGet/port' },
    plan: true,
  },
};
