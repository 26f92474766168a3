// webapp moved onto the host network (hostNetwork: true, dnsPolicy left at its ClusterFirst default):
// the kubelet gives it the node's resolv.conf, so DB_Host=mysql no longer resolves.
import { type Fault, deploymentPath, jsonPatch, pageSays, podLines, pods, podReady, symptom } from './fault';

export const webappHostNetwork: Fault = {
  name: 'webapp-host-network',
  description: 'kubectl patch of deployment/webapp-mysql on the real node: hostNetwork: true, dnsPolicy unset (ClusterFirst); webapp resolves mysql with the node\'s resolv.conf and fails.',
  async break(c) {
    await jsonPatch(c, deploymentPath('triton', 'webapp-mysql'), [{ op: 'add', path: '/spec/template/spec/hostNetwork', value: true }]);
  },
  breakBoundMs: 0,
  async ready(c) {
    const web = await pods(c, 'triton', 'name=webapp-mysql', { terminating: true });
    symptom([[web.length === 1 && podReady(web[0]!) && !web[0]!.metadata.deletionTimestamp, `webapp not rolled out to one Ready pod: ${podLines(web)}`]]);
    await pageSays(c, /lookup mysql/);
  },
  expected: {
    // No plan: webapp declares port 8080, which on the host network is the node's; its rolling update's surge pod
    // stayed Pending beside the old one (the first run of this fault, with a plan, never got traffic back).
    rootCause: { code: 'WL-HOSTNET-DNS-POLICY', subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp-mysql' }, mentions: ['hostNetwork', 'ClusterFirst'] },
    plan: false,
  },
};
