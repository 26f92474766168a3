import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { NetworkPolicy, Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { DNS_NAMESPACE, clusterDnsService, coreDnsPods } from './support/dns';
import { objectEvidence } from './support/evidence';
import { type FlowPort, describePolicy, egressVerdict, inCidr, isolates, namespaceLabels, portMatches, selectsPod } from './support/netpol';
import { owningWorkload } from './support/pods';
import { notEnforced, policiesNotEnforced } from './support/policy-enforcement';
import { formatSelector } from './support/selectors';
import { isLive, resolveTargetPort } from './support/services';

const ID = 'dns-egress-blocked';
const NP_API = 'networking.k8s.io/v1';

/** The pod port cluster DNS answers on (after the Service's DNAT), by number and declared name. */
function dnsFlowPort(dnsPod: Pod, protocol: 'UDP' | 'TCP', targetPort: number | string): FlowPort {
  const declared = resolveTargetPort(dnsPod, targetPort, protocol);
  if (declared) return { port: declared.port, protocol, ...(declared.name ? { name: declared.name } : {}) };
  return { port: typeof targetPort === 'number' ? targetPort : 53, protocol };
}

/** A policy's name suffixed, cut to a DNS-1123 name of at most 63 characters. */
function allowDnsName(policy: string): string {
  return `netdoctor-allow-dns-${policy}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 63).replace(/-+$/, '');
}

/** NodeLocal DNSCache's link-local address (k8s.io/dns nodelocaldns default); pods using it send DNS to a hostNetwork agent, not to kube-dns. */
const NODE_LOCAL_DNS = '169.254.20.10';

type EgressRule = NonNullable<NonNullable<NetworkPolicy['spec']>['egress']>[number];

/** Egress rules that name DNS's port: meant for DNS, whatever their peers match. */
function dnsRules(policies: NetworkPolicy[], udp: FlowPort): { policy: NetworkPolicy; rule: EgressRule }[] {
  return policies.flatMap((policy) => (policy.spec?.egress ?? []).filter((r) => (r.ports ?? []).length > 0 && portMatches(r.ports, udp)).map((rule) => ({ policy, rule })));
}

/** A DNS rule to NodeLocal DNSCache's address: lookups go there, not to the kube-dns pods, so this check cannot judge them. */
const toNodeLocalDns = (rule: EgressRule): boolean => (rule.to ?? []).some((peer) => peer.ipBlock && inCidr(NODE_LOCAL_DNS, peer.ipBlock.cidr));

interface Blocked {
  policy: NetworkPolicy;
  pods: Pod[];
}

/**
 * DNS-01: egress NetworkPolicies that allow some traffic but not DNS. Once a policy isolates a pod's egress, every
 * destination must be listed, cluster DNS included (UDP/TCP 53 to the kube-dns pods, evaluated after the Service's
 * DNAT). Forgetting it is the classic egress mistake: connections by IP work, every name lookup times out.
 * Pods whose egress is denied outright (no egress rule at all) are deliberate lock-downs, not this fault.
 */
export const dnsEgressBlocked: Check = {
  id: ID,
  title: 'Egress NetworkPolicy allows traffic but not DNS to kube-dns',
  codes: ['DNS-EGRESS-BLOCKED', 'NP-NOT-ENFORCED'],
  needs: ['NetworkPolicy', 'Pod', 'Service', 'Namespace', 'Deployment', 'ReplicaSet', 'DaemonSet'],
  reads: {
    DaemonSet: ['spec.template.metadata.labels'],
    NetworkPolicy: ['spec'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.containers.ports', 'spec.hostNetwork', 'status.phase', 'status.podIP'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.ports', 'spec.selector'],
  },
  run(ctx) {
    if (!ctx.view.list('NetworkPolicy').some((p) => isolates(p).egress)) return [];
    const dnsPods = coreDnsPods(ctx.view).filter(isLive);
    if (dnsPods.length === 0) return [];
    const dnsSvc = clusterDnsService(ctx.view);
    const svcPort = (protocol: string): number | string => {
      const p = (dnsSvc?.spec?.ports ?? []).find((x) => (x.protocol ?? 'TCP') === protocol);
      return p?.targetPort ?? p?.port ?? 53;
    };
    const udpPort = dnsFlowPort(dnsPods[0]!, 'UDP', svcPort('UDP'));
    const groups = new Map<string, Blocked>();
    for (const pod of ctx.view.list('Pod', ctx.namespace).filter(isLive)) {
      if (pod.spec?.hostNetwork || dnsPods.includes(pod)) continue;
      const verdicts = dnsPods.map((d) => egressVerdict(ctx.view, pod, d, dnsFlowPort(d, 'UDP', svcPort('UDP'))));
      if (verdicts.some((v) => v.allowed)) continue;
      const isolating = verdicts[0]!.isolating;
      // Some egress is allowed: the policy means to let the pod talk, and forgot DNS.
      if (!isolating.some((p) => (p.spec?.egress ?? []).length > 0)) continue;
      if (dnsRules(isolating, udpPort).some(({ rule }) => toNodeLocalDns(rule))) continue;
      const culprit = isolating[0]!;
      const key = refKey(refOf('NetworkPolicy', culprit));
      const g = groups.get(key) ?? { policy: culprit, pods: [] };
      g.pods.push(pod);
      groups.set(key, g);
    }

    const dnsSelector = { ...(dnsSvc?.spec?.selector ?? { 'k8s-app': 'kube-dns' }) };
    const udp = udpPort;
    const tcp = dnsFlowPort(dnsPods[0]!, 'TCP', svcPort('TCP'));
    const findings: FindingDraft[] = [];
    for (const { policy, pods } of groups.values()) {
      const ns = policy.metadata?.namespace ?? '';
      const ref = refOf('NetworkPolicy', policy);
      const workloads = [...new Map(pods.map((p) => owningWorkload(ctx.view, p)).map((w) => [refKey(w), w])).values()];
      const who = workloads.map((w) => `${w.kind.toLowerCase()}/${w.name}`).join(', ');
      const others = ctx.view.list('NetworkPolicy', ns).filter((p) => p !== policy && isolates(p).egress && pods.some((pod) => selectsPod(p, pod)));
      const name = allowDnsName(policy.metadata?.name ?? '');
      // A rule meant for DNS whose peers match no kube-dns pod: the usual cause is a namespace label kube-system lacks.
      const misaimed = dnsRules([policy, ...others], udp).map(({ policy: p }) => `networkpolicy/${p.metadata?.name} has a rule for port ${udp.port}/UDP, but its peers match no kube-dns pod`);
      // Same podSelector as the culprit: exactly the pods it already isolates get DNS back, no pod becomes newly isolated.
      const body = {
        apiVersion: NP_API,
        kind: 'NetworkPolicy',
        metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'netdoctor' } },
        spec: {
          podSelector: policy.spec?.podSelector ?? {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': DNS_NAMESPACE } }, podSelector: { matchLabels: dnsSelector } }],
              ports: [
                { protocol: 'UDP', port: udp.port },
                { protocol: 'TCP', port: tcp.port },
              ],
            },
          ],
        },
      };
      const explains: ObjectRef[] = [...workloads, ...pods.map((p) => refOf('Pod', p))];
      findings.push({
        code: 'DNS-EGRESS-BLOCKED',
        severity: 'critical',
        title: `NetworkPolicy ${policy.metadata?.name} blocks DNS for ${who}`,
        summary:
          `NetworkPolicy ${ns}/${policy.metadata?.name} isolates the egress of ${who} and allows some destinations, but not DNS: ` +
          `no egress rule admits ${udp.port}/UDP to the kube-dns pods (${DNS_NAMESPACE}, ${formatSelector(dnsSelector)}). ` +
          (misaimed.length > 0 ? `${misaimed[0]} (kube-system's labels: ${Object.entries(namespaceLabels(ctx.view, DNS_NAMESPACE)).map(([k, v]) => `${k}=${v}`).join(', ')}). ` : '') +
          `Every name lookup from these ${pods.length} pod(s) times out, so clients that connect by Service name fail while connections by IP work.`,
        subject: ref,
        evidence: [
          objectEvidence(ref, describePolicy(policy), kubectl.describe(ref)),
          ...others.map((p) => objectEvidence(refOf('NetworkPolicy', p), describePolicy(p), kubectl.describe(refOf('NetworkPolicy', p)))),
          objectEvidence(refOf('Pod', dnsPods[0]!), `cluster DNS pods: ${dnsPods.map((p) => `${p.metadata?.name} (${p.status?.podIP ?? 'no IP'})`).join(', ')}, port ${udp.port}/UDP`),
          { type: 'command', text: `resolve a Service name from ${pods[0]!.metadata?.name}: times out`, command: `kubectl -n ${ns} exec ${pods[0]!.metadata?.name} -- nslookup kubernetes.default` },
        ],
        rootCause: true,
        explains,
        advice: ['Do not edit or delete the existing policy: NetworkPolicies are additive, so a second policy that only allows DNS fixes this without widening anything else.'],
        plan: makePlan({
          summary: `Create networkpolicy/${name} in ${ns} allowing DNS (${udp.port}/UDP, ${tcp.port}/TCP) to the kube-dns pods for the pods ${policy.metadata?.name} isolates`,
          risk: 'low',
          effect: 'adds one allow rule next to the existing policies (nothing is edited or deleted); name lookups work as soon as the CNI programs it',
          operations: [{ action: 'create', target: { apiVersion: NP_API, kind: 'NetworkPolicy', namespace: ns, name }, body }],
          verify: { check: ID, subject: ref, waitFor: 'none' },
        }),
      });
    }
    const unenforced = policiesNotEnforced(ctx.view);
    return unenforced ? findings.map((f) => notEnforced(f, unenforced)) : findings;
  },
};
