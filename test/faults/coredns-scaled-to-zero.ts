// CoreDNS scaled to 0 (`kubectl -n kube-system scale deployment coredns --replicas=0`): kube-dns has
// no endpoints, kube-proxy rejects port 53, webapp's lookup of mysql fails.
import { type Fault, deploymentPath, mergePatch, pageSays, podLines, pods, symptom } from './fault';

export const corednsScaledToZero: Fault = {
  name: 'coredns-scaled-to-zero',
  description: 'kubectl -n kube-system scale deployment coredns --replicas=0 on the real node: kube-dns has no endpoints and webapp cannot resolve mysql.',
  async break(c) {
    await mergePatch(c, `${deploymentPath('kube-system', 'coredns')}/scale`, { spec: { replicas: 0 } });
  },
  breakBoundMs: 0,
  async ready(c) {
    const dns = await pods(c, 'kube-system', 'k8s-app=kube-dns', { terminating: true });
    symptom([[dns.length === 0, `CoreDNS pods left: ${podLines(dns)}`]]);
    await pageSays(c, /lookup mysql/);
  },
  expected: {
    rootCause: { code: 'DNS-SCALED-TO-ZERO', subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' }, mentions: ['coredns'] },
    plan: true,
  },
};
