// The seed's lab 2: the kube-proxy DaemonSet edited to --config=/var/lib/kube-proxy/configuration.conf,
// a key its ConfigMap does not have: kube-proxy crash-loops.
import { type Fault, daemonSetPath, jsonPatch } from './fault';
import { KUBE_PROXY_CRASH_BOUND_MS, kubeProxyDownAndNodePortDead, redeployWebappUnderDeadKubeProxy } from './kube-proxy';

export const kubeProxyConfigPath: Fault = {
  name: 'kube-proxy-config-path',
  description:
    'The seed lab 2 on the real node: kubectl edit of DaemonSet kube-system/kube-proxy to --config=/var/lib/kube-proxy/configuration.conf ' +
    '(ConfigMap kube-proxy has config.conf); kube-proxy v1.36 crash-loops, and after a webapp rollout NodePort 30081 no longer answers.',
  async break(c) {
    await jsonPatch(c, daemonSetPath('kube-system', 'kube-proxy'), [
      { op: 'test', path: '/spec/template/spec/containers/0/command/1', value: '--config=/var/lib/kube-proxy/config.conf' },
      { op: 'replace', path: '/spec/template/spec/containers/0/command/1', value: '--config=/var/lib/kube-proxy/configuration.conf' },
    ]);
    await redeployWebappUnderDeadKubeProxy(c);
  },
  breakBoundMs: KUBE_PROXY_CRASH_BOUND_MS,
  ready: kubeProxyDownAndNodePortDead,
  // The rollback puts configuration.conf back; NodePort dies only once webapp moves under the dead kube-proxy.
  reenact: redeployWebappUnderDeadKubeProxy,
  expected: {
    rootCause: {
      code: 'KP-CONFIG-PATH',
      subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' },
      mentions: ['configuration.conf', 'config.conf'],
      fixContains: '--config=/var/lib/kube-proxy/config.conf',
    },
    plan: true,
  },
};
