import { jobIdFrom, parseDiagnoseJob, parseDigestJob, parseRemediateJob, queueAddress, queueLabel, runKey } from '../../../src/queue/jobs';

const good = { cluster: 'prod-eu', namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'U123', channel: 'C0NETOPS', parentTs: '1700000000.000100' };

describe('queue names and ids', () => {
  it('puts the cluster in the key prefix (BullMQ forbids `:` in queue names)', () => {
    const at = queueAddress('netdoctor', 'prod-eu', 'diagnose');
    expect(at).toEqual({ name: 'diagnose', prefix: 'netdoctor:prod-eu' });
    expect(queueLabel(at)).toBe('netdoctor:prod-eu:diagnose');
  });

  it('builds job ids without `:` that are never all digits', () => {
    expect(jobIdFrom('diagnose', 'T1:1234.5678')).toBe('diagnose-T1_1234.5678');
    expect(jobIdFrom('diagnose', '42')).toBe('diagnose-42');
    expect(jobIdFrom('remediate', 'x'.repeat(300))).toHaveLength('remediate-'.length + 100);
  });

  it('keys in-flight runs by cluster, namespace (or all) and workflow only', () => {
    expect(runKey(good)).toBe('prod-eu.triton.namespace-triage');
    expect(runKey({ cluster: 'prod-eu', workflow: 'cluster-health' })).toBe('prod-eu._all.cluster-health');
  });
});

describe('payload validation', () => {
  it('accepts a well-formed request and drops unknown fields', () => {
    expect(parseDiagnoseJob({ ...good, token: 'xoxb-leak' }, 'prod-eu')).toEqual(good);
  });

  it.each([
    [null, 'bad job data: expected an object'],
    [[], 'bad job data: expected an object'],
    [{ ...good, cluster: 'us-east' }, 'bad job data: unknown cluster "us-east": this worker serves cluster "prod-eu"'],
    [{ ...good, workflow: undefined }, 'bad job data: `workflow` is missing'],
    [{ ...good, namespace: 'Triton' }, 'bad job data: `namespace` must be a namespace name (DNS label)'],
    [{ ...good, channel: '<!channel>' }, 'bad job data: `channel` must be a channel id'],
    [{ ...good, parentTs: 12 }, 'bad job data: `parentTs` must be a Slack message ts'],
  ])('rejects %j', (data, reason) => {
    expect(() => parseDiagnoseJob(data, 'prod-eu')).toThrow(reason);
  });

  it('validates digest and remediate payloads', () => {
    expect(parseDigestJob({ cluster: 'c', manual: true, channel: 'C0DIGEST' }, 'c')).toEqual({ cluster: 'c', manual: true, channel: 'C0DIGEST' });
    expect(() => parseDigestJob({ cluster: 'c', manual: 'yes' }, 'c')).toThrow('`manual` must be a boolean');
    expect(parseRemediateJob({ cluster: 'c', planId: 'plan-0123456789abcdef', action: 'apply', approvedBy: 'U1', channel: 'C1' }, 'c')).toMatchObject({ planId: 'plan-0123456789abcdef', action: 'apply' });
    expect(() => parseRemediateJob({ cluster: 'c', planId: '../../x', action: 'apply', approvedBy: 'U1', channel: 'C1' }, 'c')).toThrow('`planId` must be a plan id');
    expect(() => parseRemediateJob({ cluster: 'c', planId: 'plan-0123456789abcdef', action: 'destroy', approvedBy: 'U1', channel: 'C1' }, 'c')).toThrow('`action` must be apply or rollback');
  });
});
