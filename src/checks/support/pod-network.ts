import { parse } from 'yaml';
import type { ClusterView } from '../../domain/cluster-view';
import type { DaemonSet } from '../../domain/kube-types';
import { CidrSet } from './cidr';
import { kubeadmPodSubnet } from './cni';
import { kubeProxyDaemonSets, loadedConfig } from './kube-proxy';

/** A CIDR the pod network is known to use, and where it was read. */
export interface PodRange {
  cidr: string;
  source: string;
}

/** Weave Net allocates from 10.32.0.0/12 unless IPALLOC_RANGE says otherwise (weave's launch.sh default). */
const WEAVE_DEFAULT_RANGE = '10.32.0.0/12';

function envOf(ds: DaemonSet, name: string): string | undefined {
  for (const c of ds.spec?.template?.spec?.containers ?? []) {
    const v = (c.env ?? []).find((e) => e.name === name)?.value;
    if (v) return v;
  }
  return undefined;
}

/**
 * The address ranges pods get IPs from: node podCIDRs (node IPAM), kubeadm's podSubnet, kube-proxy's clusterCIDR,
 * and the CNI's own pool where it allocates outside the node ranges (weave IPALLOC_RANGE, flannel Network, Calico pool).
 */
export function podRanges(view: ClusterView): PodRange[] {
  const out: PodRange[] = [];
  for (const n of view.list('Node')) for (const c of n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])) out.push({ cidr: c, source: `node ${n.metadata?.name} podCIDR` });
  const subnet = kubeadmPodSubnet(view);
  if (subnet) for (const c of subnet.split(',')) out.push({ cidr: c.trim(), source: 'kubeadm-config podSubnet' });
  for (const kp of kubeProxyDaemonSets(view)) {
    const cidr = loadedConfig(view, kp)?.config?.clusterCIDR;
    if (typeof cidr === 'string') for (const c of cidr.split(',').filter(Boolean)) out.push({ cidr: c.trim(), source: 'kube-proxy clusterCIDR' });
  }
  for (const ds of view.list('DaemonSet')) {
    const name = ds.metadata?.name ?? '';
    if (name === 'weave-net') out.push({ cidr: envOf(ds, 'IPALLOC_RANGE') ?? WEAVE_DEFAULT_RANGE, source: 'weave-net IPALLOC_RANGE' });
    const calicoPool = envOf(ds, 'CALICO_IPV4POOL_CIDR');
    if (calicoPool) out.push({ cidr: calicoPool, source: `${name} CALICO_IPV4POOL_CIDR` });
  }
  for (const cm of view.list('ConfigMap').filter((c) => c.metadata?.name === 'kube-flannel-cfg')) {
    try {
      const network = (parse(cm.data?.['net-conf.json'] ?? '{}') as { Network?: unknown } | null)?.Network;
      if (typeof network === 'string') out.push({ cidr: network, source: 'kube-flannel-cfg Network' });
    } catch {
      // A broken net-conf.json is flannel's own fault; it adds no range here.
    }
  }
  return out;
}

export function podNetwork(view: ClusterView): { set: CidrSet; ranges: PodRange[] } {
  const ranges = podRanges(view);
  const set = new CidrSet();
  for (const r of ranges) set.add(r.cidr);
  // Each CIDR once, where it was first read (a Set: thousands of nodes give thousands of ranges).
  const seen = new Set<string>();
  return { set, ranges: ranges.filter((r) => !seen.has(r.cidr) && seen.add(r.cidr)) };
}

/** The ClusterIP range: kubeadm's serviceSubnet, plus every ClusterIP in the view. */
export function serviceNetwork(view: ClusterView): { set: CidrSet; clusterIps: Map<string, string> } {
  const set = new CidrSet();
  const cfg = view.get('ConfigMap', 'kube-system', 'kubeadm-config')?.data?.ClusterConfiguration;
  const subnet = cfg ? /^\s*serviceSubnet:\s*"?([^"\s]+)"?\s*$/m.exec(cfg)?.[1] : undefined;
  for (const c of subnet?.split(',') ?? []) set.add(c.trim());
  const clusterIps = new Map<string, string>();
  for (const s of view.list('Service')) {
    for (const ip of s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])) if (ip && ip !== 'None') clusterIps.set(ip, `${s.metadata?.namespace}/${s.metadata?.name}`);
  }
  return { set, clusterIps };
}
