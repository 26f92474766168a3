import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import { kubectl, refOf } from '../domain/object-ref';
import { COREFILE_REF, DNS_NAMESPACE, coreDnsAllLogLines, coreDnsPods, corefileForward } from './support/dns';
import { logEvidence } from './support/evidence';
import { CONTAINER_STATUS_READS, isReady } from './support/pods';

/**
 * CoreDNS's errors plugin (plugin/errors/errors.go) logs each failed query as `[ERROR] plugin/errors: <rcode> <name>
 * <type>: <error>`; when the forward plugin cannot reach an upstream the error is Go's network error, e.g.
 * `[ERROR] plugin/errors: 2 example.com. A: read udp 10.244.0.3:45678->8.8.8.8:53: i/o timeout` (network-faults.md DNS-09).
 */
const UPSTREAM_ERROR = /\[ERROR\] plugin\/errors: \d+ (\S+) (\w+): (?:read|dial|write) (?:udp|tcp) (?:\S+->)?(\S+?):(\d+): (i\/o timeout|connect: network is unreachable|connect: connection refused|connect: no route to host)/;

/** Lines a resolver sees now and then on a healthy cluster; a handful in a row say the upstream is gone. */
const MIN_FAILURES = 3;

/** The loop plugin's start-up probe (`<random>.<random>. HINFO`) fails against a dead upstream too, but says nothing of lookups. */
const PROBE_TYPE = 'HINFO';

/**
 * DNS-09: CoreDNS is up and answers cluster names, but its upstream resolvers (forward . /etc/resolv.conf, or the IPs
 * in the Corefile) do not answer: every name outside the cluster fails with SERVFAIL after the timeout.
 */
export const corednsUpstream: Check = {
  id: 'coredns-upstream',
  title: 'CoreDNS cannot reach its upstream resolvers: external names fail (i/o timeout, unreachable)',
  codes: ['DNS-UPSTREAM-UNREACHABLE'],
  needs: ['Pod', 'ConfigMap', 'Deployment', 'ReplicaSet'],
  infraOnly: true,
  reads: {
    ConfigMap: ['data'],
    Deployment: ['spec.template.metadata.labels'],
    Pod: ['metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const failures = coreDnsAllLogLines(ctx.view, coreDnsPods(ctx.view).filter(isReady), UPSTREAM_ERROR, 'current')
      .filter((h) => h.match[2] !== PROBE_TYPE)
      .map((h) => ({ pod: h.pod.metadata?.name ?? '', container: h.container, name: h.match[1]!, upstream: `${h.match[3]}:${h.match[4]}`, error: h.match[5]!, line: h.line }));
    if (failures.length < MIN_FAILURES) return [];
    const upstreams = [...new Set(failures.map((f) => f.upstream))];
    const names = [...new Set(failures.map((f) => f.name))];
    const forward = corefileForward(ctx.view.get('ConfigMap', DNS_NAMESPACE, COREFILE_REF.name)?.data?.Corefile);
    const viaResolvConf = forward?.targets.includes('/etc/resolv.conf') ?? false;
    const shown = failures.filter((f, i) => failures.findIndex((o) => o.upstream === f.upstream) === i).slice(0, 3);
    const evidence: Evidence[] = [
      ...shown.map((f) => logEvidence(DNS_NAMESPACE, f.pod, f.container, false, [f.line])),
      { type: 'object', text: `${failures.length} failed lookups of ${names.length} name(s) (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}) to ${upstreams.join(', ')}`, command: `kubectl -n ${DNS_NAMESPACE} logs -l k8s-app=kube-dns | grep 'plugin/errors'` },
      ...(forward ? [{ type: 'object' as const, text: `ConfigMap ${DNS_NAMESPACE}/${COREFILE_REF.name} Corefile: \`${forward.line}\``, command: kubectl.get(COREFILE_REF) }] : []),
    ];
    const finding: FindingDraft = {
      code: 'DNS-UPSTREAM-UNREACHABLE',
      severity: 'warning',
      title: `CoreDNS cannot reach its upstream resolver${upstreams.length > 1 ? 's' : ''} ${upstreams.join(', ')}: names outside the cluster fail`,
      summary: [
        `CoreDNS is Ready and answers cluster names, but its forwards to ${upstreams.join(', ')} fail (${[...new Set(failures.map((f) => f.error))].join(', ')}):`,
        `${failures.length} lookups of names such as ${names.slice(0, 2).join(', ')} ended in SERVFAIL.`,
        viaResolvConf ? "The upstreams come from the nodes' /etc/resolv.conf (forward . /etc/resolv.conf)." : forward ? `The Corefile forwards to ${forward.targets.join(' ')}.` : '',
      ].join(' ').trim(),
      subject: COREFILE_REF,
      evidence,
      rootCause: true,
      explains: [COREFILE_REF, ...coreDnsPods(ctx.view).map((p) => refOf('Pod', p))],
      advice: [
        `From a node, test the upstream: \`dig @${upstreams[0]!.replace(/:53$/, '')} kubernetes.io\` (a timeout: a firewall, the node's egress or the resolver itself).`,
        viaResolvConf
          ? 'Fix the nodes\' resolver (/etc/resolv.conf, or the kubelet resolvConf file CoreDNS inherits), or forward to resolvers the pod network can reach: edit `forward . /etc/resolv.conf` in ConfigMap kube-system/coredns (kubectl -n kube-system edit configmap coredns; CoreDNS reloads it within a minute).'
          : 'Point `forward .` in ConfigMap kube-system/coredns at resolvers the pod network can reach (kubectl -n kube-system edit configmap coredns; CoreDNS reloads it within a minute).',
      ],
    };
    return [finding];
  },
};
