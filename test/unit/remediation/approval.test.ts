import { type ApprovalPolicy, accessProblem, approvalProblem } from '../../../src/remediation/approval';
import { makePlan } from '../../../src/domain/plan';
import { PlanSealer } from '../../../src/remediation/plan-seal';
import { MemoryCluster } from '../../support/memory-ports';

const policy: ApprovalPolicy = {
  users: ['UALICE', 'UBOB'],
  groups: ['SNETOPS'],
  allowSelfApproval: false,
  validityMs: 15 * 60_000,
  identities: { UALICE: { user: 'alice', groups: [] }, UBOB: { user: 'bob', groups: [] }, UCAROL: { user: 'carol', groups: [] } },
  sealer: new PlanSealer('k'.repeat(32)),
};
const now = new Date('2026-11-25T10:10:00Z');
const req = { approver: 'UBOB', approverGroups: [], requestedBy: 'UALICE', dryRunAt: '2026-11-25T10:00:00Z', now };

describe('approvalProblem', () => {
  it('accepts a configured approver other than the requester within the validity window', () => {
    expect(approvalProblem(policy, req)).toBeUndefined();
    expect(approvalProblem(policy, { ...req, approver: 'UCAROL', approverGroups: ['SNETOPS'] })).toBeUndefined();
  });

  it.each([
    ['not-approver', { approver: 'UMALLORY' }, /not a configured approver/],
    ['self-approval', { approver: 'UALICE' }, /cannot approve its fix/],
    ['expired', { dryRunAt: '2026-11-25T09:50:00Z' }, /expired/],
    ['no-identity', { approver: 'UDAVE', approverGroups: ['SNETOPS'] }, /no Kubernetes identity/],
  ])('refuses %s', (reason, over, message) => {
    const refusal = approvalProblem(policy, { ...req, ...over });
    expect(refusal?.reason).toBe(reason);
    expect(refusal?.message).toMatch(message);
  });

  it('allows self-approval only when configured', () => {
    expect(approvalProblem({ ...policy, allowSelfApproval: true }, { ...req, approver: 'UALICE' })).toBeUndefined();
  });

  it('says remediation is disabled when nobody may approve, or no plan key seals the plans', () => {
    expect(approvalProblem({ ...policy, users: [], groups: [] }, req)).toEqual({ reason: 'disabled', message: expect.stringMatching(/remediation is disabled: no approvers/) });
    const { sealer: _sealer, ...unsealed } = policy;
    expect(approvalProblem(unsealed, req)).toEqual({ reason: 'disabled', message: expect.stringMatching(/remediation is disabled: no plan key is configured \(NETDOCTOR_PLAN_KEY\)/) });
  });
});

describe('accessProblem: RBAC objects need RBAC rights of their own', () => {
  const bob = { user: 'bob', groups: [] };
  const binding = makePlan({
    summary: 'bind the agent',
    risk: 'high',
    effect: 'grants the agent its role',
    operations: [
      { action: 'create', target: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'weave-net' }, body: { rules: [] } },
      { action: 'create', target: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: 'weave-net' }, body: { roleRef: { kind: 'ClusterRole', name: 'weave-net' } } },
      { action: 'create', target: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespace: 'kube-system', name: 'weave-net' }, body: { roleRef: { kind: 'Role', name: 'weave-net' } } },
    ],
    verify: { check: 'cni-not-running', subject: { kind: 'Node', name: 'n1' }, waitFor: 'none' },
  });
  const creates = ['create ClusterRole//weave-net', 'create ClusterRoleBinding//weave-net', 'create RoleBinding/kube-system/weave-net'];

  it('asks for escalate on a role it creates and bind on the role a binding references', async () => {
    expect(await accessProblem(new MemoryCluster({ bob: creates }), bob, binding)).toMatch(/^Kubernetes user bob may not escalate clusterrole\/weave-net/);
    expect(await accessProblem(new MemoryCluster({ bob: [...creates, 'escalate ClusterRole//weave-net'] }), bob, binding)).toMatch(/^Kubernetes user bob may not bind clusterrole\/weave-net/);
    const most = [...creates, 'escalate ClusterRole//weave-net', 'bind ClusterRole//weave-net'];
    expect(await accessProblem(new MemoryCluster({ bob: most }), bob, binding)).toMatch(/^Kubernetes user bob may not bind role\/weave-net -n kube-system/);
    expect(await accessProblem(new MemoryCluster({ bob: [...most, 'bind Role/kube-system/weave-net'] }), bob, binding)).toBeUndefined();
  });
});
