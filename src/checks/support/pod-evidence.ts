import type { ClusterView } from '../../domain/cluster-view';
import type { Evidence } from '../../domain/finding';
import type { KubeEvent, Pod } from '../../domain/kube-types';
import { kubectl, refLabel, refOf } from '../../domain/object-ref';
import { ageMs, formatAge } from './age';
import { shortenIds } from './cni';
import { containerLog, logEvidence } from './evidence';
import { type ContainerStatus, caughtBetweenCrashes, containerBetweenCrashes, isReady, podState, restartCount, waitingReasons } from './pods';

function allStatuses(pod: Pod): ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** The scheduler's reason for a Pending pod, from its newest FailedScheduling event. */
export function schedulingFailure(view: ClusterView, pod: Pod): KubeEvent | undefined {
  return [...view.events(refOf('Pod', pod))].reverse().find((e) => e.reason === 'FailedScheduling');
}

/** `CrashLoopBackOff`, `ContainerCreating`, `Pending (unschedulable)`, `Running, not Ready`: what kubectl's STATUS column would say. */
export function podStatusWord(pod: Pod): string {
  const waiting = waitingReasons(pod);
  if (waiting.length > 0) return [...new Set(waiting)].join('/');
  const state = podState(pod);
  if (state === 'pending') return 'Pending (not scheduled)';
  if (state === 'running') return 'Running, not Ready';
  return pod.status?.phase ?? 'Unknown';
}

/** One line a human reads like `kubectl get pod -o wide`: status, restarts, last exit, node, age. */
export function podStateText(pod: Pod, now: Date): string {
  const parts = [podStatusWord(pod)];
  const restarts = restartCount(pod);
  if (restarts > 0) parts.push(`${restarts} restart${restarts === 1 ? '' : 's'}`);
  const last = allStatuses(pod).find((s) => s.lastState?.terminated)?.lastState?.terminated;
  if (last) parts.push(`last exit ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}`);
  if (pod.spec?.nodeName) parts.push(`node ${pod.spec.nodeName}`);
  parts.push(`age ${formatAge(ageMs(pod.metadata?.creationTimestamp, now))}`);
  return `${refLabel(refOf('Pod', pod))}: ${parts.join(', ')}`;
}

const FAILURE_LINE = /^[EF]\d{4}|\b(error|fatal|fata|failed|panic|crit)\b|\[(FATAL|ERROR)\]/i;

/** The last lines of a log that say why it failed (error-looking lines preferred; weave's `FATA:` and CoreDNS's `[FATAL]` included). */
export function failureExcerpt(log: string, max = 3): string[] {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const errors = lines.filter((l) => FAILURE_LINE.test(l));
  return (errors.length > 0 ? errors : lines).slice(-max);
}

/** Containers whose log tells why the pod is failing: crashing, restarted or terminated and not ready, or ready between crashes. */
function failingContainers(pod: Pod, now: Date): string[] {
  return allStatuses(pod)
    .filter((s) => (!s.ready && ((s.restartCount ?? 0) > 0 || s.state?.terminated || s.lastState?.terminated || s.state?.waiting?.reason === 'CrashLoopBackOff')) || containerBetweenCrashes(s, now))
    .map((s) => s.name);
}

/** Warning events of a pod, newest last, one per reason (the newest of each). */
export function podWarningEvents(view: ClusterView, pod: Pod, max = 3): KubeEvent[] {
  const byReason = new Map<string, KubeEvent>();
  for (const e of view.events(refOf('Pod', pod))) if (e.type === 'Warning') byReason.set(e.reason ?? '', e);
  return [...byReason.values()].slice(-max);
}

export function podEventEvidence(pod: Pod, event: KubeEvent): Evidence {
  const count = event.count && event.count > 1 ? ` (x${event.count})` : '';
  const ref = refOf('Pod', pod);
  return {
    type: 'event',
    text: `${event.type ?? 'Normal'} ${event.reason ?? ''}${count} on ${refLabel(ref)}: ${shortenIds((event.message ?? '').replace(/\s+/g, ' ').trim())}`,
    command: kubectl.events(ref),
  };
}

/** State, warning events and the log excerpt of the failing (previous) container of a pod. */
export function podFailureEvidence(view: ClusterView, pod: Pod, now: Date, maxEvents = 2): Evidence[] {
  const ref = refOf('Pod', pod);
  const out: Evidence[] = [{ type: 'object', text: podStateText(pod, now), command: kubectl.describe(ref) }];
  for (const e of podWarningEvents(view, pod, maxEvents)) out.push(podEventEvidence(pod, e));
  if (!isReady(pod) || caughtBetweenCrashes(pod, now)) {
    for (const container of failingContainers(pod, now)) {
      const log = containerLog(view, ref.namespace ?? '', ref.name, container);
      if (!log) continue;
      const lines = failureExcerpt(log.text, 3);
      if (lines.length > 0) out.push(logEvidence(ref.namespace ?? '', ref.name, container, log.previous, lines));
    }
  }
  return out;
}
