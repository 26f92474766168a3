import type { Check, CheckContext } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refLabel, refOf } from '../domain/object-ref';
import { START_GRACE_MS, ageMs, formatAge } from './support/age';
import { parseSandboxError, shortenIds, startingCniAgent } from './support/cni';
import { DNS_NAMESPACE, coreDnsPods } from './support/dns';
import { containerLog } from './support/evidence';
import { failureExcerpt, podFailureEvidence, podWarningEvents, schedulingFailure } from './support/pod-evidence';
import { nodesWithTaint, parseSchedulingFailure } from './support/scheduling';
import { type ContainerStatus, caughtBetweenCrashes, isReady, owningWorkload, podState, restartCount, waitingReasons, CONTAINER_STATUS_READS } from './support/pods';

type Problem = 'creating' | 'crashloop' | 'error' | 'pending' | 'unready';

/** Waiting reasons that are failures at any age (as opposed to ContainerCreating / PodInitializing). */
const ERROR_REASONS = /BackOff|Err|Error|Invalid/;

/** Pods a namespace run looks at: the namespace's own, plus the CoreDNS and kube-proxy pods every namespace depends on. */
function podsInScope(ctx: CheckContext): Pod[] {
  const { view, namespace } = ctx;
  if (namespace === undefined) return [...view.list('Pod')];
  const own = [...view.list('Pod', namespace)];
  if (namespace === DNS_NAMESPACE) return own;
  const kubeProxy = view.list('Pod', DNS_NAMESPACE).filter((p) => {
    const o = owningWorkload(view, p);
    return (o.kind === 'DaemonSet' && o.name === 'kube-proxy') || p.metadata?.labels?.['k8s-app'] === 'kube-proxy';
  });
  return [...own, ...coreDnsPods(view), ...kubeProxy];
}

/** What is wrong with a pod, or undefined when it runs (or is young enough to still be starting). */
function problemOf(ctx: CheckContext, pod: Pod): Problem | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) return undefined;
  // Ready at this moment, but restarting after errors: a crash loop caught between two crashes.
  if (isReady(pod)) return caughtBetweenCrashes(pod, ctx.now) ? 'crashloop' : undefined;
  const state = podState(pod);
  const old = (ageMs(pod.metadata?.creationTimestamp, ctx.now) ?? Infinity) > START_GRACE_MS;
  const warned = podWarningEvents(ctx.view, pod).length > 0;
  if (state === 'crashloop') return 'crashloop';
  if (waitingReasons(pod).some((r) => ERROR_REASONS.test(r))) return 'error';
  if (state === 'creating') return old || warned ? 'creating' : undefined;
  if (state === 'pending') return old || schedulingFailure(ctx.view, pod) ? 'pending' : undefined;
  if (state === 'running') return old || warned || restartCount(pod) > 0 ? 'unready' : undefined;
  return undefined;
}

const PHRASE: Record<Problem, string> = {
  creating: 'stuck in ContainerCreating',
  crashloop: 'crash-looping',
  error: 'failing to start',
  pending: 'Pending, not scheduled',
  unready: 'Running but not Ready',
};

function oneLine(text: string | undefined, max = 220): string {
  const t = shortenIds((text ?? '').replace(/\s+/g, ' ').trim());
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The most telling reason of one pod, in a clause: the scheduler's message, the sandbox error, the crashed log line. */
function reasonOf(ctx: CheckContext, pod: Pod, problem: Problem): string | undefined {
  if (problem === 'pending') {
    const e = schedulingFailure(ctx.view, pod);
    return e ? `Scheduler: ${oneLine(e.message)}` : undefined;
  }
  if (problem === 'crashloop' || problem === 'unready') {
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      if (c.ready) continue;
      const log = containerLog(ctx.view, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', c.name);
      const line = log ? failureExcerpt(log.text, 1)[0] : undefined;
      if (line) return `Container ${c.name} logged: ${oneLine(line)}`;
    }
  }
  const e = podWarningEvents(ctx.view, pod, 1)[0];
  const cni = e?.reason === 'FailedCreatePodSandBox' ? parseSandboxError(e.message) : undefined;
  if (cni) return `${e!.reason}: ${cni.pluginType ? `CNI plugin type="${cni.pluginType}"` : 'the CNI plugin'} failed: ${oneLine(cni.cause)}`;
  if (e) return `${e.reason}: ${oneLine(e.message)}`;
  const waiting = waitingReasons(pod);
  return problem === 'error' && waiting.length ? waiting.join(', ') : undefined;
}

const CODE: Record<Problem, string> = {
  creating: 'POD-CONTAINER-CREATING',
  crashloop: 'POD-CRASHLOOP',
  error: 'POD-START-ERROR',
  pending: 'POD-PENDING',
  unready: 'POD-NOT-READY',
};

/** Why the pods fail, when it is a named cause the title should carry (not a network fault): code, tag, sentence, advice, objects it depends on. */
interface Cause {
  code: string;
  tag: string;
  sentence: string;
  advice: string[];
  dependsOn: ObjectRef[];
}

function requestsOf(pod: Pod, resource: string): string[] {
  return (pod.spec?.containers ?? []).map((c) => c.resources?.requests?.[resource]).filter((r): r is string => r !== undefined);
}

/** Pending pods the scheduler rejects for a reason in its message: too few resources, or a taint on the nodes they may use. */
function schedulingCause(ctx: CheckContext, pod: Pod, owner: ObjectRef): Cause | undefined {
  const failure = parseSchedulingFailure(schedulingFailure(ctx.view, pod)?.message);
  if (failure.insufficient.length > 0) {
    const requests = failure.insufficient.map((r) => `${r} ${requestsOf(pod, r).join('+') || 'unset'}`).join(', ');
    return {
      code: 'POD-INSUFFICIENT-RESOURCES',
      tag: failure.insufficient.map((r) => `Insufficient ${r}`).join(', '),
      sentence: `A capacity problem, not a network fault: no node has enough allocatable ${failure.insufficient.join(' and ')} left for the pod's requests (${requests}).`,
      advice: [
        `Lower the requests of ${refLabel(owner)} to what the nodes can hold, or add node capacity; see what is allocated: kubectl describe nodes | grep -A 8 "Allocated resources"`,
      ],
      dependsOn: [],
    };
  }
  if (failure.taints.length > 0) {
    const nodes = failure.taints.flatMap((t) => nodesWithTaint(ctx.view, t).map((n) => ({ taint: t, node: n.metadata?.name ?? '' })));
    const taints = [...new Set(failure.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}`))].join(', ');
    return {
      code: 'POD-UNTOLERATED-TAINT',
      tag: `untolerated taint ${taints}`,
      sentence: nodes.length > 0 ? `The taint is on ${[...new Set(nodes.map((n) => `node ${n.node}`))].join(', ')}: whatever set it keeps the pods off.` : `No node in view carries it any more; the next scheduling attempt may succeed.`,
      advice: [
        nodes.length > 0
          ? `Fix the condition behind the taint on ${[...new Set(nodes.map((n) => n.node))].join(', ')} (kubectl describe node ${nodes[0]!.node}); add a toleration only if the pods are meant to run there anyway.`
          : `Re-check the pods: kubectl get pods -n ${owner.namespace} -o wide`,
      ],
      dependsOn: [...new Map(nodes.map((n) => [n.node, { apiVersion: 'v1', kind: 'Node', name: n.node }])).values()],
    };
  }
  return undefined;
}

/** Containers killed by the kernel's OOM killer at their memory limit: a memory problem the title should name. */
function oomCause(pod: Pod, owner: ObjectRef): Cause | undefined {
  const killed = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (c: ContainerStatus) => !c.ready && (c.lastState?.terminated?.reason === 'OOMKilled' || c.state?.terminated?.reason === 'OOMKilled'),
  );
  if (!killed) return undefined;
  const exit = killed.lastState?.terminated?.exitCode ?? killed.state?.terminated?.exitCode;
  const limit = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === killed.name)?.resources?.limits?.memory;
  return {
    code: 'POD-OOMKILLED',
    tag: 'OOMKilled',
    sentence: `Container ${killed.name} was OOMKilled${exit !== undefined ? ` (exit ${exit})` : ''}${limit ? ` at its memory limit ${limit}` : ''}: a memory problem, not a network fault.`,
    advice: [`Raise the memory limit of container ${killed.name} in ${refLabel(owner)}${limit ? ` (now ${limit})` : ''} to what it uses at peak, or make it use less.`],
    dependsOn: [],
  };
}

/** Running but not Ready: what the readiness probe calls is what to compare with what the application serves. */
function readinessAdvice(pod: Pod): string[] {
  const ref = refOf('Pod', pod);
  const probed = (pod.spec?.containers ?? []).find((c) => c.readinessProbe);
  return [
    probed
      ? `Compare what the readiness probe of container ${probed.name} calls (path, port, start-up time) with what the application serves: ${kubectl.describe(ref)}`
      : `Read why the containers are not Ready: ${kubectl.describe(ref)}`,
    `Read the application's log: kubectl logs -n ${ref.namespace} ${ref.name}`,
  ];
}

const ORDER: Problem[] = ['crashloop', 'error', 'creating', 'pending', 'unready'];

export const podNotRunning: Check = {
  id: 'pod-not-running',
  title: 'Pods stuck in ContainerCreating, CrashLoopBackOff, Pending or not Ready (symptoms, linked to their root cause)',
  codes: [...Object.values(CODE), 'POD-INSUFFICIENT-RESOURCES', 'POD-UNTOLERATED-TAINT', 'POD-OOMKILLED'],
  needs: ['Pod', 'Event', 'ReplicaSet', 'Deployment', 'DaemonSet', 'Node'],
  reads: {
    DaemonSet: ['metadata.creationTimestamp', 'metadata.generation', 'spec.selector', 'spec.template.metadata.labels', 'status'],
    Event: ['count', 'message', 'reason', 'type'],
    Node: ['spec.taints'],
    Pod: ['metadata.creationTimestamp', 'metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.containers.readinessProbe', 'spec.containers.resources', 'spec.initContainers', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase', 'status.startTime'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const { view } = ctx;
    const groups = new Map<string, { owner: ObjectRef; pods: { pod: Pod; problem: Problem }[] }>();
    const seen = new Set<string>();
    for (const pod of podsInScope(ctx)) {
      const key = refKey(refOf('Pod', pod));
      if (seen.has(key)) continue;
      seen.add(key);
      const problem = problemOf(ctx, pod);
      if (!problem) continue;
      let owner = owningWorkload(view, pod);
      if (owner.kind === 'Node') owner = refOf('Pod', pod);
      const g = groups.get(refKey(owner)) ?? { owner, pods: [] };
      g.pods.push({ pod, problem });
      groups.set(refKey(owner), g);
    }

    const findings: FindingDraft[] = [];
    const startingCache = new Map<string, boolean>();
    for (const { owner, pods } of groups.values()) {
      pods.sort((a, b) => ORDER.indexOf(a.problem) - ORDER.indexOf(b.problem));
      const main = pods[0]!;
      const siblings =
        owner.kind === 'Pod'
          ? [main.pod]
          : view.list('Pod', owner.namespace).filter((p) => {
              const o = owningWorkload(view, p);
              return o.kind === owner.kind && o.name === owner.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
            });
      const ready = siblings.filter(isReady).length;
      const total = Math.max(siblings.length, pods.length);
      const problems = [...new Set(pods.map((p) => p.problem))];
      const label = refLabel(owner);
      const count = owner.kind === 'Pod' ? 'is' : `${pods.length} of ${total} pods ${pods.length === 1 ? 'is' : 'are'}`;
      const restarts = main.problem === 'crashloop' ? ` (${restartCount(main.pod)} restarts)` : '';
      const since = main.problem === 'creating' || main.problem === 'pending' ? ` for ${formatAge(ageMs(main.pod.metadata?.creationTimestamp, ctx.now))}` : '';
      const cause = main.problem === 'pending' ? schedulingCause(ctx, main.pod, owner) : main.problem === 'crashloop' ? oomCause(main.pod, owner) : undefined;
      const reason = reasonOf(ctx, main.pod, main.problem);
      const impact = ready === 0 ? 'so it serves no traffic' : `${ready} still Ready`;
      const waitingOn = pods.every((p) => p.problem === 'creating') ? startingCniAgent(ctx, main.pod, startingCache) : undefined;
      const note = waitingOn ? ` It waits for the CNI agent ${waitingOn}, which is still starting.` : '';
      findings.push({
        severity: waitingOn ? 'info' : ready === 0 ? 'critical' : 'warning',
        code: cause?.code ?? CODE[main.problem],
        title: `${owner.kind === 'Pod' ? 'Pod' : `${pods.length}/${total} pods`} ${problems.map((p) => PHRASE[p]).join(', ')}${cause ? ` (${cause.tag})` : ''}`,
        summary: `${owner.kind === 'Pod' ? `Pod ${owner.namespace}/${owner.name}` : `${label}:`} ${count} ${PHRASE[main.problem]}${restarts}${since}, ${impact}.${reason ? ` ${reason}.` : ''}${cause ? ` ${cause.sentence}` : ''}${note}`.replace(/\.\./g, '.'),
        subject: owner,
        evidence: pods.slice(0, 3).flatMap((p) => podFailureEvidence(view, p.pod, ctx.now)),
        rootCause: false,
        // The pods this symptom covers: the engine links it to a root cause whose explains lists one of them (or the subject).
        explains: pods.map((p) => refOf('Pod', p.pod)),
        ...(cause ? { advice: cause.advice } : main.problem === 'unready' ? { advice: readinessAdvice(main.pod) } : {}),
        ...(cause?.dependsOn.length ? { dependsOn: cause.dependsOn } : {}),
      });
    }
    return findings;
  },
};
