import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import { type ObjectRef, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { pointer, testAndReplace } from './support/json-patch';
import {
  type ApiServerAddress,
  type KubeconfigFault,
  SERVICE_ACCOUNT_DIR,
  apiServerAddress,
  crashEvidence,
  crashingPods,
  kubeProxyDaemonSets,
  kubeadmProxyKubeconfig,
  kubeconfigFault,
  restartOperation,
  withConfigValue,
} from './support/kube-proxy';
import { podsOf, CONTAINER_STATUS_READS } from './support/pods';

const ID = 'kube-proxy-kubeconfig';

/** The config text with only the kubeconfig value changed (the line edited in place when it can be found unambiguously). */
export function withKubeconfig(text: string, oldPath: string, newPath: string): string {
  return withConfigValue(text, ['clientConnection', 'kubeconfig'], oldPath, newPath);
}

/** Repoint clientConnection.kubeconfig at the one kubeconfig file the ConfigMap does provide. */
function repointPlan(fault: KubeconfigFault): Plan | null {
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
      restartOperation(fault.kp, cm),
    ],
    verify: { check: ID, subject: fault.kp.ref, waitFor: 'rollout' },
  });
}

/**
 * The ConfigMap has no kubeconfig at all: restore the key kubeadm writes (its KubeProxyConfigMap19 template),
 * when the API server address it needs is known. Only for a plain mount, where the file name is the key.
 */
function restorePlan(fault: KubeconfigFault, server: ApiServerAddress | undefined): Plan | null {
  const mount = fault.kubeconfigMount;
  if (fault.candidates.length > 0 || !server) return null;
  const projected = mount.configMap.metadata?.name === fault.configMount.configMap.metadata?.name ? fault.configMount : undefined;
  // With `items:` the file name need not be the key; the ConfigMap would need an item too: not exact.
  const volume = fault.kp.spec.volumes?.find((v) => v.name === mount.volumeName);
  if (volume?.configMap?.items?.length) return null;
  const cm = mount.configMap;
  const cmRef = { ...refOf('ConfigMap', cm), apiVersion: 'v1' };
  const guard = projected ? [{ op: 'test' as const, path: pointer('data', fault.configKey), value: fault.configText }] : [];
  return makePlan({
    summary: `Restore key ${mount.relative} in ConfigMap ${cmRef.name} with kubeadm's kube-proxy kubeconfig (server ${server.url}), then restart kube-proxy`,
    risk: 'medium',
    effect:
      `ConfigMap ${cmRef.name} gets the kubeconfig kubeadm writes: the API server at ${server.url} (${server.source}), ` +
      `authenticated with the pod's service-account token and CA (${SERVICE_ACCOUNT_DIR}); then the DaemonSet rolls its pods one node at a time.`,
    operations: [
      {
        action: 'patch',
        target: cmRef,
        patchType: 'json',
        patch: [...guard, { op: 'add', path: pointer('data', mount.relative), value: kubeadmProxyKubeconfig(server.url) }],
        resourceVersion: cm.metadata?.resourceVersion,
      },
      restartOperation(fault.kp, cm),
    ],
    verify: { check: ID, subject: fault.kp.ref, waitFor: 'rollout' },
  });
}

/** KP-02: kube-proxy's config file names a kubeconfig under the mounted ConfigMap that the ConfigMap does not provide. */
export const kubeProxyKubeconfig: Check = {
  id: ID,
  title: "kube-proxy config's clientConnection.kubeconfig points at a file its ConfigMap does not provide",
  codes: ['KP-KUBECONFIG-PATH', 'KP-KUBECONFIG-MISSING'],
  needs: ['DaemonSet', 'ConfigMap', 'Pod', 'Event', 'ReplicaSet'],
  infraOnly: true,
  reads: {
    ConfigMap: ['binaryData', 'data', 'metadata.resourceVersion'],
    DaemonSet: ['metadata.resourceVersion', 'spec.template.spec.containers.args', 'spec.template.spec.containers.command', 'spec.template.spec.containers.name', 'spec.template.spec.containers.volumeMounts', 'spec.template.spec.volumes'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.ownerReferences', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  alsoReads: [{ kind: 'ConfigMap', namespace: 'kube-public' }],
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const kp of kubeProxyDaemonSets(ctx.view)) {
      const fault = kubeconfigFault(ctx.view, kp);
      if (!fault) continue;
      const ns = kp.ds.metadata?.namespace;
      const crashing = crashingPods(ctx.view, kp, ctx.now);
      const pods = podsOf(ctx.view, kp.ref);
      const cmRef = refOf('ConfigMap', fault.configMount.configMap);
      const keys = [...fault.kubeconfigMount.files.keys()];
      const server = fault.candidates.length === 0 ? apiServerAddress(ctx.view) : undefined;
      const plan = repointPlan(fault) ?? restorePlan(fault, server);
      const explains: ObjectRef[] = [kp.ref, ...crashing.map((p) => refOf('Pod', p))];
      findings.push({
        severity: 'critical',
        // The ConfigMap has no kubeconfig at all (restore it) vs. the path names the wrong one (repoint it).
        code: fault.candidates.length === 0 ? 'KP-KUBECONFIG-MISSING' : 'KP-KUBECONFIG-PATH',
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
          ...(server && plan ? [objectEvidence(server.ref, `API server address for the restored kubeconfig: ${server.url} (${server.source})`, server.command)] : []),
        ],
        rootCause: true,
        explains,
        advice: plan
          ? [`kube-proxy does not reload its config: the plan restarts the DaemonSet. Watch it: kubectl -n ${ns} rollout status daemonset/${kp.ref.name}`]
          : fault.candidates.length === 0
          ? [
              `Add key ${fault.kubeconfigMount.relative} to ConfigMap ${fault.kubeconfigMount.configMapName} with kubeadm's kube-proxy kubeconfig (token and CA from ${SERVICE_ACCOUNT_DIR}); ` +
                `its server must be the API server's real address (kubectl -n kube-public get configmap cluster-info -o jsonpath='{.data.kubeconfig}'), not the kubernetes Service ClusterIP, which kube-proxy itself programs. ` +
                `On a kubeadm cluster: kubeadm init phase addon kube-proxy --config <your kubeadm config> rewrites the ConfigMap.`,
              `Then restart kube-proxy: kubectl -n ${ns} rollout restart daemonset/${kp.ref.name}`,
            ]
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
