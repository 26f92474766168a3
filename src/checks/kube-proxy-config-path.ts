import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { type Operation, type Plan, makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { pointer, testAndReplace } from './support/json-patch';
import { type ConfigPathFault, commandLine, configPathFault, crashEvidence, crashingPods, kubeProxyDaemonSets } from './support/kube-proxy';
import { podsOf, CONTAINER_STATUS_READS } from './support/pods';

const ID = 'kube-proxy-config-path';

function planFor(view: Parameters<Check['run']>[0]['view'], fault: ConfigPathFault): Plan | null {
  if (fault.candidates.length !== 1) return null;
  const { kp, flag, mount } = fault;
  const newPath = `${mount.mountPath}/${fault.candidates[0]}`;
  const newToken = flag.token.replace(flag.path, newPath);
  const containerPath = pointer('spec', 'template', 'spec', 'containers', kp.containerIndex);
  const operations: Operation[] = [
    {
      action: 'patch',
      target: kp.ref,
      patchType: 'json',
      patch: [
        { op: 'test', path: `${containerPath}/name`, value: kp.container.name },
        ...testAndReplace(`${containerPath}${pointer(flag.field, flag.index)}`, flag.token, newToken),
      ],
      resourceVersion: kp.ds.metadata?.resourceVersion,
    },
  ];
  const onDelete = kp.ds.spec?.updateStrategy?.type === 'OnDelete';
  if (onDelete) {
    // OnDelete: a template change alone restarts nothing; the pods must be deleted to pick it up.
    for (const pod of podsOf(view, kp.ref)) {
      operations.push({ action: 'delete', target: { ...refOf('Pod', pod), apiVersion: 'v1' }, resourceVersion: pod.metadata?.resourceVersion });
    }
  }
  return makePlan({
    summary: `Point kube-proxy at the ConfigMap's ${fault.candidates[0]}: ${newToken}`,
    risk: 'medium',
    effect: onDelete
      ? 'the DaemonSet template changes and its pods are deleted so they restart with the fixed command (updateStrategy OnDelete)'
      : 'the DaemonSet rolls its pods one node at a time',
    operations,
    verify: { check: ID, subject: kp.ref, waitFor: 'rollout' },
  });
}

/** KP-01: the kube-proxy DaemonSet's `--config=` names a file the ConfigMap mounted at that directory does not provide. */
export const kubeProxyConfigPath: Check = {
  id: ID,
  title: 'kube-proxy --config points at a file its ConfigMap does not provide',
  codes: ['KP-CONFIG-PATH'],
  needs: ['DaemonSet', 'ConfigMap', 'Pod', 'Event', 'ReplicaSet'],
  infraOnly: true,
  reads: {
    ConfigMap: ['binaryData', 'data'],
    DaemonSet: ['metadata.resourceVersion', 'spec.template.spec.containers.args', 'spec.template.spec.containers.command', 'spec.template.spec.containers.name', 'spec.template.spec.containers.volumeMounts', 'spec.template.spec.volumes', 'spec.updateStrategy'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.ownerReferences', 'metadata.resourceVersion', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const kp of kubeProxyDaemonSets(ctx.view)) {
      const fault = configPathFault(ctx.view, kp);
      if (!fault) continue;
      const { flag, mount } = fault;
      const ns = kp.ds.metadata?.namespace;
      const pods = podsOf(ctx.view, kp.ref);
      const crashing = crashingPods(ctx.view, kp, ctx.now);
      const keys = [...mount.files.keys()];
      const cmRef = refOf('ConfigMap', mount.configMap);
      const plan = planFor(ctx.view, fault);
      const crashText =
        crashing.length > 0
          ? `kube-proxy exits at start (${crashing.length} of ${pods.length} pods crashing)`
          : 'kube-proxy will fail to start on every pod the DaemonSet (re)creates';
      const explains: ObjectRef[] = [kp.ref, ...crashing.map((p) => refOf('Pod', p))];
      findings.push({
        severity: 'critical',
        code: 'KP-CONFIG-PATH',
        title: `kube-proxy --config points at missing ${mount.relative}`,
        summary:
          `DaemonSet ${ns}/${kp.ref.name} starts kube-proxy with --config=${flag.path}, but ConfigMap ${mount.configMapName} mounted at ${mount.mountPath} ` +
          `only provides ${keys.join(', ') || 'no keys'}. ${crashText}, so Service ClusterIPs and NodePorts are not routed on those nodes.`,
        subject: kp.ref,
        evidence: [
          objectEvidence(kp.ref, `container ${kp.container.name} command: ${commandLine(kp.container)}`),
          objectEvidence(cmRef, `configmap/${mount.configMapName} (volume ${mount.volumeName} at ${mount.mountPath}) provides: ${keys.join(', ') || '(nothing)'}`),
          ...crashEvidence(ctx.view, kp, crashing, flag.path),
        ],
        rootCause: true,
        explains,
        advice: plan
          ? [
              `Fix the flag rather than adding a ${mount.relative} key to the ConfigMap: a copy of the config diverges on the next kubeadm upgrade.`,
              `Watch the rollout: kubectl -n ${ns} rollout status daemonset/${kp.ref.name}`,
            ]
          : [
              `Set --config to the ConfigMap key that holds the KubeProxyConfiguration${fault.candidates.length > 1 ? ` (one of ${fault.candidates.join(', ')})` : ''}: ${kubectl.describe(cmRef)}`,
              `Then edit the DaemonSet: kubectl -n ${ns} edit daemonset ${kp.ref.name}`,
            ],
        plan,
      });
    }
    return findings;
  },
};
