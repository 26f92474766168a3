import type { V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { ClusterView } from '../../domain/cluster-view';
import type { NetworkPolicy, Pod, Wire } from '../../domain/kube-types';
import { formatSelector, labelSelectorMatches } from './selectors';

type Peer = Wire<V1NetworkPolicyPeer>;
type PolicyPort = Wire<V1NetworkPolicyPort>;

/** A destination port as NetworkPolicies see it: the pod port after DNAT, by number and (if declared) name. */
export interface FlowPort {
  port: number;
  name?: string;
  protocol: string;
}

/** A namespace's labels, with the immutable `kubernetes.io/metadata.name` the control plane sets. */
export function namespaceLabels(view: ClusterView, namespace: string): Record<string, string> {
  return { ...(view.get('Namespace', undefined, namespace)?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': namespace };
}

/** Which directions a policy isolates: `policyTypes`, or Ingress plus Egress when egress rules exist. */
export function isolates(policy: NetworkPolicy): { ingress: boolean; egress: boolean } {
  const types = policy.spec?.policyTypes;
  if (types && types.length > 0) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: (policy.spec?.egress ?? []).length > 0 };
}

export function selectsPod(policy: NetworkPolicy, pod: Pod): boolean {
  return policy.metadata?.namespace === pod.metadata?.namespace && labelSelectorMatches(policy.spec?.podSelector ?? {}, pod.metadata?.labels);
}

/** A dotted IPv4 address as a number, or undefined. */
export function ipv4(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(base ?? '');
  const n = Number(bits ?? 32);
  if (a === undefined || b === undefined || !(n >= 0 && n <= 32)) return false;
  const size = 2 ** (32 - n);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** Does one `from`/`to` peer of a policy in `policyNamespace` match the pod on the other end. */
export function peerMatches(view: ClusterView, policyNamespace: string, peer: Peer, other: Pod): boolean {
  if (peer.ipBlock) {
    const ip = other.status?.podIP;
    return Boolean(ip && inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ip, c)));
  }
  const ns = other.metadata?.namespace ?? '';
  const nsOk = peer.namespaceSelector ? labelSelectorMatches(peer.namespaceSelector, namespaceLabels(view, ns)) : ns === policyNamespace;
  const podOk = peer.podSelector ? labelSelectorMatches(peer.podSelector, other.metadata?.labels) : true;
  return nsOk && podOk;
}

export function portMatches(ports: PolicyPort[] | undefined, port: FlowPort): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== port.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return p.port === port.name;
    return p.endPort ? port.port >= p.port && port.port <= p.endPort : port.port === p.port;
  });
}

/**
 * An ingress rule's `from` peers. Over the wire (dumps, raw JSON) the field is `from`; client-node's model
 * renames it `_from`. Accept both.
 */
export function ruleFrom(rule: NonNullable<NonNullable<NetworkPolicy['spec']>['ingress']>[number]): Peer[] | undefined {
  return (rule as { from?: Peer[] }).from ?? rule._from;
}

export interface Verdict {
  allowed: boolean;
  /** The policies that isolate the pod in that direction (none: everything is allowed). */
  isolating: NetworkPolicy[];
}

/** Ingress to `dst` from `src` on `port`: allowed when nothing isolates dst, or some rule admits src on that port. */
export function ingressVerdict(view: ClusterView, src: Pod, dst: Pod, port: FlowPort): Verdict {
  const isolating = view.list('NetworkPolicy', dst.metadata?.namespace).filter((p) => isolates(p).ingress && selectsPod(p, dst));
  const admits = (p: NetworkPolicy): boolean =>
    (p.spec?.ingress ?? []).some((rule) => {
      const peers = ruleFrom(rule) ?? [];
      const fromOk = peers.length === 0 || peers.some((peer) => peerMatches(view, p.metadata?.namespace ?? '', peer, src));
      return fromOk && portMatches(rule.ports, port);
    });
  return { allowed: isolating.length === 0 || isolating.some(admits), isolating };
}

/** Egress from `src` to `dst` on `port`: the mirror image on the source's policies. */
export function egressVerdict(view: ClusterView, src: Pod, dst: Pod, port: FlowPort): Verdict {
  const isolating = view.list('NetworkPolicy', src.metadata?.namespace).filter((p) => isolates(p).egress && selectsPod(p, src));
  const admits = (p: NetworkPolicy): boolean =>
    (p.spec?.egress ?? []).some((rule) => {
      const peers = rule.to ?? [];
      const toOk = peers.length === 0 || peers.some((peer) => peerMatches(view, p.metadata?.namespace ?? '', peer, dst));
      return toOk && portMatches(rule.ports, port);
    });
  return { allowed: isolating.length === 0 || isolating.some(admits), isolating };
}

function describePeer(peer: Peer): string {
  if (peer.ipBlock) return `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(',')}` : ''}`;
  const parts: string[] = [];
  if (peer.namespaceSelector) parts.push(`namespaces ${describeSelector(peer.namespaceSelector)}`);
  if (peer.podSelector) parts.push(`pods ${describeSelector(peer.podSelector)}`);
  return parts.join(' AND ');
}

function describeSelector(s: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }): string {
  const exprs = (s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`);
  const text = [formatSelector(s.matchLabels), ...exprs].filter(Boolean).join(',');
  return text || '(all)';
}

function describePorts(ports: PolicyPort[] | undefined): string {
  if (!ports || ports.length === 0) return 'all ports';
  return ports.map((p) => `${p.port ?? 'any'}${p.endPort ? `-${p.endPort}` : ''}/${p.protocol ?? 'TCP'}`).join(', ');
}

/** One line per policy: what it selects, which directions it isolates, and its rules. */
export function describePolicy(policy: NetworkPolicy): string {
  const dirs = isolates(policy);
  const types = [dirs.ingress ? 'Ingress' : '', dirs.egress ? 'Egress' : ''].filter(Boolean).join('+');
  const rules = (kind: 'ingress' | 'egress'): string => {
    const list = kind === 'ingress' ? policy.spec?.ingress ?? [] : policy.spec?.egress ?? [];
    if (list.length === 0) return `${kind}: none (deny all)`;
    return `${kind}: ${list
      .map((r) => {
        const peers = kind === 'egress' ? (r as { to?: Peer[] }).to : ruleFrom(r);
        return `[${peers && peers.length > 0 ? peers.map(describePeer).join(' OR ') : 'from anywhere'} on ${describePorts(r.ports)}]`;
      })
      .join(' ')}`;
  };
  const parts = [`networkpolicy/${policy.metadata?.name}: selects pods ${describeSelector(policy.spec?.podSelector ?? {})}, isolates ${types}`];
  if (dirs.ingress) parts.push(rules('ingress'));
  if (dirs.egress) parts.push(rules('egress'));
  return parts.join('; ');
}

/**
 * Why each ingress rule of `policy` fails to admit `src` to `port` (empty when one admits it), as an operator would
 * say it: a peer that selects no pod or no namespace (NP-03: a typo, namespace labels missing, AND written where OR
 * was meant), or the right peer on another port, often the Service's port where policies see the pod's (NP-04).
 */
export function ingressRuleMisses(view: ClusterView, policy: NetworkPolicy, src: Pod, port: FlowPort, servicePorts: readonly number[]): string[] {
  const ns = policy.metadata?.namespace ?? '';
  const srcNs = src.metadata?.namespace ?? '';
  const misses: string[] = [];
  for (const [i, rule] of (policy.spec?.ingress ?? []).entries()) {
    const n = `rule ${i + 1}`;
    const peers = ruleFrom(rule) ?? [];
    const fromOk = peers.length === 0 || peers.some((peer) => peerMatches(view, ns, peer, src));
    if (fromOk) {
      if (portMatches(rule.ports, port)) return [];
      const servicePort = (rule.ports ?? []).some((p) => typeof p.port === 'number' && p.port !== port.port && servicePorts.includes(p.port));
      misses.push(
        `${n} admits ${peers.length ? peers.map(describePeer).join(' OR ') : 'everyone'} on ${describePorts(rule.ports)}, not on the pod port ${port.port}/${port.protocol}` +
          (servicePorts.length > 0 && servicePort ? ' (that is the Service port: policies see the pod port, after kube-proxy\'s DNAT)' : ''),
      );
      continue;
    }
    for (const peer of peers) {
      if (peer.ipBlock) {
        misses.push(`${n} admits ${describePeer(peer)}, which does not hold ${src.metadata?.name} (${src.status?.podIP ?? 'no IP'})`);
        continue;
      }
      const namespaces = peer.namespaceSelector
        ? view.list('Namespace').map((x) => x.metadata?.name ?? '').filter((name) => labelSelectorMatches(peer.namespaceSelector, namespaceLabels(view, name)))
        : [ns];
      const pods = view.list('Pod').filter((p) => namespaces.includes(p.metadata?.namespace ?? '') && (!peer.podSelector || labelSelectorMatches(peer.podSelector, p.metadata?.labels)));
      const srcLabels = formatSelector(src.metadata?.labels) || 'no labels';
      if (peer.namespaceSelector && !namespaces.includes(srcNs)) {
        const alone = !peer.podSelector || labelSelectorMatches(peer.podSelector, src.metadata?.labels);
        misses.push(
          namespaces.length === 0
            ? `${n}'s namespaceSelector ${describeSelector(peer.namespaceSelector)} matches no namespace (namespace ${srcNs} has ${formatSelector(namespaceLabels(view, srcNs))})`
            : `${n} admits ${describePeer(peer)}: namespace ${srcNs} is not among them (${formatSelector(namespaceLabels(view, srcNs))})${peer.podSelector && alone ? '; namespaceSelector and podSelector in one peer must both match (AND), two peers would be OR' : ''}`,
        );
      } else if (pods.length === 0) {
        misses.push(`${n}'s peer ${describePeer(peer)} selects no pod${peer.namespaceSelector ? '' : ` in namespace ${ns}`} (${src.metadata?.name} has ${srcLabels})`);
      } else {
        misses.push(`${n} admits ${describePeer(peer)} (${pods.length} pod${pods.length === 1 ? '' : 's'}), not ${src.metadata?.name} (${srcLabels})`);
      }
    }
  }
  return misses;
}
