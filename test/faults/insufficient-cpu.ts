// Not a network fault: webapp asks for more CPU than the node has; its new pod stays Pending on the
// scheduler's Insufficient cpu (the old pod keeps serving while the rollout waits).
import { type Fault, deploymentPath, events, jsonPatch, podLines, pods, symptom } from './fault';

export const insufficientCpu: Fault = {
  name: 'insufficient-cpu',
  description: 'kubectl set resources deployment/webapp-mysql --requests=cpu=64 on the real node: the new pod is Pending on Insufficient cpu (not a network fault).',
  async break(c) {
    await jsonPatch(c, deploymentPath('triton', 'webapp-mysql'), [
      { op: 'add', path: '/spec/template/spec/containers/0/resources', value: { requests: { cpu: '64' } } },
    ]);
  },
  breakBoundMs: 0,
  async ready(c) {
    const web = await pods(c, 'triton', 'name=webapp-mysql');
    const pending = web.filter((p) => p.status.phase === 'Pending');
    const failed = await events(c, 'triton', 'FailedScheduling');
    symptom([
      [pending.length > 0, `no webapp pod Pending: ${podLines(web)}`],
      [pending.some((p) => failed.some((e) => e.involvedObject.name === p.metadata.name && /Insufficient cpu/.test(e.message ?? ''))), 'no FailedScheduling event saying Insufficient cpu on a Pending webapp pod'],
    ]);
  },
  expected: {
    rootCause: { code: 'POD-INSUFFICIENT-RESOURCES', subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp-mysql' }, mentions: ['Insufficient cpu'] },
    plan: false,
  },
};
