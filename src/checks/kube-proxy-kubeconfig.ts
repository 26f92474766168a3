import { parseDocument } from 'yaml';
import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import { type ObjectRef, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { pointer, testAndReplace } from './support/json-patch';
import { type KubeconfigFault, crashEvidence, crashingPods, kubeProxyDaemonSets, kubeconfigFault } from './support/kube-proxy';
import { podsOf } from './support/pods';

const ID = 'kube-proxy-kubeconfig';

/** The config text with only the kubeconfig value changed (the line edited in place when it can be found unambiguously). */
export function withKubeconfig(text: string, oldPath: string, newPath: string): string {
  const escaped = oldPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^(\\s*kubeconfig:\\s*)(["']?)${escaped}\\2(\\s*(#.*)?)$`, 'gm');
  const matches = text.match(line);
  if (matches?.length === 1) return text.replace(line, (_m, head: string, quote: string, tail: string) => `${head}${quote}${newPath}${quote}${tail}`);
  const doc = parseDocument(text);
  doc.setIn(['clientConnection', 'kubeconfig'], newPath);
  return doc.toString();
}

function planFor(fault: KubeconfigFault): Plan | null {
  if (fault.candidates.length !== 1) return null;
  const newPath = fault.candidates[0]!;
  const cm = fault.configMount.configMap;
  const cmRef = { ...refOf('ConfigMap', cm), apiVersion: 'v1' };
  const newText = withKubeconfig(fault.configText, fault.kubeconfigPath, newPath);
  return makePlan({
    summary: `Set clientConnection.kubeconfig in ${cmRef.name}/${fault.configKey} to ${newPath}, then restart kube-proxy`,
    risk: 'medium',
    effect: 'the ConfigMap changes, then the DaemonSet rolls its pods one node at a time (kube-proxy reads its config only at start)',
    operations: [
      {
        action: 'patch',
        target: cmRef,
        patchType: 'json',
        patch: testAndReplace(pointer('data', fault.configKey), fault.configText, newText),
        resourceVersion: cm.metadata?.resourceVersion,
      },
      {
        // What `kubectl rollout restart` does, with a value derived from the ConfigMap version so the plan id is stable.
        action: 'patch',
        target: fault.kp.ref,
        patchType: 'merge',
        patch: { spec: { template: { metadata: { annotations: { 'netdoctor.io/restarted-for': `configmap-${cmRef.name}-${cm.metadata?.resourceVersion ?? 'unknown'}` } } } } },
        resourceVersion: fault.kp.ds.metadata?.resourceVersion,
      },
    ],
    verify: { check: ID, subject: fault.kp.ref, waitFor: 'rollout' },
  });
}

/** KP-02: kube-proxy's config file names a kubeconfig under the mounted ConfigMap that the ConfigMap does not provide. */
export const kubeProxyKubeconfig: Check = {
  id: ID,
  title: "kube-proxy config's clientConnection.kubeconfig points at a file its ConfigMap does not provide",
  needs: ['DaemonSet', 'ConfigMap', 'Pod', 'Event'],
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const kp of kubeProxyDaemonSets(ctx.view)) {
      const fault = kubeconfigFault(ctx.view, kp);
      if (!fault) continue;
      const ns = kp.ds.metadata?.namespace;
      const crashing = crashingPods(ctx.view, kp);
      const pods = podsOf(ctx.view, kp.ref);
      const cmRef = refOf('ConfigMap', fault.configMount.configMap);
      const keys = [...fault.kubeconfigMount.files.keys()];
      const plan = planFor(fault);
      const explains: ObjectRef[] = [kp.ref, ...crashing.map((p) => refOf('Pod', p))];
      findings.push({
        severity: 'critical',
        title: `kube-proxy kubeconfig points at missing ${fault.kubeconfigMount.relative}`,
        summary:
          `${fault.configFile} in ConfigMap ${cmRef.name} sets clientConnection.kubeconfig: ${fault.kubeconfigPath}, but the ConfigMap mounted at ` +
          `${fault.kubeconfigMount.mountPath} only provides ${keys.join(', ') || 'nothing'}. kube-proxy cannot reach the API server ` +
          `(${crashing.length} of ${pods.length} pods crashing), so Service rules are not programmed on those nodes.`,
        subject: kp.ref,
        evidence: [
          objectEvidence(cmRef, `${fault.configKey}: clientConnection.kubeconfig: ${fault.kubeconfigPath}`),
          objectEvidence(
            refOf('ConfigMap', fault.kubeconfigMount.configMap),
            `configmap/${fault.kubeconfigMount.configMapName} (mounted at ${fault.kubeconfigMount.mountPath}) provides: ${keys.join(', ') || '(nothing)'}`,
          ),
          ...crashEvidence(ctx.view, kp, crashing, fault.kubeconfigPath),
        ],
        rootCause: true,
        explains,
        advice: plan
          ? [`kube-proxy does not reload its config: the plan restarts the DaemonSet. Watch it: kubectl -n ${ns} rollout status daemonset/${kp.ref.name}`]
          : [
              `Point clientConnection.kubeconfig at the ConfigMap's kubeconfig file${fault.candidates.length > 1 ? ` (one of ${fault.candidates.join(', ')})` : ''}, or add that key: kubectl -n ${cmRef.namespace} edit configmap ${cmRef.name}`,
              `Then restart kube-proxy: kubectl -n ${ns} rollout restart daemonset/${kp.ref.name}`,
            ],
        plan,
      });
    }
    return findings;
  },
};
