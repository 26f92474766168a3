import type { ClusterView } from '../../domain/cluster-view';
import type { KubeNode, Pod } from '../../domain/kube-types';
import { refOf } from '../../domain/object-ref';
import { podState } from './pods';

type Taint = NonNullable<NonNullable<KubeNode['spec']>['taints']>[number];

/** Whether the pod's tolerations admit the taint (the scheduler's TolerationsTolerateTaint). */
export function tolerates(pod: Pod, taint: Taint): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** The scheduler's newest word on an unscheduled pod: its FailedScheduling event, else the PodScheduled=False condition (events expire). */
export function unschedulableMessage(view: ClusterView, pod: Pod): string | undefined {
  const event = [...view.events(refOf('Pod', pod))].reverse().find((e) => e.reason === 'FailedScheduling');
  if (event?.message) return event.message;
  const cond = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return cond?.reason === 'Unschedulable' ? cond.message : undefined;
}

/**
 * Unscheduled pods the taint keeps off the node: the scheduler rejected nodes for an untolerated taint, and the
 * pod does not tolerate this one. Up to 1.32 the message names the taint (`had untolerated taint {key: value}`);
 * since then it says only `had untolerated taint(s)` (pkg/scheduler/framework/plugins/tainttoleration), so the
 * node's taints and the pod's tolerations decide.
 */
export function podsKeptOffByTaint(view: ClusterView, node: KubeNode, taintKey: string): { pod: Pod; message: string }[] {
  const taint = (node.spec?.taints ?? []).find((t) => t.key === taintKey && (t.effect === 'NoSchedule' || t.effect === 'NoExecute'));
  if (!taint) return [];
  const out: { pod: Pod; message: string }[] = [];
  for (const pod of view.list('Pod')) {
    if (podState(pod) !== 'pending' || tolerates(pod, taint)) continue;
    const message = unschedulableMessage(view, pod);
    if (!message || !/untolerated taint|taints? that the pod didn't tolerate/.test(message)) continue;
    const named = [...message.matchAll(/untolerated taint \{([^:}]+):/g)].map((m) => m[1]);
    if (named.length > 0 && !named.includes(taintKey)) continue;
    out.push({ pod, message });
  }
  return out;
}

/** One reason of a FailedScheduling message with the number of nodes that gave it. */
export interface SchedulingReason {
  nodes: number;
  text: string;
}

export interface SchedulingFailure {
  reasons: SchedulingReason[];
  /** `Insufficient cpu` → `cpu`: resources no node has enough of (a capacity problem, not a network one). */
  insufficient: string[];
  /** Taints (key, value) that some node had and the pod does not tolerate. */
  taints: { key: string; value: string }[];
}

/**
 * Parses the scheduler's FitError message, e.g. `0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
 * had untolerated taint {node.kubernetes.io/network-unavailable: }. preemption: 0/3 nodes are available: …`
 * (kube-scheduler pkg/scheduler/framework/types.go FitError.Error: "0/%v nodes are available: %v." with
 * "%v %v" count/reason pairs joined by ", ", then the PostFilter (preemption) message;
 * plugins/noderesources/fit.go "Insufficient %v"; plugins/tainttoleration "node(s) had untolerated taint {%s: %s}").
 */
export function parseSchedulingFailure(message: string | undefined): SchedulingFailure {
  // The pairs end at FitError's full stop: v1.36 puts " no new claims to deallocate," (DRA) between it and "preemption:".
  const filter = /nodes are available:\s*(.*?)(?:\.\s|\.?\s*$)/s.exec(message ?? '')?.[1] ?? '';
  const reasons = filter
    .split(/,\s+(?=\d+ )/)
    .map((part) => /^(\d+) (.+)$/s.exec(part.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ nodes: Number(m[1]), text: m[2]!.trim() }));
  const insufficient = reasons.map((r) => /^Insufficient (\S+)$/.exec(r.text)?.[1]).filter((r): r is string => r !== undefined);
  const taints = reasons
    .map((r) => /^node\(s\) had untolerated taint \{(.+?): ?(.*)\}$/.exec(r.text))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ key: m[1]!, value: m[2]! }));
  return { reasons, insufficient, taints };
}

/** Nodes that carry a scheduling taint (NoSchedule or NoExecute, the ones the scheduler filters on) with this key and value. */
export function nodesWithTaint(view: ClusterView, taint: { key: string; value: string }): KubeNode[] {
  return view
    .list('Node')
    .filter((n) => (n.spec?.taints ?? []).some((t) => t.key === taint.key && (t.value ?? '') === taint.value && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')));
}
