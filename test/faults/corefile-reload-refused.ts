// The same Corefile typo (forwardd) with no restart after it: CoreDNS's reload plugin refuses the
// edited file and goes on serving the one it started with, so DNS works and only CoreDNS's log tells.
// The fault is latent: the next CoreDNS restart (corefile-typo, next in the library) takes DNS down.
import { APP_OK, type Fault, type FaultCluster, appPage, configMapPath, excerpt, get, mergePatch, podLines, podReady, pods, symptom } from './fault';

/** coredns plugin/reload/reload.go, logged each time it finds the mounted Corefile changed and cannot load it. */
const RELOAD_FAILED = 'Corefile changed but reload failed';

/** `kubectl edit configmap coredns` turning `forward .` into `forwardd .` (the typo both Corefile faults make). */
export async function misspellCorefileForward(c: FaultCluster): Promise<void> {
  const cm = (await get<{ data: { Corefile: string } }>(c, configMapPath('kube-system', 'coredns')))!;
  await mergePatch(c, configMapPath('kube-system', 'coredns'), { data: { Corefile: cm.data.Corefile.replace('forward .', 'forwardd .') } });
}

export const corefileReloadRefused: Fault = {
  name: 'corefile-reload-refused',
  description: 'kubectl edit of ConfigMap kube-system/coredns on the real node (forward → forwardd) and no restart: the reload plugin refuses the Corefile, CoreDNS keeps serving the previous one.',
  break: misspellCorefileForward,
  breakBoundMs: 0,
  async ready(c) {
    const dns = await pods(c, 'kube-system', 'k8s-app=kube-dns', { terminating: true });
    const logs = await Promise.all(dns.map((p) => c.api.request(`/api/v1/namespaces/kube-system/pods/${p.metadata.name}/log`, { query: { container: 'coredns' } }).then((r) => r.body, () => '')));
    const page = await appPage(c);
    symptom([
      [dns.length > 0 && dns.every(podReady), `CoreDNS not all Ready: ${podLines(dns)}`],
      [logs.some((l) => l.includes(RELOAD_FAILED)), `no CoreDNS log says "${RELOAD_FAILED}" yet (the kubelet refreshes the mounted ConfigMap, then reload checks every 30 s)`],
      [page.includes(APP_OK), `lookups fail already: ${excerpt(page)}`],
    ]);
  },
  expected: {
    rootCause: { code: 'DNS-COREFILE-PARSE', subject: { kind: 'ConfigMap', namespace: 'kube-system', name: 'coredns' }, mentions: ['forwardd', 'still serves the previous one'] },
    plan: false,
  },
};
