import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import { refOf } from '../domain/object-ref';
import { configPathFault, crashEvidence, crashLogEvidence, crashingPods, kubeProxyDaemonSets, kubeconfigFault, podListCommand } from './support/kube-proxy';
import { configValuesFault } from './kube-proxy-config-values';
import { podsOf, CONTAINER_STATUS_READS } from './support/pods';

/** Known kube-proxy start failures → what to look at. */
const HINTS: { pattern: RegExp; advice: string }[] = [
  { pattern: /failed complete:|failed validate:|strict decoding error/, advice: 'kube-proxy rejects its configuration: compare the ConfigMap (kubectl -n kube-system get configmap kube-proxy -o yaml) with the DaemonSet command line.' },
  { pattern: /Failed to retrieve node IP|invalid nodeIP/, advice: 'kube-proxy started before the node had addresses: once node.status.addresses is set, delete the kube-proxy pod on that node.' },
  { pattern: /ipvs|IPVS/, advice: 'IPVS mode needs the ip_vs kernel modules on the node (modprobe ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh), or set mode: iptables in the ConfigMap.' },
  { pattern: /iptables|xtables|nftables/, advice: 'kube-proxy cannot program the packet filter: check the node kernel modules and that /run/xtables.lock is mounted.' },
  { pattern: /Unauthorized|forbidden|x509|certificate/i, advice: "kube-proxy cannot authenticate to the API server: check its ServiceAccount token and the kubeconfig in the ConfigMap." },
];

/** The `err="…"` of a klog line, or the line itself. */
function errorText(line: string): string {
  return /err="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line.replace(/^[EFIW]\d{4} [\d:.]+\s+\d+ \S+\] /, '');
}

/**
 * kube-proxy pods crash-looping for a reason the config checks do not explain (those fire instead, so this one
 * stays silent when kube-proxy-config-path, kube-proxy-kubeconfig or kube-proxy-config-values finds the DaemonSet at fault).
 */
export const kubeProxyCrashing: Check = {
  id: 'kube-proxy-crashing',
  title: 'kube-proxy pods are crashing',
  codes: ['KP-CRASHING'],
  needs: ['DaemonSet', 'ConfigMap', 'Pod', 'Event', 'ReplicaSet'],
  infraOnly: true,
  reads: {
    ConfigMap: ['binaryData', 'data'],
    DaemonSet: ['spec.selector', 'spec.template.spec.containers.args', 'spec.template.spec.containers.command', 'spec.template.spec.containers.name', 'spec.template.spec.containers.volumeMounts', 'spec.template.spec.nodeSelector', 'spec.template.spec.volumes'],
    Pod: ['metadata.ownerReferences', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const kp of kubeProxyDaemonSets(ctx.view)) {
      if (configPathFault(ctx.view, kp) || kubeconfigFault(ctx.view, kp) || configValuesFault(ctx, kp)) continue;
      const crashing = crashingPods(ctx.view, kp, ctx.now);
      if (crashing.length === 0) continue;
      const total = podsOf(ctx.view, kp.ref).length;
      const first = crashing.map((p) => crashLogEvidence(ctx.view, p, kp.container.name)).find((l) => l !== undefined);
      const line = first?.lines[first.lines.length - 1];
      const error = line ? errorText(line) : undefined;
      const hint = line ? HINTS.find((h) => h.pattern.test(line)) : undefined;
      const nodes = crashing.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n));
      findings.push({
        severity: 'critical',
        code: 'KP-CRASHING',
        title: error ? `kube-proxy is crashing: ${error.length > 100 ? `${error.slice(0, 97)}...` : error}` : 'kube-proxy is crashing',
        summary:
          `${crashing.length} of ${total} kube-proxy pods of DaemonSet ${kp.ref.namespace}/${kp.ref.name} keep restarting` +
          (nodes.length > 0 ? ` (on ${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? ', …' : ''})` : '') +
          `${error ? `: ${error}` : ''}. Service ClusterIPs and NodePorts are not routed on those nodes.`,
        subject: kp.ref,
        evidence: crashEvidence(ctx.view, kp, crashing),
        rootCause: true,
        explains: [kp.ref, ...crashing.map((p) => refOf('Pod', p))],
        advice: [
          ...(hint ? [hint.advice] : []),
          ...(first ? [] : [`No log was captured; read the crashed instance: kubectl logs -n ${kp.ref.namespace} ${crashing[0]!.metadata?.name} -c ${kp.container.name} --previous`]),
          `See all kube-proxy pods: ${podListCommand(kp)}`,
        ],
        plan: null,
      });
    }
    return findings;
  },
};
