import { type ReadAccessPolicy, readAccessProblem } from '../../../src/remediation/read-access';
import { MemoryCluster } from '../../support/memory-ports';

const policy: ReadAccessPolicy = {
  mode: 'checked',
  identities: { UALICE: { user: 'alice', groups: [] }, UBOB: { user: 'bob', groups: ['devs'] } },
  channelNamespaces: { C0TRITON1: ['triton'], C0EVERY01: ['*'] },
};
// alice may read pods and their logs in triton; bob only pods.
const cluster = new MemoryCluster({ alice: ['get Pod/triton/', 'get Pod/triton//log'], bob: ['get Pod/triton/'] });
const ask = (check: Parameters<MemoryCluster['allowed']>[0]) => cluster.allowed(check);
const req = (requestedBy: string, channel = 'C0OTHER01', namespace = 'triton') => ({ requestedBy, channel, namespace });

describe('readAccessProblem', () => {
  it('lets everyone see everything in open mode (the default)', async () => {
    expect(await readAccessProblem({ ...policy, mode: 'open' }, ask, req('UNOBODY'))).toBeUndefined();
  });

  it('grants a requester whose Kubernetes identity may get pods and pods/log in the namespace', async () => {
    expect(await readAccessProblem(policy, ask, req('UALICE'))).toBeUndefined();
  });

  it('grants by the channel allow-list, whoever asks', async () => {
    expect(await readAccessProblem(policy, ask, req('UNOBODY', 'C0TRITON1'))).toBeUndefined();
    expect(await readAccessProblem(policy, ask, req('UNOBODY', 'C0EVERY01', 'payments'))).toBeUndefined();
  });

  it('refuses, saying what is missing', async () => {
    expect(await readAccessProblem(policy, ask, req('UBOB'))).toBe(
      'not shown: Kubernetes user bob may not get pods/log in namespace triton, and this channel is not granted namespace triton (NETDOCTOR_CHANNEL_NAMESPACES). Ask an admin for either; nothing from the cluster was read',
    );
    expect(await readAccessProblem(policy, ask, req('UALICE', 'C0TRITON1', 'payments'))).toMatch(/^not shown: Kubernetes user alice may not get pods or get pods\/log in namespace payments, and this channel is not granted namespace payments/);
    expect(await readAccessProblem(policy, ask, req('UNOBODY'))).toMatch(/^not shown: you have no Kubernetes identity mapped \(NETDOCTOR_IDENTITY_MAP\), and this channel/);
    expect(await readAccessProblem(policy, undefined, req('UALICE'))).toMatch(/^not shown: netdoctor has no cluster to ask/);
  });
});
