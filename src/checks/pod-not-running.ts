import type { Check, CheckContext } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { Pod } from '../domain/kube-types';
import { type ObjectRef, refKey, refLabel, refOf } from '../domain/object-ref';
import { START_GRACE_MS, ageMs, formatAge } from './support/age';
import { parseSandboxError, shortenIds, startingCniAgent } from './support/cni';
import { DNS_NAMESPACE, coreDnsPods } from './support/dns';
import { containerLog } from './support/evidence';
import { failureExcerpt, podFailureEvidence, podWarningEvents, schedulingFailure } from './support/pod-evidence';
import { isReady, owningWorkload, podState, restartCount, waitingReasons } from './support/pods';

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
  if (isReady(pod)) return undefined;
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

const ORDER: Problem[] = ['crashloop', 'error', 'creating', 'pending', 'unready'];

export const podNotRunning: Check = {
  id: 'pod-not-running',
  title: 'Pods stuck in ContainerCreating, CrashLoopBackOff, Pending or not Ready (symptoms, linked to their root cause)',
  needs: ['Pod', 'Event', 'ReplicaSet', 'Deployment'],
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
      const reason = reasonOf(ctx, main.pod, main.problem);
      const impact = ready === 0 ? 'so it serves no traffic' : `${ready} still Ready`;
      const waitingOn = pods.every((p) => p.problem === 'creating') ? startingCniAgent(ctx, main.pod, startingCache) : undefined;
      const note = waitingOn ? ` It waits for the CNI agent ${waitingOn}, which is still starting.` : '';
      findings.push({
        severity: waitingOn ? 'info' : ready === 0 ? 'critical' : 'warning',
        title: `${owner.kind === 'Pod' ? 'Pod' : `${pods.length}/${total} pods`} ${problems.map((p) => PHRASE[p]).join(', ')}`,
        summary: `${owner.kind === 'Pod' ? `Pod ${owner.namespace}/${owner.name}` : `${label}:`} ${count} ${PHRASE[main.problem]}${restarts}${since}, ${impact}.${reason ? ` ${reason}.` : ''}${note}`.replace(/\.\./g, '.'),
        subject: owner,
        evidence: pods.slice(0, 3).flatMap((p) => podFailureEvidence(view, p.pod, ctx.now)),
        rootCause: false,
        // The pods this symptom covers: the engine links it to a root cause whose explains lists one of them (or the subject).
        explains: pods.map((p) => refOf('Pod', p.pod)),
      });
    }
    return findings;
  },
};
