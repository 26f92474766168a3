import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { DNS_NAMESPACE, coreDnsAllLogLines, coreDnsExplains, coreDnsPods, coreDnsRef, distinctLines } from './support/dns';
import { eventEvidence, logEvidence, warningEvents } from './support/evidence';
import { podStateText } from './support/pod-evidence';
import { CONTAINER_STATUS_READS, isReady } from './support/pods';

const ID = 'coredns-rbac';

/**
 * client-go's reflector, as CoreDNS's kubernetes plugin logs it when its ServiceAccount may not list what it watches.
 * CoreDNS 1.9 (network-faults.md DNS-07): `… reflector.go:167: Failed to watch *v1.EndpointSlice: failed to list
 * *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:kube-system:coredns"
 * cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope`; CoreDNS 1.15 on the
 * real node: `[ERROR] plugin/kubernetes: Failed to watch: failed to list *v1.EndpointSlice: … at the cluster scope
 * logger="UnhandledError" reflector=…`.
 */
const FORBIDDEN = /is forbidden: User "system:serviceaccount:([^:"]+):([^"]+)" cannot (\w+) resource "([^"]+)" in API group "([^"]*)"/;

interface Denied {
  resource: string;
  group: string;
}

const resourceName = (d: Denied): string => (d.group ? `${d.resource}.${d.group}` : d.resource);

/** kubeadm names both the ClusterRole and its binding after the role: system:coredns for ServiceAccount kube-system/coredns. */
function roleOf(namespace: string, account: string): ObjectRef {
  const name = namespace === 'kube-system' && account === 'coredns' ? 'system:coredns' : account;
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name };
}

/** DNS-07: CoreDNS's ServiceAccount may not list/watch what the kubernetes plugin watches, so it never syncs and never turns Ready. */
export const corednsRbac: Check = {
  id: ID,
  title: 'CoreDNS may not list/watch Services, EndpointSlices or Namespaces (RBAC): never Ready, kube-dns without endpoints',
  codes: ['DNS-RBAC-FORBIDDEN'],
  needs: ['Pod', 'Deployment', 'ReplicaSet', 'Service', 'Event'],
  infraOnly: true,
  reads: {
    Deployment: ['spec.template.metadata.labels'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.creationTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['metadata.labels'],
  },
  run(ctx) {
    const { view } = ctx;
    const pods = coreDnsPods(view);
    // Every forbidden line of every unready pod: each names one resource the plugin may not list.
    const lines = coreDnsAllLogLines(view, pods.filter((p) => !isReady(p)), FORBIDDEN);
    if (lines.length === 0) return [];
    const first = lines[0]!.match;
    const [account, namespace] = [first[2]!, first[1]!];
    const denied = new Map<string, Denied>(lines.map(({ match: m }) => [`${m[5]}/${m[4]}`, { resource: m[4]!, group: m[5]! }]));
    // One line per pod for the evidence and the counts (a Ready CoreDNS has synced: an old line in its log is history).
    const failing = lines.filter((h, i) => lines.findIndex((o) => o.pod === h.pod) === i);
    const list = [...denied.values()];
    const role = roleOf(namespace, account);
    const deployment = coreDnsRef(view, pods);
    const ready = pods.filter(isReady);
    const down = ready.length === 0;
    const user = `system:serviceaccount:${namespace}:${account}`;
    const byGroup = new Map<string, string[]>();
    for (const d of list) byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d.resource]);
    const rules = [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ['list', 'watch'] }));
    const patch = rules.map((value) => ({ op: 'add', path: '/rules/-', value }));
    const unhealthy = failing.flatMap((h) => warningEvents(view, refOf('Pod', h.pod), ['Unhealthy']).slice(0, 1).map((e) => eventEvidence(e, refOf('Pod', h.pod)))).slice(0, 1);
    const evidence: Evidence[] = [
      ...distinctLines(failing).map((h) => logEvidence(DNS_NAMESPACE, h.pod.metadata?.name ?? '', h.container, h.previous, [h.line])),
      {
        type: 'object',
        text: `ServiceAccount ${namespace}/${account} may not list/watch ${list.map(resourceName).join(', ')} (the kubernetes plugin watches services, endpointslices.discovery.k8s.io and namespaces, plus pods with \`pods verified\`)`,
        command: list.map((d) => `kubectl auth can-i list ${resourceName(d)} --as=${user}`).join('; '),
      },
      ...failing.slice(0, 2).map((h): Evidence => ({ type: 'object', text: podStateText(h.pod, ctx.now), command: kubectl.describe(refOf('Pod', h.pod)) })),
      ...unhealthy,
    ];
    const finding: FindingDraft = {
      code: 'DNS-RBAC-FORBIDDEN',
      severity: down ? 'critical' : 'warning',
      title: `CoreDNS is forbidden to list ${list.map(resourceName).join(', ')} (RBAC of ${user})`,
      summary:
        `The API server refuses CoreDNS's ServiceAccount ${namespace}/${account} the list/watch of ${list.map(resourceName).join(', ')}, so the kubernetes plugin never syncs: ` +
        `${failing.length} of ${pods.length} CoreDNS pods stay unready (readiness 503) and answer cluster names with SERVFAIL${down ? '; kube-dns has no ready endpoint, so cluster DNS is down' : ''}. ` +
        `ClusterRole ${role.name} (or its binding to the ServiceAccount) lacks the rule.`,
      subject: role,
      evidence,
      rootCause: true,
      explains: coreDnsExplains(view, pods, role, deployment),
      advice: [
        `Add the missing rule${rules.length > 1 ? 's' : ''} to ClusterRole ${role.name}: kubectl patch clusterrole ${role.name} --type json -p '${JSON.stringify(patch)}'`,
        `Check that ClusterRoleBinding ${role.name} binds that role to ServiceAccount ${namespace}/${account}: kubectl get clusterrolebinding ${role.name} -o yaml (kubeadm's rules: services, endpoints, pods, namespaces in "" and endpointslices in discovery.k8s.io, verbs list and watch).`,
        `Verify: ${list.map((d) => `kubectl auth can-i watch ${resourceName(d)} --as=${user}`).join('; ')} says yes, and the CoreDNS pods turn Ready within a minute (no restart needed).`,
      ],
    };
    return [finding];
  },
};
