import type { ClusterView } from '../../domain/cluster-view';
import type { Pod } from '../../domain/kube-types';
import { type ObjectRef, refOf } from '../../domain/object-ref';

export type PodState = 'running' | 'ready' | 'creating' | 'crashloop' | 'pending' | 'failed' | 'succeeded' | 'other';

/** A waiting reason of any container (init containers first), e.g. ContainerCreating or CrashLoopBackOff. */
export function waitingReasons(pod: Pod): string[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.map((s) => s.state?.waiting?.reason).filter((r): r is string => Boolean(r));
}

export function isReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function podState(pod: Pod): PodState {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return 'succeeded';
  if (phase === 'Failed') return 'failed';
  const waiting = waitingReasons(pod);
  if (waiting.some((r) => r === 'CrashLoopBackOff' || r === 'RunContainerError')) return 'crashloop';
  if (waiting.some((r) => r === 'ContainerCreating' || r === 'PodInitializing')) return 'creating';
  if (phase === 'Pending') return pod.spec?.nodeName ? 'creating' : 'pending';
  if (phase === 'Running') return isReady(pod) ? 'ready' : 'running';
  return 'other';
}

export function restartCount(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0);
}

/** The workload that owns a pod (ReplicaSet resolved to its Deployment), or the pod itself. */
export function owningWorkload(view: ClusterView, pod: Pod): ObjectRef {
  const ns = pod.metadata?.namespace;
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return refOf('Pod', pod);
  if (owner.kind === 'ReplicaSet') {
    const rs = view.get('ReplicaSet', ns, owner.name);
    const deploy = rs?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (deploy) return { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: deploy.name };
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, namespace: ns, name: owner.name };
}

/** Pods that a DaemonSet/Deployment/ReplicaSet/StatefulSet owns (directly or through its ReplicaSets). */
export function podsOf(view: ClusterView, workload: ObjectRef): Pod[] {
  return view
    .list('Pod', workload.namespace)
    .filter((p) => {
      const owner = owningWorkload(view, p);
      return owner.kind === workload.kind && owner.name === workload.name;
    });
}
