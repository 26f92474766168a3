// A typo in the Corefile (forwardd): CoreDNS's reload plugin refuses it and keeps serving, so the
// fault shows at the next CoreDNS restart (here `kubectl rollout restart`): the new pod crash-loops.
import { misspellCorefileForward } from './corefile-reload-refused';
import { type Fault, coreDnsCrashLoopingLookupsFail, rolloutRestart } from './fault';

export const corefileTypo: Fault = {
  name: 'corefile-typo',
  description: 'kubectl edit of ConfigMap kube-system/coredns on the real node (forward → forwardd), then a CoreDNS rollout restart: CoreDNS crash-loops on the Corefile.',
  async break(c) {
    await misspellCorefileForward(c);
    await rolloutRestart(c, 'kube-system', 'coredns');
  },
  breakBoundMs: 0,
  ready: coreDnsCrashLoopingLookupsFail,
  expected: {
    rootCause: { code: 'DNS-COREFILE-PARSE', mentions: ['Corefile', 'forwardd'] },
    plan: false,
  },
};
