import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { KubeEvent, Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { explainsForPods } from './support/cni';
import { objectEvidence } from './support/evidence';
import { podEventEvidence } from './support/pod-evidence';
import { type IpExhaustion, inRanges, ipExhaustion, ipv4Ranges } from './support/ipam';
import { podState, CONTAINER_STATUS_READS } from './support/pods';
import { isLive } from './support/services';

const ID = 'pod-ip-exhaustion';

interface Stuck {
  pod: Pod;
  event: KubeEvent;
  exhaustion: IpExhaustion;
}

/** The newest sandbox failure of a pod that says the IPAM plugin has no address left. */
function exhaustionOf(ctx: Parameters<Check['run']>[0], pod: Pod): Stuck | undefined {
  const events = ctx.view.events(refOf('Pod', pod)).filter((e) => e.type === 'Warning' && e.reason === 'FailedCreatePodSandBox');
  for (let i = events.length - 1; i >= 0; i--) {
    const exhaustion = ipExhaustion(events[i]!.message);
    if (exhaustion) return { pod, event: events[i]!, exhaustion };
  }
  return undefined;
}

/** A pod that holds a pod-network address on the node (hostNetwork pods use the node's). */
const holdsAddress = (p: Pod): boolean => isLive(p) && !p.spec?.hostNetwork && Boolean(p.status?.podIP);

/** The network name in a CRI sandbox error (`plugin type="bridge" name="cbr0"`): host-local keeps its leases in /var/lib/cni/networks/<name>/. */
const networkName = (message: string | undefined): string | undefined => /plugin type="[^"]+" name="([^"]+)"/.exec(message ?? '')?.[1];

/**
 * CNI-07: the node's IPAM has no pod address left (host-local `no IP addresses available in range set`, Calico
 * `IPAM allocated only 0`, Cilium `range is full`): new pods stay in ContainerCreating while the CNI itself works.
 * Names the node's range, how many pods hold an address in it, and how many reservations are leaked (kept by
 * sandboxes that are gone: the runtime restarted or a CNI DEL never ran). Not a missing or broken CNI: cni-not-running
 * leaves these pods to this check.
 */
export const podIpExhaustion: Check = {
  id: ID,
  title: "Node's pod IP range exhausted (IPAM has no address left; leaked reservations)",
  codes: ['CNI-IPAM-EXHAUSTED'],
  needs: ['Pod', 'Event', 'Node', 'ReplicaSet', 'Service'],
  reads: {
    Event: ['count', 'message', 'reason', 'type'],
    Node: ['spec.podCIDRs'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.hostNetwork', 'spec.nodeName', ...CONTAINER_STATUS_READS, 'status.phase', 'status.podIP'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.selector'],
  },
  run(ctx) {
    const byNode = new Map<string, Stuck[]>();
    for (const pod of ctx.view.list('Pod')) {
      if (pod.status?.podIP || podState(pod) !== 'creating') continue;
      const stuck = exhaustionOf(ctx, pod);
      const node = pod.spec?.nodeName;
      if (!stuck || !node) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), stuck]);
    }
    const findings: FindingDraft[] = [];
    for (const [nodeName, stuck] of byNode) {
      if (ctx.namespace !== undefined && !stuck.some((s) => s.pod.metadata?.namespace === ctx.namespace)) continue;
      const node = ctx.view.get('Node', undefined, nodeName);
      const nodeRef: ObjectRef = { apiVersion: 'v1', kind: 'Node', name: nodeName };
      const first = stuck[0]!;
      const podCidrs = node?.spec?.podCIDRs?.length ? node.spec.podCIDRs : node?.spec?.podCIDR ? [node.spec.podCIDR] : [];
      const ranges = first.exhaustion.rangeSet ? ipv4Ranges(first.exhaustion.rangeSet) : [];
      const onNode = ctx.view.list('Pod').filter((p) => p.spec?.nodeName === nodeName && holdsAddress(p));
      const holding = ranges.length > 0 ? onNode.filter((p) => inRanges(p.status?.podIP, ranges)) : onNode;
      // host-local never hands out the gateway (the range's first address on bridge/flannel setups).
      const size = ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
      const usable = Math.max(0, size - 1);
      const leaked = ranges.length > 0 ? Math.max(0, usable - holding.length) : undefined;
      const counted = ctx.namespace === undefined ? '' : ' (of the namespaces read; a cluster-wide run counts every pod)';
      const range = first.exhaustion.rangeSet ? `range ${first.exhaustion.rangeSet}${podCidrs.length ? ` (podCIDR ${podCidrs.join(', ')})` : ''}` : podCidrs.length ? `podCIDR ${podCidrs.join(', ')}` : 'its pod range';
      const net = networkName(first.event.message);
      const leakText =
        leaked === undefined
          ? ''
          : leaked > 0
            ? ` Of its ${usable} usable addresses only ${holding.length} are held by pods: about ${leaked} reservations are leaked (kept for sandboxes that no longer exist).`
            : ` All ${usable} usable addresses are held by running pods: the range is too small for the pods scheduled here.`;
      const stuckPods = stuck.map((s) => s.pod);
      findings.push({
        code: 'CNI-IPAM-EXHAUSTED',
        severity: 'critical',
        title: `Node ${nodeName} has no pod IP left (${first.exhaustion.ipam}${first.exhaustion.rangeSet ? ` ${first.exhaustion.rangeSet}` : ''})`,
        summary:
          `The ${first.exhaustion.ipam} IPAM on node ${nodeName} has no address left in ${range} ("${first.exhaustion.text}"), so ${stuck.length} new pod(s) stay in ContainerCreating; ` +
          `the CNI itself works, pods already running keep their addresses. ${holding.length} pod(s) hold an address on the node${counted}.${leakText}`,
        subject: nodeRef,
        evidence: [
          ...stuck.slice(0, 2).map((s) => podEventEvidence(s.pod, s.event)),
          objectEvidence(nodeRef, `node/${nodeName}: podCIDR ${podCidrs.join(', ') || 'none'}; ${holding.length} pod(s) hold an address${ranges.length ? ` in ${first.exhaustion.rangeSet}` : ''}`, kubectl.get(nodeRef, 'wide')),
          { type: 'command', text: `pods on ${nodeName} and their IPs`, command: `kubectl get pods -A -o wide --field-selector spec.nodeName=${nodeName}` },
        ],
        rootCause: true,
        explains: explainsForPods(ctx.view, stuckPods, [nodeRef]),
        advice:
          first.exhaustion.ipam === 'host-local'
            ? [
                `On ${nodeName}: ls /var/lib/cni/networks/${net ?? '<network>'}/ — one file per reserved IP, holding the container id. Remove the files whose id no running sandbox has (crictl pods -q), or drain the node, delete the directory and reboot it.`,
                leaked !== undefined && leaked === 0
                  ? `The range is genuinely full: lower the kubelet's maxPods or give nodes larger pod ranges (kube-controller-manager --node-cidr-mask-size).`
                  : 'Leaks come from sandboxes torn down without a CNI DEL (runtime crashes, hard reboots): check the container runtime for restarts.',
              ]
            : first.exhaustion.ipam === 'calico-ipam'
              ? ['calicoctl ipam check (then calicoctl ipam release --from-report) frees leaked addresses; calicoctl ipam show --show-blocks shows whether the IP pools themselves are full.']
              : ['cilium status --all-addresses on the agent of that node lists who holds each address; restart the agent to release stale ones, or give the node a larger pod CIDR.'],
      });
    }
    return findings;
  },
};
