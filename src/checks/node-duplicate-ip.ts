import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { KubeNode } from '../domain/kube-types';
import { kubectl, refOf } from '../domain/object-ref';

/** flannel records the address it tunnels to on each node (flannel.alpha.coreos.com/public-ip). */
const FLANNEL_PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';

const internalIps = (n: KubeNode): string[] => (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);

/**
 * NODE-02: two or more nodes announcing the same InternalIP, as every VirtualBox/Vagrant VM does with its NAT
 * address (10.0.2.15) when the kubelet is not given --node-ip. The apiserver, kubectl logs/exec and the CNI reach
 * "the node" at an address every node has: cross-node pod traffic, logs and exec go to the wrong host or nowhere.
 */
export const nodeDuplicateIp: Check = {
  id: 'node-duplicate-ip',
  title: 'Nodes that share an InternalIP (Vagrant/VirtualBox NAT): cross-node pod traffic, logs and exec fail',
  codes: ['NODE-DUPLICATE-IP'],
  needs: ['Node'],
  infraOnly: true,
  reads: {
    Node: ['metadata.annotations', 'status.addresses'],
  },
  run(ctx) {
    const byIp = new Map<string, KubeNode[]>();
    for (const node of ctx.view.list('Node')) for (const ip of new Set(internalIps(node))) byIp.set(ip, [...(byIp.get(ip) ?? []), node]);
    const findings: FindingDraft[] = [];
    for (const [ip, nodes] of byIp) {
      if (nodes.length < 2) continue;
      const names = nodes.map((n) => n.metadata?.name ?? '');
      const flannel = nodes.filter((n) => n.metadata?.annotations?.[FLANNEL_PUBLIC_IP] === ip);
      const evidence: Evidence[] = nodes.slice(0, 4).map((n) => ({
        type: 'object',
        text: `node/${n.metadata?.name}: InternalIP ${internalIps(n).join(', ')}${n.metadata?.annotations?.[FLANNEL_PUBLIC_IP] ? `, ${FLANNEL_PUBLIC_IP}=${n.metadata.annotations[FLANNEL_PUBLIC_IP]}` : ''}`,
        command: kubectl.get(refOf('Node', n), 'wide'),
      }));
      findings.push({
        code: 'NODE-DUPLICATE-IP',
        severity: 'critical',
        title: `${nodes.length} nodes announce the same InternalIP ${ip}: ${names.join(', ')}`,
        summary:
          `Nodes ${names.join(', ')} all report InternalIP ${ip}${ip === '10.0.2.15' ? ' (VirtualBox\'s NAT address, the same on every Vagrant VM)' : ''}. ` +
          `The kubelet picked the interface of the default route instead of the network the nodes share, so the apiserver reaches "the node" (kubectl logs/exec: \`dial tcp ${ip}:10250\` fails or lands on another host)` +
          `${flannel.length > 1 ? ` and flannel tunnels pod traffic to ${ip} on every node` : ' and the pod network may route cross-node traffic to it'}: pods on different nodes cannot reach each other.`,
        subject: refOf('Node', nodes[0]!),
        evidence,
        rootCause: true,
        explains: nodes.map((n) => refOf('Node', n)),
        advice: [
          `On each node, give the kubelet its address on the shared network: KUBELET_EXTRA_ARGS=--node-ip=<that node's IP> in /etc/default/kubelet (kubeadm: nodeRegistration.kubeletExtraArgs node-ip), then \`sudo systemctl restart kubelet\`; \`kubectl get nodes -o wide\` must then show distinct INTERNAL-IPs.`,
          ...(flannel.length > 0
            ? ['flannel picks the default route\'s interface too: add `--iface=<shared interface, e.g. eth1>` to the kube-flannel container args (kubectl -n kube-flannel edit daemonset kube-flannel-ds), and restart its pods.']
            : []),
        ],
      });
    }
    return findings;
  },
};
