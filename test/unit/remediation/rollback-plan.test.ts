import { makePlan } from '../../../src/domain/plan';
import { rollbackPlan } from '../../../src/remediation/execute-plan';

const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kube-proxy' };
const dsRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' };

describe('rollbackPlan', () => {
  it("restores a ConfigMap's data (it has no spec), guarded by the data the plan wrote", () => {
    const patch = [
      { op: 'test', path: '/data/config.conf', value: 'mode: iptable\n' },
      { op: 'replace', path: '/data/config.conf', value: 'mode: iptables\n' },
    ];
    const plan = makePlan({ summary: 's', risk: 'medium', effect: 'e', operations: [{ action: 'patch', target: cmRef, patchType: 'json', patch }], verify: { check: 'c', subject: dsRef, waitFor: 'none' } });
    const before = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', resourceVersion: '1' }, data: { 'config.conf': 'mode: iptable\n' } };
    const after = { ...before, metadata: { name: 'kube-proxy', resourceVersion: '2' }, data: { 'config.conf': 'mode: iptables\n' } };
    const [op] = rollbackPlan(plan, [{ operation: plan.operations[0]!, before, after }]).operations;
    expect(op).toEqual({
      action: 'patch',
      target: cmRef,
      patchType: 'json',
      patch: [
        { op: 'test', path: '/data', value: { 'config.conf': 'mode: iptables\n' } },
        { op: 'replace', path: '/data', value: { 'config.conf': 'mode: iptable\n' } },
      ],
    });
  });

  it('puts back a label the plan removed (service-proxy-label on the real node: the rollback left it off)', () => {
    const svcRef = { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: 'mysql' };
    const path = '/metadata/labels/service.kubernetes.io~1service-proxy-name';
    const plan = makePlan({ summary: 's', risk: 'low', effect: 'e', operations: [{ action: 'patch', target: svcRef, patchType: 'json', patch: [{ op: 'test', path, value: 'mesh' }, { op: 'remove', path }] }], verify: { check: 'c', subject: svcRef, waitFor: 'none' } });
    const before = { metadata: { name: 'mysql', resourceVersion: '1', labels: { 'service.kubernetes.io/service-proxy-name': 'mesh' } }, spec: { clusterIP: '10.96.0.9' } };
    const after = { metadata: { name: 'mysql', resourceVersion: '2' }, spec: { clusterIP: '10.96.0.9' } };
    expect(rollbackPlan(plan, [{ operation: plan.operations[0]!, before, after }]).operations[0]!.patch).toEqual([{ op: 'add', path: '/metadata/labels', value: { 'service.kubernetes.io/service-proxy-name': 'mesh' } }]);
    // A label edited, not removed: guarded by the labels as the plan left them.
    const edited = { metadata: { name: 'mysql', resourceVersion: '2', labels: { app: 'mysql' } } };
    expect(rollbackPlan(plan, [{ operation: plan.operations[0]!, before, after: edited }]).operations[0]!.patch).toEqual([
      { op: 'test', path: '/metadata/labels', value: { app: 'mysql' } },
      { op: 'replace', path: '/metadata/labels', value: { 'service.kubernetes.io/service-proxy-name': 'mesh' } },
    ]);
  });

  it('still restores /spec of a workload, guarded by its generation', () => {
    const patch = { spec: { template: { metadata: { annotations: { a: 'b' } } } } };
    const plan = makePlan({ summary: 's', risk: 'medium', effect: 'e', operations: [{ action: 'patch', target: dsRef, patchType: 'merge', patch }], verify: { check: 'c', subject: dsRef, waitFor: 'none' } });
    const before = { metadata: { generation: 1 }, spec: { x: 1 } };
    const after = { metadata: { generation: 2 }, spec: { x: 2 } };
    expect(rollbackPlan(plan, [{ operation: plan.operations[0]!, before, after }]).operations[0]!.patch).toEqual([
      { op: 'test', path: '/metadata/generation', value: 2 },
      { op: 'replace', path: '/spec', value: { x: 1 } },
    ]);
  });

  it('deletes what the plan created only while it is that object with the spec it was created with', () => {
    const dsCreate = makePlan({ summary: 's', risk: 'high', effect: 'e', operations: [{ action: 'create', target: dsRef, body: { spec: {} } }], verify: { check: 'c', subject: dsRef, waitFor: 'none' } });
    const created = { metadata: { name: 'kube-proxy', uid: 'u-1', generation: 1, resourceVersion: '7' }, spec: {} };
    // A DaemonSet: uid and generation, not the resourceVersion its controller moves right after the create.
    expect(rollbackPlan(dsCreate, [{ operation: dsCreate.operations[0]!, before: undefined, after: created }]).operations).toEqual([
      { action: 'delete', target: dsRef, uid: 'u-1', generation: 1 },
    ]);
    // A ConfigMap has no spec generation: any change since the create keeps it.
    const cmCreate = makePlan({ summary: 's', risk: 'high', effect: 'e', operations: [{ action: 'create', target: cmRef, body: { data: {} } }], verify: { check: 'c', subject: dsRef, waitFor: 'none' } });
    const cm = { metadata: { name: 'kube-proxy', uid: 'u-2', resourceVersion: '9' }, data: {} };
    expect(rollbackPlan(cmCreate, [{ operation: cmCreate.operations[0]!, before: undefined, after: cm }]).operations).toEqual([
      { action: 'delete', target: cmRef, uid: 'u-2', resourceVersion: '9' },
    ]);
  });
});
