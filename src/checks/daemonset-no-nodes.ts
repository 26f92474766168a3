import type { Check, CheckContext } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { DaemonSet, KubeNode } from '../domain/kube-types';
import { kubectl, refOf } from '../domain/object-ref';
import { byIdentity } from './support/by-identity';
import { CNI_AGENTS } from './support/cni';
import { objectEvidence } from './support/evidence';
import { formatSelector, selectorMatches } from './support/selectors';

const ID = 'daemonset-no-nodes';

type PodSpec = NonNullable<NonNullable<DaemonSet['spec']>['template']['spec']>;
type Toleration = NonNullable<PodSpec['tolerations']>[number];
type Taint = NonNullable<NonNullable<KubeNode['spec']>['taints']>[number];
type Requirement = { key: string; operator: string; values?: string[] };

/**
 * Tolerations the DaemonSet controller adds to every daemon pod (pkg/controller/daemon/util/daemonset_util.go,
 * AddOrUpdateDaemonPodTolerations): not-ready and unreachable (NoExecute), disk/memory/pid pressure and unschedulable
 * (NoSchedule), and network-unavailable for hostNetwork pods.
 */
function implicitTolerations(spec: PodSpec | undefined): Toleration[] {
  const keys: [string, string][] = [
    ['node.kubernetes.io/not-ready', 'NoExecute'],
    ['node.kubernetes.io/unreachable', 'NoExecute'],
    ['node.kubernetes.io/disk-pressure', 'NoSchedule'],
    ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
    ['node.kubernetes.io/pid-pressure', 'NoSchedule'],
    ['node.kubernetes.io/unschedulable', 'NoSchedule'],
    ...(spec?.hostNetwork ? ([['node.kubernetes.io/network-unavailable', 'NoSchedule']] as [string, string][]) : []),
  ];
  return keys.map(([key, effect]) => ({ key, operator: 'Exists', effect }));
}

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

function requirementHolds(r: Requirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
      return value !== undefined && (r.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(r.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(r.values?.[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(r.values?.[0]);
    default:
      return false;
  }
}

/** `key=value:Effect, *:NoSchedule` as a DaemonSet's evidence line shows them. */
const tolerationsText = (spec: PodSpec | undefined): string =>
  (spec?.tolerations ?? []).map((t) => `${t.key ?? '*'}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}${t.effect ? `:${t.effect}` : ''}`).join(', ') || '(none)';

const describeRequirement = (r: Requirement): string => `${r.key} ${r.operator}${r.values?.length ? ` (${r.values.join(',')})` : ''}`;

/** Why the DaemonSet's pods may not run on this node (empty: they may). */
export function exclusionReasons(spec: PodSpec | undefined, node: KubeNode): string[] {
  const labels = node.metadata?.labels ?? {};
  const reasons: string[] = [];
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) {
    if (labels[k] !== v) reasons.push(`nodeSelector ${k}=${v} (node has ${k in labels ? `${k}=${labels[k]}` : `no ${k} label`})`);
  }
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length > 0) {
    const fields: Record<string, string | undefined> = { 'metadata.name': node.metadata?.name };
    const holds = terms.some(
      (t) => (t.matchExpressions ?? []).every((r) => requirementHolds(r, labels[r.key])) && (t.matchFields ?? []).every((r) => requirementHolds(r, fields[r.key])),
    );
    if (!holds) reasons.push(`required node affinity ${terms.map((t) => [...(t.matchExpressions ?? []), ...(t.matchFields ?? [])].map(describeRequirement).join(' AND ')).join(' OR ')} does not match`);
  }
  const tolerations = [...(spec?.tolerations ?? []), ...implicitTolerations(spec)];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!tolerations.some((t) => tolerates(t, taint))) reasons.push(`untolerated taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`);
  }
  return reasons;
}

/** kube-proxy and the CNI agents: without them no node has Service routing or pod networking. */
function isCritical(ds: DaemonSet): boolean {
  const name = ds.metadata?.name ?? '';
  const labels = ds.spec?.template?.metadata?.labels;
  if (name === 'kube-proxy' || labels?.['k8s-app'] === 'kube-proxy') return true;
  return CNI_AGENTS.some((a) => a.daemonSetNames.includes(name) || a.labels.some((l) => selectorMatches(l, labels)));
}

/** A node left out only for its OS (kube-proxy's kubernetes.io/os=linux on a Windows node) is meant to be. */
const OS_SELECTOR = /^nodeSelector (?:beta\.)?kubernetes\.io\/os=/;

/** Which nodes keep a DaemonSet off and why, per DaemonSet and node list (the same objects in every namespace's run of a digest). */
const exclusionsOf = byIdentity((ds: DaemonSet) =>
  byIdentity((nodes: readonly KubeNode[]) => nodes.map((n) => ({ node: n.metadata?.name ?? '', reasons: exclusionReasons(ds.spec?.template?.spec, n) }))),
);

/**
 * KP-04 and its CNI twin: kube-proxy or the CNI agent runs on some nodes, but taints it does not tolerate, a
 * nodeSelector or a required affinity keep it off others (a new tainted pool, a relabelled node). Pods there get no
 * Service routing (kube-proxy) or no network (CNI). Critical when the namespace has pods on those nodes.
 */
function someNodesLeftOut(ctx: CheckContext, ds: DaemonSet, excluded: { node: string; reasons: string[] }[]): FindingDraft | undefined {
  const left = excluded.filter((e) => e.reasons.length > 0 && !e.reasons.every((r) => OS_SELECTOR.test(r)));
  if (left.length === 0) return undefined;
  const ref = refOf('DaemonSet', ds);
  const kubeProxy = ds.metadata?.name === 'kube-proxy' || ds.spec?.template?.metadata?.labels?.['k8s-app'] === 'kube-proxy';
  const leftNames = new Set(left.map((e) => e.node));
  const affected = ctx.view.list('Pod', ctx.namespace).filter((p) => leftNames.has(p.spec?.nodeName ?? '') && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const taints = [...new Set(left.flatMap((e) => e.reasons.filter((r) => r.startsWith('untolerated taint ')).map((r) => r.slice('untolerated taint '.length))))];
  const what = kubeProxy ? 'kube-proxy' : 'the CNI agent';
  return {
    code: 'WL-DS-SOME-NODES',
    severity: affected.length > 0 ? 'critical' : 'warning',
    title: `DaemonSet ${ref.name} (${what}) does not run on ${left.length} of ${excluded.length} nodes: ${left.slice(0, 3).map((e) => e.node).join(', ')}${left.length > 3 ? ', …' : ''}`,
    summary:
      `DaemonSet ${ref.namespace}/${ref.name} schedules on ${ds.status?.desiredNumberScheduled ?? '?'} node(s); it is kept off ${left.map((e) => `${e.node} (${e.reasons.join('; ')})`).join(', ')}. ` +
      (kubeProxy ? 'Pods on those nodes reach no ClusterIP or NodePort (no Service rules there).' : 'New pods on those nodes get no network (sandbox creation fails).') +
      (affected.length > 0 ? ` ${affected.length} pod(s)${ctx.namespace ? ` of namespace ${ctx.namespace}` : ''} run there: ${affected.slice(0, 3).map((p) => p.metadata?.name).join(', ')}${affected.length > 3 ? ', …' : ''}.` : ''),
    subject: ref,
    evidence: [
      objectEvidence(ref, `daemonset/${ref.name}: desired ${ds.status?.desiredNumberScheduled ?? '?'} of ${excluded.length} nodes; tolerations ${tolerationsText(ds.spec?.template?.spec)}`),
      ...left.slice(0, 3).map((e) => objectEvidence({ apiVersion: 'v1', kind: 'Node', name: e.node }, `node/${e.node}: ${e.reasons.join('; ')}`, `kubectl get node ${e.node} --show-labels`)),
      ...affected.slice(0, 2).map((p) => objectEvidence(refOf('Pod', p), `pod/${p.metadata?.name} runs on ${p.spec?.nodeName}`, kubectl.get(refOf('Pod', p), 'wide'))),
    ],
    rootCause: true,
    explains: [ref],
    advice: [
      ...(taints.length > 0 ? [`Tolerate ${taints.join(', ')} in the pod template (kubeadm gives kube-proxy \`tolerations: [{operator: Exists}]\`): kubectl -n ${ref.namespace} edit daemonset ${ref.name}.`] : []),
      ...(left.some((e) => e.reasons.some((r) => r.startsWith('nodeSelector ') || r.startsWith('required node affinity'))) ? [`Widen the nodeSelector / required affinity to every Linux node, or label ${left.map((e) => e.node).join(', ')} to match.`] : []),
    ],
    plan: null,
  };
}

/**
 * WL-02: DaemonSets that want no pod at all (desiredNumberScheduled 0) while nodes exist: a nodeSelector or required
 * affinity no node matches, or taints the pod template does not tolerate. For kube-proxy and the CNI agent this takes
 * Service routing or pod networking off every node, so they come first (critical); other DaemonSets are warnings.
 */
export const daemonsetNoNodes: Check = {
  id: ID,
  title: 'DaemonSet schedules on no node (nodeSelector, affinity or taints exclude every node)',
  codes: ['WL-DS-NO-NODES', 'WL-DS-SOME-NODES'],
  needs: ['DaemonSet', 'Node', 'Pod'],
  reads: {
    DaemonSet: ['spec.template.metadata.labels', 'spec.template.spec.affinity', 'spec.template.spec.hostNetwork', 'spec.template.spec.nodeSelector', 'spec.template.spec.tolerations', 'status'],
    Node: ['metadata.labels', 'spec.taints'],
    Pod: ['spec.nodeName', 'status.phase'],
  },
  run(ctx) {
    const nodes = ctx.view.list('Node');
    if (nodes.length === 0) return [];
    const daemonSets = ctx.view.list('DaemonSet').filter((ds) => ctx.namespace === undefined || ds.metadata?.namespace === ctx.namespace || isCritical(ds));
    const findings: FindingDraft[] = [];
    for (const ds of daemonSets) {
      const desired = ds.status?.desiredNumberScheduled;
      const spec = ds.spec?.template?.spec;
      const excluded = exclusionsOf(ds)(nodes);
      if (desired !== undefined && desired > 0) {
        const partial = isCritical(ds) ? someNodesLeftOut(ctx, ds, excluded) : undefined;
        if (partial) findings.push(partial);
        continue;
      }
      if (excluded.some((e) => e.reasons.length === 0)) continue; // some node qualifies: the controller is just behind
      const ref = refOf('DaemonSet', ds);
      const critical = isCritical(ds);
      const role = ds.metadata?.name === 'kube-proxy' || ds.spec?.template?.metadata?.labels?.['k8s-app'] === 'kube-proxy' ? 'kube-proxy' : critical ? 'the CNI agent' : undefined;
      const perNode = excluded.slice(0, 5).map((e) => `${e.node}: ${e.reasons.join('; ')}`);
      const selectorKeys = Object.keys(spec?.nodeSelector ?? {}).filter((k) => excluded.every((e) => e.reasons.some((r) => r.startsWith(`nodeSelector ${k}=`))));
      const taints = [...new Set(excluded.flatMap((e) => e.reasons.filter((r) => r.startsWith('untolerated taint ')).map((r) => r.slice('untolerated taint '.length))))];
      findings.push({
        code: 'WL-DS-NO-NODES',
        severity: critical ? 'critical' : 'warning',
        title: `DaemonSet ${ref.name} runs on no node: ${nodes.length === 1 ? `node ${excluded[0]!.node} is` : `all ${nodes.length} nodes are`} excluded`,
        summary:
          `DaemonSet ${ref.namespace}/${ref.name} wants 0 pods (desiredNumberScheduled ${desired ?? 0}) although the cluster has ${nodes.length} node(s): ${perNode.join(' | ')}${excluded.length > 5 ? ` | … ${excluded.length - 5} more` : ''}.` +
          (role === 'kube-proxy'
            ? ' Without kube-proxy no node programs Service rules: ClusterIPs and NodePorts stop working everywhere (new and changed Services first).'
            : role
              ? ' Without the CNI agent new pods get no network on any node.'
              : ''),
        subject: ref,
        evidence: [
          objectEvidence(ref, `daemonset/${ref.name}: desired ${desired ?? '?'}, current ${ds.status?.currentNumberScheduled ?? '?'}, ready ${ds.status?.numberReady ?? '?'}; nodeSelector ${formatSelector(spec?.nodeSelector) || '(none)'}; tolerations ${tolerationsText(spec)}`),
          ...excluded.slice(0, 3).map((e) => objectEvidence({ apiVersion: 'v1', kind: 'Node', name: e.node }, `node/${e.node}: ${e.reasons.join('; ')}`, `kubectl get node ${e.node} --show-labels`)),
          { type: 'command', text: 'node taints', command: kubectl.list('nodes', undefined, ['-o', 'custom-columns=NAME:.metadata.name,TAINTS:.spec.taints']) },
        ],
        rootCause: true,
        explains: [ref],
        advice: [
          ...(selectorKeys.length > 0 ? [`No node carries ${selectorKeys.map((k) => `${k}=${spec!.nodeSelector![k]}`).join(', ')}: remove ${selectorKeys.length === 1 ? 'that key' : 'those keys'} from the DaemonSet's nodeSelector (kubectl -n ${ref.namespace} edit daemonset ${ref.name}), or label the nodes that should run it.`] : []),
          ...(taints.length > 0 ? [`Add tolerations for ${taints.join(', ')} to the pod template${critical ? ` (${role} must run on every node: kubeadm gives kube-proxy \`operator: Exists\`)` : ''}.`] : []),
          ...(excluded.some((e) => e.reasons.some((r) => r.startsWith('required node affinity'))) ? ['Fix the required node affinity so that it matches the nodes meant to run it.'] : []),
        ],
        plan: null,
      });
    }
    return findings;
  },
};
