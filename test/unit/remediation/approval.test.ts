import { type ApprovalPolicy, approvalProblem } from '../../../src/remediation/approval';

const policy: ApprovalPolicy = {
  users: ['UALICE', 'UBOB'],
  groups: ['SNETOPS'],
  allowSelfApproval: false,
  validityMs: 15 * 60_000,
  identities: { UALICE: { user: 'alice', groups: [] }, UBOB: { user: 'bob', groups: [] }, UCAROL: { user: 'carol', groups: [] } },
};
const now = new Date('2026-11-25T10:10:00Z');
const req = { approver: 'UBOB', approverGroups: [], requestedBy: 'UALICE', dryRunAt: '2026-11-25T10:00:00Z', now };

describe('approvalProblem', () => {
  it('accepts a configured approver other than the requester within the validity window', () => {
    expect(approvalProblem(policy, req)).toBeUndefined();
    expect(approvalProblem(policy, { ...req, approver: 'UCAROL', approverGroups: ['SNETOPS'] })).toBeUndefined();
  });

  it.each([
    ['not an approver', { approver: 'UMALLORY' }, /not a configured approver/],
    ['self-approval', { approver: 'UALICE' }, /cannot approve its fix/],
    ['expired', { dryRunAt: '2026-11-25T09:50:00Z' }, /expired/],
    ['no identity', { approver: 'UDAVE', approverGroups: ['SNETOPS'] }, /no Kubernetes identity/],
  ])('refuses %s', (_name, over, message) => {
    expect(approvalProblem(policy, { ...req, ...over })).toMatch(message);
  });

  it('allows self-approval only when configured', () => {
    expect(approvalProblem({ ...policy, allowSelfApproval: true }, { ...req, approver: 'UALICE' })).toBeUndefined();
  });

  it('says remediation is disabled when nobody may approve', () => {
    expect(approvalProblem({ ...policy, users: [], groups: [] }, req)).toMatch(/remediation is disabled/);
  });
});
