// The CoreDNS forwarding loop: the node's resolv.conf (the kubelet's resolvConf, which dnsPolicy
// Default pods get) points at a local stub, 127.0.0.53 as systemd-resolved writes it. In CoreDNS's
// pod that address is CoreDNS itself (`forward . /etc/resolv.conf`): the loop plugin exits it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Fault, type FaultCluster, coreDnsCrashLoopingLookupsFail, rolloutRestart } from './fault';

const nodeResolvConf = (c: FaultCluster): string => path.join(c.workDir, 'kubelet', 'resolv.conf');

export const corednsLoop: Fault = {
  name: 'coredns-loop',
  description:
    "The node's resolv.conf (kubelet resolvConf) points at systemd-resolved's stub 127.0.0.53 on the real node, and CoreDNS is restarted: " +
    'forward . /etc/resolv.conf sends queries to CoreDNS itself, the loop plugin exits it, CoreDNS crash-loops.',
  async break(c) {
    fs.writeFileSync(nodeResolvConf(c), '# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n');
    await rolloutRestart(c, 'kube-system', 'coredns');
  },
  breakBoundMs: 0,
  ready: coreDnsCrashLoopingLookupsFail,
  expected: {
    rootCause: { code: 'DNS-LOOP', subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' }, mentions: ['loop', 'resolv.conf'] },
    plan: false,
  },
  // The node's file back; the manifests' Deployment (without the restart annotation) rolls CoreDNS again.
  restore: async (c) => fs.copyFileSync('/etc/resolv.conf', nodeResolvConf(c)),
};
