// Whether the pod network enforces NetworkPolicies at all. flannel does not ("Flannel does not
// support kubernetes network policies"; the API docs: a policy "will have no effect unless your
// chosen networking solution supports network policy"): on the real node a deny policy left
// webapp → mysql and DNS flowing. A policy that would block is then a gap, not the outage's cause.
import type { ClusterView } from '../../domain/cluster-view';
import type { FindingDraft } from '../../domain/finding';
import { CNI_AGENTS, agentDaemonSets } from './cni';

/** DaemonSets that enforce NetworkPolicies beside (or instead of) flannel: Calico/Canal, Cilium, Weave's npc, kube-router, Antrea, kube-ovn. */
const POLICY_ENGINE = /calico|canal|cilium|weave|kube-router|antrea|kube-ovn|network-policy|netpol/i;

/** Why NetworkPolicies have no effect in this cluster (flannel is the only pod network and nothing enforces policy), or undefined. */
export function policiesNotEnforced(view: ClusterView): string | undefined {
  const flannel = CNI_AGENTS.find((a) => a.family === 'flannel')!;
  const agents = agentDaemonSets(view, flannel);
  if (agents.length === 0) return undefined;
  if (CNI_AGENTS.some((a) => a !== flannel && agentDaemonSets(view, a).length > 0)) return undefined;
  if (view.list('DaemonSet').some((ds) => POLICY_ENGINE.test(ds.metadata?.name ?? ''))) return undefined;
  const ds = agents[0]!;
  return `the pod network is flannel (DaemonSet ${ds.metadata?.namespace}/${ds.metadata?.name}) and nothing in the cluster enforces NetworkPolicies (no Calico/Canal, Cilium, kube-router or other policy agent)`;
}

/**
 * A blocking finding restated for a cluster whose CNI ignores NetworkPolicies: traffic flows, the
 * policy is a gap that bites once a policy-enforcing CNI is installed. No plan: nothing is broken now.
 */
export function notEnforced(draft: FindingDraft, why: string): FindingDraft {
  return {
    ...draft,
    code: 'NP-NOT-ENFORCED',
    severity: 'warning',
    title: `Not enforced: ${draft.title}`,
    summary: `${draft.summary} But ${why}, so the policy has no effect today: traffic is not blocked, and this is not the cause of a connection failure. It blocks as soon as a policy-enforcing CNI is installed.`,
    explains: [],
    advice: [
      'Decide whether the policy is meant: if yes, run a CNI that enforces NetworkPolicies (Calico/Canal, Cilium) and add the allow rules first; if not, remove it before it starts to apply.',
      ...(draft.advice ?? []),
    ],
    plan: null,
  };
}
