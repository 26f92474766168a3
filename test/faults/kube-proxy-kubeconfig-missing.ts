// ConfigMap kube-proxy without its kubeconfig.conf key (config.conf still names
// /var/lib/kube-proxy/kubeconfig.conf): kube-proxy restarted after the edit cannot start.
import { type Fault, configMapPath, deletePods, jsonPatch } from './fault';
import { KUBE_PROXY_CRASH_BOUND_MS, kubeProxyDownAndNodePortDead, redeployWebappUnderDeadKubeProxy } from './kube-proxy';

export const kubeProxyKubeconfigMissing: Fault = {
  name: 'kube-proxy-kubeconfig-missing',
  description:
    'kubectl edit of ConfigMap kube-system/kube-proxy on the real node removes the kubeconfig.conf key (config.conf names /var/lib/kube-proxy/kubeconfig.conf); ' +
    'the restarted kube-proxy crash-loops, and after a webapp rollout NodePort 30081 no longer answers.',
  async break(c) {
    await jsonPatch(c, configMapPath('kube-system', 'kube-proxy'), [{ op: 'remove', path: '/data/kubeconfig.conf' }]);
    await deletePods(c, 'kube-system', 'k8s-app=kube-proxy');
    await redeployWebappUnderDeadKubeProxy(c);
  },
  breakBoundMs: KUBE_PROXY_CRASH_BOUND_MS,
  ready: kubeProxyDownAndNodePortDead,
  expected: {
    rootCause: { code: 'KP-KUBECONFIG-MISSING', subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' }, mentions: ['kubeconfig.conf'] },
    plan: false,
  },
};
