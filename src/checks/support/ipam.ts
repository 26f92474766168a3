import { ipv4 } from './netpol';

/** An IPAM plugin that ran out of pod addresses on a node, as its sandbox error says it. */
export interface IpExhaustion {
  ipam: 'host-local' | 'calico-ipam' | 'cilium';
  /** host-local's range set as it prints it (`10.244.0.1-10.244.0.254`, ranges joined by commas). */
  rangeSet?: string;
  /** The plugin's words, quoted in reports. */
  text: string;
}

/**
 * host-local: plugins/ipam/host-local/main.go wraps the allocator's error as `failed to allocate for range %d: %v`, and
 * backend/allocator/allocator.go says `no IP addresses available in range set: %s` (RangeSet.String(): ranges `start-end`, comma-joined).
 * Calico: cni-plugin/pkg/ipamplugin/ipam_plugin.go, `failed to request %d IPv4 addresses. IPAM allocated only %d`.
 * Cilium: plugins/cilium-cni, `unable to allocate IP via local cilium agent: %w`, wrapping the agent's 502 postIpamFailure: `range is full`
 * (host-scope/kubernetes IPAM, the ipallocator's ErrFull), `all CIDR ranges are exhausted` (multi-pool, pkg/ipam cidrPool.allocateNext),
 * `no IPs currently available on the node, allocation will be retried once Cilium Operator allocates more IPs` (CRD/ENI modes, pkg/ipam/crd.go).
 */
const HOST_LOCAL = /(?:failed to allocate for range \d+: )?no IP addresses available in range set: ([0-9a-fA-F.:,-]+)/;
const CALICO = /failed to request \d+ IPv[46] addresses\. IPAM allocated only \d+/i;
const CILIUM = /unable to allocate IP via local cilium agent:[^\n]*?(?:range is full|all CIDR ranges are exhausted|no IPs currently available on the node)/i;

export function ipExhaustion(message: string | undefined): IpExhaustion | undefined {
  if (!message) return undefined;
  const hostLocal = HOST_LOCAL.exec(message);
  if (hostLocal) return { ipam: 'host-local', rangeSet: hostLocal[1]!, text: hostLocal[0] };
  const calico = CALICO.exec(message);
  if (calico) return { ipam: 'calico-ipam', text: calico[0] };
  const cilium = CILIUM.exec(message);
  if (cilium) return { ipam: 'cilium', text: cilium[0].replace(/\s+/g, ' ') };
  return undefined;
}

/** IPv4 `start-end` ranges of a range set, as numbers (IPv6 ranges are left out). */
export function ipv4Ranges(rangeSet: string): { start: number; end: number }[] {
  return rangeSet.split(',').flatMap((r) => {
    const [a, b] = r.split('-');
    const start = ipv4(a ?? '');
    const end = ipv4(b ?? '');
    return start !== undefined && end !== undefined && end >= start ? [{ start, end }] : [];
  });
}

export function inRanges(ip: string | undefined, ranges: { start: number; end: number }[]): boolean {
  const n = ip ? ipv4(ip) : undefined;
  return n !== undefined && ranges.some((r) => n >= r.start && n <= r.end);
}
