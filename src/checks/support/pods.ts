import type { ClusterView } from '../../domain/cluster-view';
import type { Pod } from '../../domain/kube-types';
import { type ObjectRef, refOf } from '../../domain/object-ref';

/** What the pod helpers and the log reader read of container statuses (not image ids, not the runtime's container id). */
export const CONTAINER_STATUS_READS = ['containerStatuses', 'initContainerStatuses'].flatMap((list) => ['name', 'ready', 'restartCount', 'state', 'lastState'].map((f) => `status.${list}.${f}`));

export type ContainerStatus = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number];

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

/**
 * The kubelet restarts a crashing container after at most 5 minutes of back-off, so a crash loop
 * always has an error exit this recent, even at a moment its pod passes its readiness probe.
 */
const RECENT_ERROR_EXIT_MS = 10 * 60_000;
/** Slack on "not yet outlived the instance that crashed": start-up time the lifetimes do not show. */
const LIFETIME_SLACK_MS = 5_000;

/** A container of the pod keeps crashing, though it may be running and Ready at this moment (containerBetweenCrashes). */
export function caughtBetweenCrashes(pod: Pod, now: Date): boolean {
  return (pod.status?.containerStatuses ?? []).some((s) => containerBetweenCrashes(s, now));
}

/**
 * Restarted more than once, the last time after an error exit minutes ago, and the running instance
 * has not yet lived twice as long as the one that crashed: caught between two crashes. A component
 * that failed twice at once while its node booted (its ConfigMap not mounted yet) and has run since
 * is not a loop.
 */
export function containerBetweenCrashes(status: ContainerStatus, now: Date): boolean {
  const last = status.lastState?.terminated;
  if ((status.restartCount ?? 0) < 2 || !last || (last.exitCode ?? 0) === 0) return false;
  const finished = Date.parse(last.finishedAt ?? '');
  const lived = finished - Date.parse(last.startedAt ?? '');
  const running = now.getTime() - Date.parse(status.state?.running?.startedAt ?? '');
  return now.getTime() - finished <= RECENT_ERROR_EXIT_MS && running <= 2 * lived + LIFETIME_SLACK_MS;
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
