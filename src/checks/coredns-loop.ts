import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import { kubectl, refOf } from '../domain/object-ref';
import { COREFILE_REF, DNS_NAMESPACE, coreDnsExplains, coreDnsCrashing, coreDnsDeployment, coreDnsLogLines, coreDnsPods, coreDnsRef, corefileForward, distinctLines, isLoopbackTarget, kubeletResolvConf } from './support/dns';
import { logEvidence } from './support/evidence';
import { podStateText } from './support/pod-evidence';
import { isReady, CONTAINER_STATUS_READS } from './support/pods';

/** Every wording the loop plugin has used (current `Loop (a -> b) detected`, 1.2.x `Seen … more than twice`, `Forwarding loop detected`). */
const LOOP_LINE = /plugin\/loop: (Loop \(.+ -> .+\) detected for zone|Seen ".+" more than twice, loop detected|Forwarding loop detected in)/;

export const corednsLoop: Check = {
  id: 'coredns-loop',
  title: 'CoreDNS crash-loops on a forwarding loop (loop plugin: forward . /etc/resolv.conf meets a node-local resolver)',
  codes: ['DNS-LOOP'],
  needs: ['Pod', 'Deployment', 'ReplicaSet', 'ConfigMap', 'Service', 'Event'],
  infraOnly: true,
  reads: {
    ConfigMap: ['data'],
    Deployment: ['spec.template.spec.dnsPolicy'],
    Pod: ['metadata.creationTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const { view } = ctx;
    const pods = coreDnsPods(view);
    if (pods.length === 0) return [];
    const looping = coreDnsLogLines(view, pods, LOOP_LINE).filter((l) => coreDnsCrashing(l.pod, ctx.now));
    const corefileCm = view.get('ConfigMap', DNS_NAMESPACE, 'coredns');
    const forward = corefileForward(corefileCm?.data?.Corefile);
    const loopbackTargets = (forward?.targets ?? []).filter(isLoopbackTarget);
    const crashers = pods.filter((p) => coreDnsCrashing(p, ctx.now));
    // Without logs, only a Corefile that forwards straight to loopback is evidence enough.
    if (looping.length === 0 && (loopbackTargets.length === 0 || crashers.length === 0)) return [];

    const subject = coreDnsRef(view, pods);
    const cmRef = COREFILE_REF;
    const deploy = coreDnsDeployment(view);
    const dnsPolicy = deploy?.spec?.template?.spec?.dnsPolicy;
    const resolv = kubeletResolvConf(view);
    const affected = looping.length > 0 ? looping.map((l) => l.pod) : crashers;
    const ready = pods.filter(isReady).length;

    const evidence: Evidence[] = [
      // One log per distinct line: every replica usually prints the same loop.
      ...distinctLines(looping).map((l) => logEvidence(DNS_NAMESPACE, l.pod.metadata?.name ?? '', l.container, l.previous, [l.line])),
      ...affected.slice(0, 2).map((p): Evidence => ({ type: 'object', text: podStateText(p, ctx.now), command: kubectl.describe(refOf('Pod', p)) })),
    ];
    if (forward) evidence.push({ type: 'object', text: `ConfigMap kube-system/coredns Corefile: \`${forward.line}\`${corefileCm?.data?.Corefile?.match(/^\s*loop\s*$/m) ? ' with the `loop` plugin enabled' : ''}`, command: kubectl.get(cmRef) });
    if (deploy) evidence.push({ type: 'object', text: `${subject.kind.toLowerCase()}/${subject.name} -n ${DNS_NAMESPACE}: dnsPolicy ${dnsPolicy ?? 'ClusterFirst'}${dnsPolicy === 'Default' ? ' (CoreDNS inherits the resolv.conf the kubelet gives it)' : ''}`, command: kubectl.get(subject) });
    if (resolv) evidence.push({ type: 'object', text: `ConfigMap kube-system/${resolv.configMap}: kubelet resolvConf: ${resolv.value}`, command: kubectl.get({ kind: 'ConfigMap', namespace: DNS_NAMESPACE, name: resolv.configMap }) });

    const upstream = forward?.targets.join(' ') ?? '/etc/resolv.conf';
    const advice: string[] = [];
    if (loopbackTargets.length > 0) {
      advice.push(
        `The Corefile forwards straight to ${loopbackTargets.join(', ')}, i.e. to CoreDNS itself: replace \`${forward!.line}\` with \`forward . <upstream DNS IPs>\` (your network's resolvers): kubectl -n kube-system edit configmap coredns`,
      );
    } else {
      const resolvedAlready = resolv?.value === '/run/systemd/resolve/resolv.conf';
      advice.push(
        resolvedAlready
          ? `kubelet-config already sets resolvConf: /run/systemd/resolve/resolv.conf: on each node check that the file the kubelet really uses (/var/lib/kubelet/config.yaml) lists no loopback nameserver (127.0.0.53, 127.0.0.1, ::1) and that the upstream resolver does not forward back into the cluster.`
          : `On every node, give the kubelet the real upstream resolvers instead of systemd-resolved's 127.0.0.53 stub: set \`resolvConf: /run/systemd/resolve/resolv.conf\` in /var/lib/kubelet/config.yaml, then \`sudo systemctl restart kubelet\`; also set it in ConfigMap kube-system/kubelet-config (kubectl -n kube-system edit configmap kubelet-config) so kubeadm keeps it on upgrades and new nodes.`,
        `Then restart CoreDNS so it reads the new resolv.conf: kubectl -n kube-system rollout restart deployment ${subject.name}`,
        `Quicker, CoreDNS-only alternative (other dnsPolicy: Default pods keep the bad resolv.conf): in the Corefile replace \`${forward?.line ?? `forward . ${upstream}`}\` with \`forward . <upstream DNS IPs>\` (e.g. from \`resolvectl status\` on a node): kubectl -n kube-system edit configmap coredns — netdoctor cannot see the node's resolvers, so it cannot fill them in.`,
      );
    }
    advice.push('Do not remove the `loop` plugin: without it the loop burns CPU and memory until CoreDNS is OOM-killed.');

    const explains = coreDnsExplains(view, pods, subject, cmRef);

    const loopText = looping[0]
      ? `CoreDNS exits with \`${looping[0].line.replace(/^.*?(\[FATAL\] )?plugin\/loop/, '$1plugin/loop').replace(/,? see https:\S+.*$/i, '').replace(/\. Query: .*$/, '')}\``
      : `CoreDNS crash-loops and its Corefile forwards to ${loopbackTargets.join(', ')}`;
    const finding: FindingDraft = {
      severity: ready === 0 ? 'critical' : 'warning',
      code: 'DNS-LOOP',
      title: 'CoreDNS forwarding loop: the loop plugin stops CoreDNS',
      summary:
        `${loopText}: ${loopbackTargets.length > 0 ? 'it forwards queries to itself' : `it forwards to ${upstream}, and the node's resolv.conf points back at a local resolver (typically systemd-resolved's 127.0.0.53), so queries come back to CoreDNS`}. ` +
        `${affected.length} of ${pods.length} CoreDNS pods are crash-looping${ready === 0 ? ', so cluster DNS is down' : ''}.`,
      subject,
      evidence,
      rootCause: true,
      explains,
      advice,
    };
    return [finding];
  },
};
