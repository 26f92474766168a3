import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { EndpointSlice, Endpoints, Pod, Service } from '../domain/kube-types';
import { kubectl, refOf } from '../domain/object-ref';
import { type Operation, type Plan, makePlan } from '../domain/plan';
import { CidrSet } from './support/cidr';
import { objectEvidence } from './support/evidence';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { podNetwork, serviceNetwork } from './support/pod-network';
import { declaredPorts, hasSelector, isLive, servicesInScope, stableLabels, svcRef } from './support/services';

const ID = 'service-stale-endpoints';

/** The EndpointSlice mirroring controller copies hand-written Endpoints into slices it owns: patch the Endpoints, not the mirror. */
const MIRRORED = 'endpointslicemirroring-controller.k8s.io';

type Problem = 'stale' | 'outside' | 'cluster-ip';

/** One hand-written address and where it is written (an Endpoints subset or an EndpointSlice endpoint). */
interface Written {
  ip: string;
  ports: number[];
  targetPod?: string;
  nodeName?: string;
  /** JSON pointer of the address in its object. */
  path: string;
  object: Endpoints | EndpointSlice;
  kind: 'Endpoints' | 'EndpointSlice';
}

interface Bad extends Written {
  problem: Problem;
  /** The pod the address names (targetRef), as it is now. */
  named?: Pod;
  /** For a ClusterIP: the Service that owns it. */
  clusterIpOf?: string;
}

/** RFC 1918 and RFC 4193 ranges: where a cluster's own pods and nodes live. */
const PRIVATE = new CidrSet().add('10.0.0.0/8').add('172.16.0.0/12').add('192.168.0.0/16').add('fc00::/7');

const CODES: Record<Problem, string> = { stale: 'SVC-ENDPOINTS-STALE', outside: 'SVC-ENDPOINTS-OUTSIDE-POD-NETWORK', 'cluster-ip': 'SVC-ENDPOINTS-CLUSTER-IP' };

function writtenAddresses(endpoints: Endpoints | undefined, slices: EndpointSlice[]): Written[] {
  const out: Written[] = [];
  (endpoints?.subsets ?? []).forEach((subset, i) => {
    const ports = (subset.ports ?? []).map((p) => p.port);
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      (subset[field] ?? []).forEach((a, j) => {
        const w: Written = { ip: a.ip, ports, path: pointer('subsets', i, field, j, 'ip'), object: endpoints!, kind: 'Endpoints' };
        if (a.targetRef?.kind === 'Pod' && a.targetRef.name) w.targetPod = a.targetRef.name;
        if (a.nodeName) w.nodeName = a.nodeName;
        out.push(w);
      });
    }
  });
  for (const slice of slices) {
    if (slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] === MIRRORED && endpoints) continue;
    const ports = (slice.ports ?? []).map((p) => p.port).filter((p): p is number => typeof p === 'number');
    (slice.endpoints ?? []).forEach((e, i) =>
      (e.addresses ?? []).forEach((ip, j) => {
        const w: Written = { ip, ports, path: pointer('endpoints', i, 'addresses', j), object: slice, kind: 'EndpointSlice' };
        if (e.targetRef?.kind === 'Pod' && e.targetRef.name) w.targetPod = e.targetRef.name;
        if (e.nodeName) w.nodeName = e.nodeName;
        out.push(w);
      }),
    );
  }
  return out;
}

const podIps = (p: Pod): string[] => (p.status?.podIPs ?? []).map((x) => x.ip).concat(p.status?.podIP ? [p.status.podIP] : []);

/** Pods in the namespace that could be what an address meant: they declare one of its ports and have an IP. */
function servingPods(pods: Pod[], ports: number[]): Pod[] {
  return pods.filter((p) => !p.spec?.hostNetwork && podIps(p).length > 0 && declaredPorts(p.spec).some((d) => ports.includes(d.port)));
}

/** ` (e.g. app=mysql)`: the labels every candidate pod carries, for a selector suggestion; empty when they share none. */
function sharedLabels(pods: Pod[]): string {
  const [first, ...rest] = pods.map((p) => stableLabels(p.metadata?.labels));
  const shared = Object.entries(first ?? {}).filter(([k, v]) => rest.every((l) => l[k] === v));
  return shared.length > 0 ? ` (e.g. ${shared.map(([k, v]) => `${k}=${v}`).join(',')})` : '';
}

function planFor(svc: Service, bad: Bad[]): Plan | null {
  // Exact only when every bad address names its pod (targetRef) and that pod now has one IP of the same family.
  const replacements = bad.map((b) => ({ b, ip: b.named && b.problem !== 'cluster-ip' ? podIps(b.named).find((ip) => ip.includes(':') === b.ip.includes(':')) : undefined }));
  if (replacements.some((r) => !r.ip)) return null;
  const byObject = new Map<Endpoints | EndpointSlice, { kind: Written['kind']; patch: JsonPatchOp[] }>();
  for (const { b, ip } of replacements) {
    const entry = byObject.get(b.object) ?? { kind: b.kind, patch: [] };
    entry.patch.push(...testAndReplace(b.path, b.ip, ip));
    byObject.set(b.object, entry);
  }
  const operations: Operation[] = [...byObject].map(([object, { kind, patch }]) => ({
    action: 'patch',
    target: { ...refOf(kind, object), apiVersion: kind === 'Endpoints' ? 'v1' : 'discovery.k8s.io/v1' },
    patchType: 'json',
    patch,
    resourceVersion: object.metadata?.resourceVersion,
  }));
  const ref = svcRef(svc);
  return makePlan({
    summary: `Point ${ref.name}'s hand-written endpoints at the pods' current IPs: ${replacements.map((r) => `${r.b.ip} → ${r.ip} (pod ${r.b.targetPod})`).join(', ')}`,
    risk: 'low',
    effect: 'kube-proxy on every node reprograms the Service to the new addresses within seconds; nothing restarts',
    operations,
    verify: { check: ID, subject: ref, waitFor: 'none' },
  });
}

/**
 * SVC: a Service without a selector, whose hand-written Endpoints/EndpointSlices name pod-network addresses no pod
 * has any more (the pod was recreated and got a new IP), a pod's address outside the pod network, or another
 * Service's ClusterIP (kube-proxy does not forward to virtual IPs). External backends — addresses outside the
 * cluster with no pod or node named — are what selector-less Services are for, and are left alone.
 */
export const serviceStaleEndpoints: Check = {
  id: ID,
  title: 'Selector-less Services whose hand-written endpoints point at IPs no pod has, or outside the pod network',
  codes: Object.values(CODES),
  needs: ['Service', 'Endpoints', 'EndpointSlice', 'Pod', 'Node', 'ConfigMap', 'DaemonSet'],
  reads: {
    ConfigMap: ['binaryData', 'data'],
    DaemonSet: ['spec.template.spec.containers.args', 'spec.template.spec.containers.command', 'spec.template.spec.containers.env', 'spec.template.spec.containers.name', 'spec.template.spec.containers.volumeMounts', 'spec.template.spec.volumes'],
    EndpointSlice: ['endpoints', 'metadata.labels', 'ports'],
    Endpoints: ['metadata.resourceVersion', 'subsets'],
    Node: ['spec.podCIDRs', 'status.addresses'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'spec.containers.name', 'spec.containers.ports', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs'],
    Service: ['spec.clusterIP', 'spec.clusterIPs', 'spec.selector', 'spec.type'],
  },
  // An endpoint at another namespace's Service's cluster IP is named as that Service's.
  needsEverywhere: ['Service'],
  run(ctx) {
    const findings: FindingDraft[] = [];
    // default/kubernetes has no selector either: the apiserver writes its own addresses there.
    const services = servicesInScope(ctx).filter((s) => !hasSelector(s) && s.spec?.type !== 'ExternalName' && !(s.metadata?.namespace === 'default' && s.metadata?.name === 'kubernetes'));
    if (services.length === 0) return findings;
    const network = podNetwork(ctx.view);
    const svcNet = serviceNetwork(ctx.view);
    const nodeIps = new Set(ctx.view.list('Node').flatMap((n) => (n.status?.addresses ?? []).map((a) => a.address)));
    const livePods = ctx.view.list('Pod').filter(isLive);
    const holder = new Map<string, Pod>();
    for (const p of livePods) if (!p.spec?.hostNetwork) for (const ip of podIps(p)) holder.set(ip, p);

    for (const svc of services) {
      const ns = svc.metadata?.namespace;
      const name = svc.metadata?.name ?? '';
      const endpoints = ctx.view.get('Endpoints', ns, name);
      const slices = ctx.view.list('EndpointSlice', ns).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name);
      const written = writtenAddresses(endpoints, slices);
      const unique = written.filter((w, i) => written.findIndex((o) => o.ip === w.ip) === i);
      const nsPods = livePods.filter((p) => p.metadata?.namespace === ns);
      const bad: Bad[] = [];
      for (const w of written) {
        if (holder.has(w.ip) || nodeIps.has(w.ip)) continue;
        const named = w.targetPod ? livePods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === w.targetPod) : undefined;
        const withPod = (b: Bad): Bad => (named ? { ...b, named } : b);
        if (svcNet.set.has(w.ip) || svcNet.clusterIps.has(w.ip)) {
          const owner = svcNet.clusterIps.get(w.ip);
          bad.push({ ...w, problem: 'cluster-ip', ...(owner ? { clusterIpOf: owner } : {}) });
        } else if (network.set.has(w.ip) || (network.ranges.length === 0 && PRIVATE.has(w.ip) && servingPods(nsPods, w.ports).length > 0)) {
          // With no pod range on record (no node podCIDR, podSubnet or CNI pool), a private address where pods serve the port is taken for a pod's.
          bad.push(withPod({ ...w, problem: 'stale' }));
        }
        // Outside the pod network: a fault when the address is meant to be a pod or node of this cluster (it names one, or
        // a private address stands where pods of the namespace serve the port); a public address is an external backend.
        else if (w.targetPod || w.nodeName || (PRIVATE.has(w.ip) && servingPods(nsPods, w.ports).length > 0)) bad.push(withPod({ ...w, problem: 'outside' }));
      }
      if (bad.length === 0) continue;
      const badIps = [...new Set(bad.map((b) => b.ip))];
      const working = unique.length - badIps.length;
      const ref = svcRef(svc);
      const ports = [...new Set(bad.flatMap((b) => b.ports))];
      const candidates = servingPods(nsPods, ports);
      const ranges = network.ranges.map((r) => `${r.cidr} (${r.source})`).join(', ') || 'unknown (no node podCIDR, kubeadm podSubnet or CNI pool in view)';
      const describe = (b: Bad): string => {
        if (b.problem === 'cluster-ip') return `${b.ip} is ${b.clusterIpOf ? `the ClusterIP of Service ${b.clusterIpOf}` : 'in the Service (ClusterIP) range'}: kube-proxy does not forward to virtual IPs`;
        const now = b.named ? `; pod ${b.targetPod} now has ${podIps(b.named).join(', ') || 'no IP'}` : b.targetPod ? `; pod ${b.targetPod} no longer exists` : '';
        const meant = b.targetPod ? `names pod ${b.targetPod}` : b.nodeName ? `names node ${b.nodeName}` : `stands for pods of ${ns} that serve port ${b.ports.join(', ')}`;
        return b.problem === 'stale' ? `no pod has ${b.ip}${now}` : `${b.ip} is outside the pod network yet ${meant}${now}`;
      };
      const evidence: Evidence[] = [
        ...[...new Set(bad.map((b) => b.object))].map((o) => {
          const kind = bad.find((b) => b.object === o)!.kind;
          const oref = refOf(kind, o);
          const addrs = written.filter((w) => w.object === o).map((w) => `${w.ip}${w.targetPod ? ` (pod ${w.targetPod})` : ''}`);
          return objectEvidence(oref, `${kind === 'Endpoints' ? 'endpoints' : 'endpointslice'}/${oref.name} (written by hand; Service ${name} has no selector): ${addrs.join(', ')} port ${ports.join(', ')}`, kubectl.get(oref));
        }),
        ...bad.map((b): Evidence => ({ type: 'object', text: describe(b), command: kubectl.list('pods', ns, ['-o', 'wide']) })),
        { type: 'object', text: `pod network: ${ranges}`, command: 'kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDRS:.spec.podCIDRs' },
      ];
      if (candidates.length > 0) {
        evidence.push({
          type: 'object',
          text: `pods in ${ns} serving port ${ports.join(', ')} now: ${candidates.slice(0, 5).map((p) => `${p.metadata?.name} ${podIps(p)[0]}`).join(', ')}${candidates.length > 5 ? ', …' : ''}`,
          command: kubectl.list('pods', ns, ['-o', 'wide']),
        });
      }
      const plan = planFor(svc, bad);
      const problem = (['stale', 'outside', 'cluster-ip'] as const).find((p) => bad.some((b) => b.problem === p))!;
      const headline =
        problem === 'stale'
          ? `point at ${badIps.join(', ')}, which no pod has (stale: the pods were recreated with new IPs)`
          : problem === 'outside'
            ? `point at ${badIps.join(', ')}, outside the pod network, for backends that are pods or nodes of this cluster`
            : `point at ${badIps.join(', ')}, a ClusterIP: kube-proxy does not forward to virtual IPs`;
      findings.push({
        code: CODES[problem],
        severity: working === 0 ? 'critical' : 'warning',
        title: `Service ${name}: hand-written endpoints ${problem === 'stale' ? 'are stale' : problem === 'outside' ? 'outside the pod network' : 'name a ClusterIP'} (${badIps.join(', ')})`,
        summary:
          `Service ${ns}/${name} has no selector, so nothing updates its endpoints; they ${headline}. ` +
          `${working === 0 ? 'None of its' : `${badIps.length} of its ${unique.length}`} addresses lead to a backend${working === 0 ? ': connections to it fail or time out' : ''}.` +
          bad.filter((b) => b.named).map((b) => ` Pod ${b.targetPod}, which ${b.ip} names, now has ${podIps(b.named!).join(', ') || 'no IP'}.`).join('') +
          (candidates.length > 0 ? ` Pods serving port ${ports.join(', ')} now: ${candidates.slice(0, 3).map((p) => `${p.metadata?.name} (${podIps(p)[0]})`).join(', ')}.` : ''),
        subject: ref,
        evidence,
        rootCause: true,
        explains: [ref],
        advice: [
          ...(plan ? [] : [`Write the backends' current addresses into ${endpoints ? `endpoints/${name}` : `the EndpointSlice(s) of ${name}`}: kubectl -n ${ns} edit ${endpoints ? 'endpoints' : 'endpointslice'} ${endpoints ? name : slices[0]?.metadata?.name ?? name}`]),
          candidates.length > 0
            ? `Hand-written endpoints go stale whenever a pod is recreated: if the backends are these pods, give Service ${name} a selector on their labels instead${sharedLabels(candidates)}, and delete the hand-written Endpoints/EndpointSlices.`
            : `If the backend is outside the cluster, use its real address (not a pod or Service IP), or an ExternalName Service for a DNS name.`,
        ],
        plan,
      });
    }
    return findings;
  },
};
