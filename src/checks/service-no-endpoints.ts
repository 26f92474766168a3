import type { Check } from '../domain/check';
import type { ClusterView } from '../domain/cluster-view';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Pod, Service } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refOf, sameRef } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { testAndReplace } from './support/json-patch';
import { owningWorkload } from './support/pods';
import { formatSelector, selectorMatches } from './support/selectors';
import {
  hasSelector,
  isLive,
  livePodsSelected,
  podTemplateOwners,
  resolveTargetPort,
  selectedPods,
  serviceEndpoints,
  servicesInScope,
  similarNames,
  stableLabels,
  svcRef,
} from './support/services';

const ID = 'service-no-endpoints';
type Labels = Record<string, string>;

/**
 * The old selector with each unmatched entry mapped onto one of the pod's labels: same key with a
 * similar value (`app=web-app` → `app=webapp`), or the same value under another key (`name=mysql` → `app=mysql`).
 * Undefined when some entry has no such near miss. `similar` may be a memo of similarNames.
 */
export function nearMissSelector(selector: Labels, labels: Labels, similar: (a: string, b: string) => boolean = similarNames): Labels | undefined {
  // Asked of every pod in the namespace: no arrays or objects unless the pod is a near miss.
  let fixed: [string, string][] | undefined;
  let changed = false;
  for (const k in selector) {
    const v = selector[k]!;
    const own = labels[k];
    if (own === v) {
      (fixed ??= []).push([k, v]);
      continue;
    }
    if (own !== undefined && similar(v, own)) {
      (fixed ??= []).push([k, own]);
      changed = true;
      continue;
    }
    let sameValue: string[] | undefined;
    if (v.length >= 2) for (const lk in labels) if (labels[lk] === v && !(lk in selector)) (sameValue ??= []).push(lk);
    if (sameValue && sameValue.length > 1) sameValue = sameValue.filter((lk) => similar(k, lk));
    if (sameValue?.length !== 1) return undefined;
    (fixed ??= []).push([sameValue[0]!, v]);
    changed = true;
  }
  return changed ? Object.fromEntries(fixed!) : undefined;
}

/** Does the pod serve one of the Service's target ports (number or name), by declaration. */
function servesTargetPort(svc: Service, pod: Pod): boolean {
  return (svc.spec?.ports ?? []).some((p) => resolveTargetPort(pod, p.targetPort ?? p.port, p.protocol ?? 'TCP') !== undefined);
}

/** similarNames with each pair compared once: a workload's pods repeat its label values. */
function similarNamesMemo(): (a: string, b: string) => boolean {
  const seen = new Map<string, Map<string, boolean>>();
  return (a, b) => {
    let withA = seen.get(a);
    if (!withA) seen.set(a, (withA = new Map<string, boolean>()));
    let similar = withA.get(b);
    if (similar === undefined) withA.set(b, (similar = similarNames(a, b)));
    return similar;
  };
}

interface Candidate {
  workload: ObjectRef;
  pods: Pod[];
  /** The selector mapped onto the first pod's labels, when they are a near miss (stronger than serving the port). */
  near: Labels | undefined;
  /** The proposed selector picks exactly this workload's pods (only then is it a plan). */
  exact: boolean;
}

/** The selector a candidate proposes, and why it is one. */
function proposal(view: ClusterView, c: Candidate): { selector: Labels; why: string } {
  const labels = c.pods[0]!.metadata?.labels ?? {};
  if (c.near) return { selector: c.near, why: `labels ${formatSelector(labels)} are a near miss of the selector` };
  const template = view.get(c.workload.kind as 'Deployment', c.workload.namespace, c.workload.name)?.spec?.selector?.matchLabels;
  return {
    selector: template && Object.keys(template).length > 0 ? { ...template } : stableLabels(labels),
    why: `it serves the Service's target port (labels ${formatSelector(stableLabels(labels))})`,
  };
}

/**
 * Workloads whose pods the Service probably meant. Every pod is looked at (a near miss anywhere wins
 * over serving the port), but what a candidate proposes is worked out only for those shown.
 */
function candidates(view: ClusterView, svc: Service): Candidate[] {
  const selector = svc.spec?.selector ?? {};
  const pods = view.list('Pod', svc.metadata?.namespace).filter(isLive);
  const similar = similarNamesMemo();
  const byWorkload = new Map<string, Candidate>();
  for (const pod of pods) {
    const near = nearMissSelector(selector, pod.metadata?.labels ?? {}, similar);
    if (!near && !servesTargetPort(svc, pod)) continue;
    const workload = owningWorkload(view, pod);
    const key = refKey(workload);
    const existing = byWorkload.get(key);
    if (existing) existing.pods.push(pod);
    else byWorkload.set(key, { workload, pods: [pod], near, exact: false });
  }
  const all = [...byWorkload.values()];
  const found = all.some((c) => c.near) ? all.filter((c) => c.near) : all;
  // Only a single candidate can become a plan, so only then is exactness worth a pass over the pods.
  const only = found.length === 1 ? found[0]! : undefined;
  if (only) {
    const mine = new Set(only.pods);
    const { selector: proposed } = proposal(view, only);
    only.exact = pods.every((p) => selectorMatches(proposed, p.metadata?.labels) === (mine.has(p) || sameRef(owningWorkload(view, p), only.workload)));
  }
  return found;
}

/** Workloads whose pod template the selector matches although no pod exists (scaled to zero, or failing to create pods). */
function podlessWorkloads(view: ClusterView, svc: Service): { ref: ObjectRef; replicas?: number }[] {
  return podTemplateOwners(view, svc.metadata?.namespace)
    .filter((o) => !o.bare && selectorMatches(svc.spec?.selector, o.labels))
    .map((o) => {
      const obj = view.get(o.ref.kind as 'Deployment', o.ref.namespace, o.ref.name);
      return { ref: o.ref, replicas: (obj?.spec as { replicas?: number } | undefined)?.replicas };
    });
}

/** SVC-01: a Service whose selector matches no pod; names the near-miss labels that exist. */
export const serviceNoEndpoints: Check = {
  id: ID,
  title: 'Service selector matches no pods',
  codes: ['SVC-NO-ENDPOINTS', 'SVC-WORKLOAD-NO-PODS', 'SVC-SCALED-TO-ZERO'],
  needs: ['Service', 'Pod', 'EndpointSlice', 'Endpoints', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'],
  reads: {
    Deployment: ['metadata.resourceVersion', 'spec.replicas', 'spec.selector', 'spec.template.metadata.labels', 'spec.template.spec'],
    EndpointSlice: ['endpoints', 'metadata.labels'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'metadata.resourceVersion', 'spec.containers.name', 'spec.containers.ports', 'spec.selector', 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['metadata.resourceVersion', 'spec.ports', 'spec.selector', 'spec.type'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const svc of servicesInScope(ctx)) {
      if (!hasSelector(svc)) continue;
      const ns = svc.metadata?.namespace;
      const selector = svc.spec?.selector ?? {};
      if (selectedPods(ctx.view, svc).length > 0) continue;
      const ref = svcRef(svc);
      const sel = formatSelector(selector);
      const eps = serviceEndpoints(ctx.view, svc);
      const evidence: Evidence[] = [
        objectEvidence(ref, `service/${ref.name} selector: ${sel}`),
        { type: 'command', text: `no pod in namespace ${ns} has labels ${sel}; ${eps.source === 'none' ? 'no endpoints' : `${eps.endpoints.length} endpoints`}`, command: kubectl.list('pods', ns, ['-l', sel]) },
      ];
      const podless = podlessWorkloads(ctx.view, svc);
      if (podless.length > 0) {
        const scaledToZero = podless.every((w) => w.replicas === 0);
        findings.push({
          severity: scaledToZero ? 'info' : 'warning',
          code: scaledToZero ? 'SVC-SCALED-TO-ZERO' : 'SVC-WORKLOAD-NO-PODS',
          title: scaledToZero ? `Service ${ref.name} selects a workload scaled to zero` : `Service ${ref.name} selects ${podless[0]!.ref.kind} ${podless[0]!.ref.name}, which has no pods`,
          summary: scaledToZero
            ? `Service ${ns}/${ref.name} selects ${podless.map((w) => `${w.ref.kind} ${w.ref.name}`).join(', ')}, scaled to zero replicas: connections are refused until it scales up.`
            : `Service ${ns}/${ref.name}'s selector ${sel} matches the pod template of ${podless.map((w) => `${w.ref.kind} ${w.ref.name}`).join(', ')}, but no pod exists, so the Service has no endpoints.`,
          subject: ref,
          evidence: [...evidence, ...podless.map((w) => objectEvidence(w.ref, `${w.ref.kind.toLowerCase()}/${w.ref.name}: pod template matches, replicas ${w.replicas ?? 'unset'}`, kubectl.describe(w.ref)))],
          rootCause: !scaledToZero,
          explains: [ref],
          advice: scaledToZero ? [`Scale it up if the Service should answer: kubectl -n ${ns} scale ${podless[0]!.ref.kind.toLowerCase()}/${podless[0]!.ref.name} --replicas=1`] : [`See why no pods are created: ${kubectl.describe(podless[0]!.ref)}`],
          plan: null,
        });
        continue;
      }
      const found = candidates(ctx.view, svc);
      const shown = found.slice(0, 5).map((c) => ({ ...c, ...proposal(ctx.view, c) }));
      for (const c of shown) {
        evidence.push(objectEvidence(refOf('Pod', c.pods[0]!), `${c.workload.kind.toLowerCase()}/${c.workload.name}: ${c.why}`, kubectl.list('pods', ns, ['--show-labels'])));
      }
      // Through the label index of every namespace's live pods: a digest has many Services and pods.
      const elsewhere = livePodsSelected(ctx.view, undefined, selector).filter((p) => p.metadata?.namespace !== ns);
      if (elsewhere.length > 0) {
        evidence.push({ type: 'command', text: `pods with labels ${sel} exist in namespace ${elsewhere[0]!.metadata?.namespace}; selectors only match pods in the Service's own namespace`, command: kubectl.list('pods', undefined, ['-A', '-l', sel]) });
      }
      const only = found.length === 1 && found[0]!.exact ? shown[0]! : undefined;
      const plan = only
        ? makePlan({
            summary: `Set service/${ref.name}'s selector to ${formatSelector(only.selector)} (${only.workload.kind} ${only.workload.name})`,
            risk: 'low',
            effect: `the Service routes to ${only.pods.length} pod(s) of ${only.workload.kind} ${only.workload.name} as soon as its endpoints update`,
            operations: [
              {
                action: 'patch',
                target: ref,
                patchType: 'json',
                // Never a merge patch on a selector: old keys would survive.
                patch: testAndReplace('/spec/selector', selector, only.selector),
                resourceVersion: svc.metadata?.resourceVersion,
              },
            ],
            verify: { check: ID, subject: ref, waitFor: 'endpoints' },
          })
        : null;
      const hint = only
        ? ` The pods of ${only.workload.kind} ${only.workload.name} carry ${formatSelector(only.selector)}.`
        : found.length > 0
          ? ` Candidates: ${shown.map((c) => `${c.workload.name} (${formatSelector(c.selector)})`).join(', ')}.`
          : '';
      findings.push({
        severity: 'critical',
        code: 'SVC-NO-ENDPOINTS',
        title: `Selector ${sel} matches no pods`,
        summary: `Service ${ns}/${ref.name} selects ${sel}, but no pod in ${ns} has these labels, so it has no endpoints and connections to it are refused.${hint}`,
        subject: ref,
        evidence,
        rootCause: true,
        explains: [ref],
        advice: only
          ? []
          : found.length > 0
            ? [
                found.length > 1
                  ? `Several workloads could be meant; pick one and set the selector to labels only its pods carry: kubectl -n ${ns} edit service ${ref.name}`
                  : `The candidate's labels also match other pods; pick labels only its pods carry: kubectl -n ${ns} edit service ${ref.name}`,
              ]
            : [`Compare the selector with the labels of the pods that should serve it: ${kubectl.list('pods', ns, ['--show-labels'])}`],
        plan,
      });
    }
    return findings;
  },
};
