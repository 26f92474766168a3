import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refLabel, refOf } from '../domain/object-ref';
import { DNS_NAMESPACE, coreDnsPods } from './support/dns';
import { objectEvidence } from './support/evidence';
import { isReady, owningWorkload, podsOf, CONTAINER_STATUS_READS } from './support/pods';
import { selectedPods } from './support/services';

const ID = 'container-oom-killed';

/**
 * The termination reason the container runtime reports when the kernel's OOM killer ended the process: containerd's
 * CRI plugin sets `oomExitReason = "OOMKilled"` (pkg/cri/server/helpers.go) and the kubelet copies it into
 * containerStatuses[].state/lastState.terminated.reason; the exit code is 137 (128 + SIGKILL).
 */
const OOM_REASON = 'OOMKilled';

type Terminated = NonNullable<NonNullable<NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number]['lastState']>['terminated']>;

interface Killed {
  pod: Pod;
  container: string;
  terminated: Terminated;
  restarts: number;
}

function oomKills(pod: Pod): Killed[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].flatMap((s) => {
    const t = s.state?.terminated?.reason === OOM_REASON ? s.state.terminated : s.lastState?.terminated?.reason === OOM_REASON ? s.lastState.terminated : undefined;
    return t ? [{ pod, container: s.name, terminated: t, restarts: s.restartCount ?? 0 }] : [];
  });
}

function resourcesOf(pod: Pod, container: string): { limit?: string; request?: string } {
  const c = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === container);
  const limit = c?.resources?.limits?.memory;
  const request = c?.resources?.requests?.memory;
  return { ...(limit !== undefined ? { limit } : {}), ...(request !== undefined ? { request } : {}) };
}

/**
 * POD-01: containers the kernel OOM-killed. The cause is memory (the container's limit, or the node's memory when it has
 * none), read from the termination reason and the spec, not from whatever the log says last: an OOM kill is a SIGKILL,
 * the process leaves no last words. The Service and crash-loop symptoms of those pods hang under it.
 */
export const containerOomKilled: Check = {
  id: ID,
  title: 'Containers OOMKilled (exit 137) against their memory limit',
  codes: ['POD-OOMKILLED'],
  needs: ['Pod', 'Service', 'ReplicaSet', 'Deployment'],
  reads: {
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.containers.resources', 'spec.initContainers', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.selector', 'spec.type'],
  },
  run(ctx) {
    const groups = new Map<string, { owner: ObjectRef; container: string; kills: Killed[] }>();
    // A namespace run also looks at CoreDNS: every namespace's lookups fail when it is OOMKilled.
    const pods = ctx.namespace === undefined || ctx.namespace === DNS_NAMESPACE ? ctx.view.list('Pod', ctx.namespace) : [...ctx.view.list('Pod', ctx.namespace), ...coreDnsPods(ctx.view)];
    for (const pod of pods) {
      if (pod.status?.phase === 'Succeeded' || pod.metadata?.deletionTimestamp) continue;
      for (const k of oomKills(pod)) {
        const owner = owningWorkload(ctx.view, pod);
        const key = `${refKey(owner)}/${k.container}`;
        const g = groups.get(key) ?? { owner, container: k.container, kills: [] };
        g.kills.push(k);
        groups.set(key, g);
      }
    }
    const findings: FindingDraft[] = [];
    for (const { owner, container, kills } of groups.values()) {
      const first = kills[0]!;
      const { limit, request } = resourcesOf(first.pod, container);
      const owned = owner.kind === 'Pod' ? [first.pod] : podsOf(ctx.view, owner);
      const ready = owned.filter(isReady).length;
      const services = ctx.view.list('Service', owner.namespace).filter((s) => owned.some((p) => selectedPods(ctx.view, s).includes(p)));
      const restarts = Math.max(...kills.map((k) => k.restarts));
      const exit = first.terminated.exitCode ?? 137;
      const memory = limit ? `its memory limit of ${limit}` : 'the memory left on its node (it has no memory limit)';
      const impact =
        ready === 0
          ? `none of its ${owned.length} pod(s) is Ready${services.length > 0 ? `, so Service ${services.map((s) => s.metadata?.name).join(', ')} has no ready endpoint` : ''}`
          : `${ready} of ${owned.length} pod(s) still Ready`;
      findings.push({
        code: 'POD-OOMKILLED',
        severity: ready === 0 ? 'critical' : 'warning',
        title: `${owner.kind === 'Pod' ? 'Pod' : owner.kind} ${owner.name}: container ${container} OOMKilled (exit ${exit})${limit ? ` at its ${limit} limit` : ''}`,
        summary:
          `Container ${container} of ${refLabel(owner)} was killed by the kernel's OOM killer (reason OOMKilled, exit code ${exit}) for exceeding ${memory}` +
          `${kills.length > 1 ? ` in ${kills.length} pods` : ''}; it restarted ${restarts} time(s) and ${impact}. The cause is memory, not the application's log.`,
        subject: owner,
        evidence: [
          ...kills.slice(0, 3).map((k) =>
            objectEvidence(
              refOf('Pod', k.pod),
              `pod/${k.pod.metadata?.name} container ${container}: last terminated ${k.terminated.reason}, exit ${k.terminated.exitCode ?? '?'}${k.terminated.finishedAt ? ` at ${k.terminated.finishedAt}` : ''}, ${k.restarts} restart(s)`,
              kubectl.describe(refOf('Pod', k.pod)),
            ),
          ),
          objectEvidence(owner, `container ${container} resources: limits.memory ${limit ?? 'none'}, requests.memory ${request ?? 'none'}`),
          { type: 'command', text: 'memory use of the running containers (metrics-server)', command: `kubectl top pod -n ${owner.namespace} --containers` },
        ],
        rootCause: true,
        explains: [owner, ...owned.map((p) => refOf('Pod', p)), ...services.map((s) => refOf('Service', s))],
        advice: [
          limit
            ? `Raise resources.limits.memory of container ${container} above its peak use (it is ${limit}${request ? `, request ${request}` : ''}); kubectl top pod shows the use before the kill.`
            : `Set resources.requests.memory and limits.memory for container ${container}, sized from its peak use: without a limit it is killed whenever its node runs short.`,
          'If the use keeps growing until the kill whatever the limit, it is a leak or an unbounded cache in the application: a larger limit only delays it.',
          'For JVM, Node.js and similar runtimes, size the heap below the limit (-Xmx / -XX:MaxRAMPercentage, --max-old-space-size).',
        ],
        plan: null,
      });
    }
    return findings;
  },
};
