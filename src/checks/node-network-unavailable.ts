import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { KubeNode } from '../domain/kube-types';
import { type ObjectRef, kubectl, refLabel, refOf } from '../domain/object-ref';
import { ageMs, formatAge } from './support/age';
import { CNI_AGENTS, agentDaemonSets, agentHealth, networkUnavailableCondition } from './support/cni';

const TAINT = 'node.kubernetes.io/network-unavailable';

export const nodeNetworkUnavailable: Check = {
  id: 'node-network-unavailable',
  title: 'Nodes with NetworkUnavailable=True (no pod network routes; new pods kept off)',
  needs: ['Node', 'DaemonSet', 'Pod'],
  run(ctx) {
    const nodes = ctx.view.list('Node');
    const unavailable = nodes.filter((n) => networkUnavailableCondition(n));
    if (unavailable.length === 0) return [];
    const installed = CNI_AGENTS.flatMap((agent) => agentDaemonSets(ctx.view, agent).map((ds) => ({ agent, ds })));
    return unavailable.map((node: KubeNode): FindingDraft => {
      const name = node.metadata?.name ?? '';
      const ref: ObjectRef = { apiVersion: 'v1', kind: 'Node', name };
      const cond = networkUnavailableCondition(node)!;
      const tainted = (node.spec?.taints ?? []).some((t) => t.key === TAINT);
      const agents = installed.map((i) => ({ ...i, health: agentHealth(ctx.view, i.ds, ctx.now, [name]) }));
      const down = agents.find((a) => a.health.state !== 'healthy');
      const evidence: Evidence[] = [
        {
          type: 'object',
          text: `node/${name} NetworkUnavailable=True${cond.reason ? ` (${cond.reason})` : ''}${cond.message ? `: ${cond.message}` : ''}, for ${formatAge(ageMs(cond.lastTransitionTime, ctx.now))}${tainted ? `; taint ${TAINT}:NoSchedule` : ''}`,
          command: kubectl.describe(ref),
        },
        ...agents.map((a): Evidence => ({ type: 'object', text: `${refLabel(refOf('DaemonSet', a.ds))} (${a.agent.product}): ${a.health.why}`, command: kubectl.get(refOf('DaemonSet', a.ds), 'wide') })),
      ];
      const all = unavailable.length === nodes.length;
      const severity = all ? 'critical' : 'warning';
      const consequence = `the scheduler keeps new pods off it${tainted ? ` (taint ${TAINT})` : ''} and pods already there may have no route to other nodes`;
      if (down) {
        // The CNI agent finding (cni-not-running) is the root cause and lists this node in its explains.
        return {
          severity,
          title: 'NetworkUnavailable: its CNI agent is not running there',
          summary: `Node ${name} reports NetworkUnavailable=True because the ${down.agent.product} agent (${refLabel(refOf('DaemonSet', down.ds))}) is ${down.health.state === 'starting' ? 'still starting' : 'not running'} there; ${consequence}.`,
          subject: ref,
          evidence,
          rootCause: false,
        };
      }
      return {
        severity,
        title: 'Node reports NetworkUnavailable',
        summary:
          `Node ${name} has had NetworkUnavailable=True${cond.reason ? ` (${cond.reason})` : ''} for ${formatAge(ageMs(cond.lastTransitionTime, ctx.now))}: whatever programs its pod network (the cloud route controller, or a CNI that reports this condition) has not done so, and ${consequence}.` +
          (agents.length > 0 ? ` The CNI agent${agents.length > 1 ? 's' : ''} look${agents.length > 1 ? '' : 's'} healthy, so look at routes.` : ''),
        subject: ref,
        evidence,
        rootCause: true,
        explains: [ref, ...ctx.view.list('Pod').filter((p) => p.spec?.nodeName === name && !p.spec?.hostNetwork && !p.status?.podIP).map((p) => refOf('Pod', p))],
        advice: [
          agents.length > 0
            ? `Read the CNI agent's log on ${name} (it sets the condition when it has configured the node), e.g. kubectl -n ${agents[0]!.ds.metadata?.namespace} logs -l ${Object.entries(agents[0]!.ds.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} --all-containers --tail=50`
            : `No CNI agent netdoctor knows runs here: on a cloud cluster, check the route controller of the cloud-controller-manager (kubectl -n kube-system logs -l component=cloud-controller-manager) and the VPC route table for ${name}'s pod CIDR (${node.spec?.podCIDR ?? 'spec.podCIDR'}).`,
          'Do not patch the node status by hand: the controller that owns the condition would keep the routes missing.',
        ],
      };
    });
  },
};
