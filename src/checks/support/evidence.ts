import type { ClusterView } from '../../domain/cluster-view';
import type { Evidence } from '../../domain/finding';
import type { KubeEvent } from '../../domain/kube-types';
import { type ObjectRef, kubectl } from '../../domain/object-ref';

/** Warning events about the object, optionally of given reasons, newest last. */
export function warningEvents(view: ClusterView, ref: ObjectRef, reasons?: string[]): KubeEvent[] {
  return view
    .events(ref)
    .filter((e) => e.type === 'Warning' && (!reasons || reasons.includes(e.reason ?? '')));
}

export function eventEvidence(event: KubeEvent, about: ObjectRef): Evidence {
  const count = event.count && event.count > 1 ? ` (x${event.count})` : '';
  return {
    type: 'event',
    text: `${event.type ?? 'Normal'} ${event.reason ?? ''}${count}: ${event.message ?? ''}`.trim(),
    command: kubectl.events(about),
  };
}

export function objectEvidence(ref: ObjectRef, text: string, command: string = kubectl.get(ref)): Evidence {
  return { type: 'object', text, command };
}

/** The last lines of a log that matter (error-looking lines preferred), at most `max`. */
export function logExcerpt(log: string, max = 5): string[] {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const errors = lines.filter((l) => /^[EF]\d{4}|error|fatal|failed|panic/i.test(l));
  return (errors.length > 0 ? errors : lines).slice(-max);
}

export function logEvidence(namespace: string, pod: string, container: string, previous: boolean, lines: string[]): Evidence {
  return { type: 'log', text: lines.join('\n'), command: kubectl.logs(namespace, pod, container, previous) };
}

/** The log of a container, preferring the crashed previous instance (where the reason for a restart is). */
export function containerLog(
  view: ClusterView,
  namespace: string,
  pod: string,
  container: string,
): { text: string; previous: boolean } | undefined {
  const previous = view.log({ namespace, pod, container, previous: true });
  if (previous) return { text: previous, previous: true };
  const current = view.log({ namespace, pod, container, previous: false });
  return current ? { text: current, previous: false } : undefined;
}
