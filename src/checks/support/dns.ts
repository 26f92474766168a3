import type { ClusterView } from '../../domain/cluster-view';
import { CORE_SCHEMA, load } from 'js-yaml';
import type { Deployment, Pod, Service } from '../../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../../domain/object-ref';
import { caughtBetweenCrashes, isReady, owningWorkload, podState, restartCount } from './pods';
import { selectorMatches } from './selectors';

export const DNS_NAMESPACE = 'kube-system';
export const DNS_SERVICE = 'kube-dns';
const DNS_LABEL = { 'k8s-app': 'kube-dns' };

/** The cluster DNS Service (kube-system/kube-dns, or a kube-system Service labelled k8s-app=kube-dns): the CoreDNS checks own it, the generic service checks skip it. */
export function isClusterDnsService(svc: Service): boolean {
  if (svc.metadata?.namespace !== DNS_NAMESPACE) return false;
  return svc.metadata?.name === DNS_SERVICE || selectorMatches(DNS_LABEL, svc.metadata?.labels);
}

export function clusterDnsService(view: ClusterView): Service | undefined {
  return view.get('Service', DNS_NAMESPACE, DNS_SERVICE) ?? view.list('Service', DNS_NAMESPACE).find(isClusterDnsService);
}

/** Deployment kube-system/coredns, or the kube-system Deployment whose pods are labelled k8s-app=kube-dns. */
export function coreDnsDeployment(view: ClusterView): Deployment | undefined {
  return (
    view.get('Deployment', DNS_NAMESPACE, 'coredns') ??
    view.list('Deployment', DNS_NAMESPACE).find((d) => selectorMatches(DNS_LABEL, d.spec?.template?.metadata?.labels))
  );
}

/** The CoreDNS pods: owned by the CoreDNS Deployment, else labelled k8s-app=kube-dns, else named coredns-*. */
export function coreDnsPods(view: ClusterView): Pod[] {
  const deploy = coreDnsDeployment(view);
  const pods = view.list('Pod', DNS_NAMESPACE).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  if (deploy) {
    const owned = pods.filter((p) => {
      const o = owningWorkload(view, p);
      return o.kind === 'Deployment' && o.name === deploy.metadata?.name;
    });
    if (owned.length > 0) return owned;
  }
  const labelled = pods.filter((p) => selectorMatches(DNS_LABEL, p.metadata?.labels));
  return labelled.length > 0 ? labelled : pods.filter((p) => /^coredns-/.test(p.metadata?.name ?? ''));
}

/** The ref CoreDNS findings are about: the Deployment, else the workload owning its pods. */
export function coreDnsRef(view: ClusterView, pods: readonly Pod[]): ObjectRef {
  const deploy = coreDnsDeployment(view);
  if (deploy) return refOf('Deployment', deploy);
  return pods[0] ? owningWorkload(view, pods[0]) : { apiVersion: 'apps/v1', kind: 'Deployment', namespace: DNS_NAMESPACE, name: 'coredns' };
}

export interface DnsEndpoints {
  source: 'EndpointSlice' | 'Endpoints' | 'none';
  ready: string[];
  notReady: string[];
  /** Ports the endpoints publish, `53/UDP`-style. */
  ports: string[];
  command: string;
}

/** kube-dns endpoints: EndpointSlices labelled kubernetes.io/service-name=kube-dns, else the Endpoints object. */
export function dnsEndpoints(view: ClusterView, svc: Service): DnsEndpoints {
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name ?? '';
  const slices = view.list('EndpointSlice', ns).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name);
  if (slices.length > 0) {
    const eps = slices.flatMap((s) => s.endpoints ?? []);
    const label = (e: (typeof eps)[number]): string => e.targetRef?.name ?? e.addresses[0] ?? '';
    return {
      source: 'EndpointSlice',
      ready: eps.filter((e) => e.conditions?.ready !== false).map(label),
      notReady: eps.filter((e) => e.conditions?.ready === false).map(label),
      ports: [...new Set(slices.flatMap((s) => (s.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)))],
      command: kubectl.list('endpointslices', ns, ['-l', `kubernetes.io/service-name=${name}`]),
    };
  }
  const legacy = view.get('Endpoints', ns, name);
  if (legacy) {
    const subsets = legacy.subsets ?? [];
    const label = (a: { ip: string; targetRef?: { name?: string } }): string => a.targetRef?.name ?? a.ip;
    return {
      source: 'Endpoints',
      ready: subsets.flatMap((s) => (s.addresses ?? []).map(label)),
      notReady: subsets.flatMap((s) => (s.notReadyAddresses ?? []).map(label)),
      ports: [...new Set(subsets.flatMap((s) => (s.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)))],
      command: kubectl.get({ kind: 'Endpoints', namespace: ns, name }),
    };
  }
  return { source: 'none', ready: [], notReady: [], ports: [], command: kubectl.list('endpointslices', ns, ['-l', `kubernetes.io/service-name=${name}`]) };
}

/** The `forward . <to…>` line of a Corefile's root zone, if any. */
export function corefileForward(corefile: string | undefined): { line: string; targets: string[] } | undefined {
  const m = /^[ \t]*forward[ \t]+\.[ \t]+([^{\n]+)/m.exec(corefile ?? '');
  if (!m) return undefined;
  return { line: m[0].trim(), targets: m[1]!.trim().split(/\s+/) };
}

/** A forward target that is this host: CoreDNS forwarding straight to itself. */
export function isLoopbackTarget(target: string): boolean {
  return /^(dns:\/\/)?(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)(:\d+)?$/.test(target);
}

/**
 * The KubeletConfiguration every node gets from ConfigMap kube-system/kubelet-config (kubeadm;
 * kubelet-config-1.x before 1.24), parsed; undefined when absent or not YAML (the kubelet would refuse it too).
 */
function kubeletConfig(view: ClusterView): { config: Record<string, unknown>; configMap: string } | undefined {
  const cm = view.get('ConfigMap', DNS_NAMESPACE, 'kubelet-config') ?? view.list('ConfigMap', DNS_NAMESPACE).find((c) => /^kubelet-config(-\d+\.\d+)?$/.test(c.metadata?.name ?? ''));
  const text = cm?.data?.kubelet;
  if (!cm || !text) return undefined;
  try {
    const config: unknown = load(text, { schema: CORE_SCHEMA });
    return config && typeof config === 'object' ? { config: config as Record<string, unknown>, configMap: cm.metadata?.name ?? 'kubelet-config' } : undefined;
  } catch {
    return undefined;
  }
}

/** kubelet `resolvConf` from ConfigMap kube-system/kubelet-config (kubeadm), if present. */
export function kubeletResolvConf(view: ClusterView): { value: string; configMap: string } | undefined {
  const kubelet = kubeletConfig(view);
  const value = kubelet?.config.resolvConf;
  return kubelet && typeof value === 'string' && value ? { value, configMap: kubelet.configMap } : undefined;
}

/** kubelet `clusterDNS` (the nameservers it writes into every pod's resolv.conf) from ConfigMap kube-system/kubelet-config, if present. */
export function kubeletClusterDns(view: ClusterView): { ips: string[]; configMap: string } | undefined {
  const kubelet = kubeletConfig(view);
  const listed = kubelet?.config.clusterDNS;
  const ips = Array.isArray(listed) ? listed.filter((ip): ip is string => typeof ip === 'string') : [];
  return kubelet && ips.length > 0 ? { ips, configMap: kubelet.configMap } : undefined;
}

/**
 * A CoreDNS pod that keeps failing: CrashLoopBackOff, not Ready after restarts, or caught running
 * between two crashes (CoreDNS can pass its readiness probe before the loop plugin stops it).
 */
export const coreDnsCrashing = (p: Pod, now: Date): boolean => podState(p) === 'crashloop' || (!isReady(p) && restartCount(p) > 0) || caughtBetweenCrashes(p, now);

export interface CoreDnsLogLine {
  pod: Pod;
  container: string;
  previous: boolean;
  line: string;
  match: RegExpExecArray;
}

/** The first log line of each pod matching `pattern`: the crashed (previous) instance first, then the current one. */
export function coreDnsLogLines(view: ClusterView, pods: readonly Pod[], pattern: RegExp): CoreDnsLogLine[] {
  const hits: CoreDnsLogLine[] = [];
  for (const pod of pods) {
    const first = podLogMatches(view, pod, pattern).next();
    if (!first.done) hits.push(first.value);
  }
  return hits;
}

/** Every log line of the pods matching `pattern`, in the same order (`instances` limits which logs are read). */
export function coreDnsAllLogLines(view: ClusterView, pods: readonly Pod[], pattern: RegExp, instances: 'both' | 'current' = 'both'): CoreDnsLogLine[] {
  return pods.flatMap((pod) => [...podLogMatches(view, pod, pattern, instances === 'both' ? [true, false] : [false])]);
}

function* podLogMatches(view: ClusterView, pod: Pod, pattern: RegExp, instances: readonly boolean[] = [true, false]): Generator<CoreDnsLogLine> {
  const namespace = pod.metadata?.namespace ?? DNS_NAMESPACE;
  const name = pod.metadata?.name ?? '';
  for (const c of pod.spec?.containers ?? []) {
    for (const previous of instances) {
      for (const raw of view.log({ namespace, pod: name, container: c.name, previous })?.split('\n') ?? []) {
        const match = pattern.exec(raw);
        if (match) yield { pod, container: c.name, previous, line: raw.trim(), match };
      }
    }
  }
}

/** One hit per distinct line (digits aside): every replica usually logs the same failure. */
export function distinctLines<T extends { line: string }>(hits: readonly T[], max = 2): T[] {
  const shape = (l: string): string => l.replace(/\d+/g, '#');
  return hits.filter((h, i) => hits.findIndex((o) => shape(o.line) === shape(h.line)) === i).slice(0, max);
}

export const COREFILE_REF: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: DNS_NAMESPACE, name: 'coredns' };

/** The CoreDNS container of the Deployment's pod template (named coredns, else the first) and its index. */
export function coreDnsContainer(deploy: Deployment | undefined): { index: number; container: NonNullable<NonNullable<NonNullable<Deployment['spec']>['template']['spec']>['containers']>[number] } | undefined {
  const containers = deploy?.spec?.template?.spec?.containers ?? [];
  const index = Math.max(0, containers.findIndex((c) => c.name === 'coredns'));
  const container = containers[index];
  return container ? { index, container } : undefined;
}

/** `1.9.3` from `registry.k8s.io/coredns/coredns:v1.9.3` (or `coredns/coredns:1.2.6`), as [major, minor, patch]. */
export function coreDnsVersion(image: string | undefined): [number, number, number] | undefined {
  const m = /:v?(\d+)\.(\d+)\.(\d+)(?:[-@].*)?$/.exec(image ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** What a CoreDNS root cause explains: its own objects, every CoreDNS pod and kube-dns (whose empty endpoints are then a symptom of it). */
export function coreDnsExplains(view: ClusterView, pods: readonly Pod[], ...own: ObjectRef[]): ObjectRef[] {
  const svc = clusterDnsService(view);
  return [...own, ...pods.map((p) => refOf('Pod', p)), ...(svc ? [refOf('Service', svc)] : [])];
}

/**
 * Whether a pod still runs what the Deployment's template says for what a bind can depend on (image, securityContext,
 * hostNetwork): a pod from an older template is being replaced by the rollout, so its crash says nothing of the spec now.
 */
export function runsCurrentTemplate(deploy: Deployment | undefined, pod: Pod): boolean {
  const template = deploy?.spec?.template?.spec;
  if (!template) return true;
  if (Boolean(template.hostNetwork) !== Boolean(pod.spec?.hostNetwork)) return false;
  return template.containers.every((c) => {
    const running = pod.spec?.containers?.find((x) => x.name === c.name);
    return !running || (running.image === c.image && canonical(running.securityContext ?? {}) === canonical(c.securityContext ?? {}));
  });
}

/** JSON with sorted keys, so objects equal in content compare equal whatever order their fields came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
