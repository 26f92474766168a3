import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { KubeNode } from '../domain/kube-types';
import { type ObjectRef, kubectl, refLabel, refOf } from '../domain/object-ref';
import { ageMs, formatAge } from './support/age';
import { CNI_AGENTS, agentDaemonSets, agentHealth, explainsForPods, networkUnavailableCondition } from './support/cni';
import { eventEvidence, warningEvents } from './support/evidence';
import { CONTAINER_STATUS_READS } from './support/pods';
import { podsKeptOffByTaint } from './support/scheduling';

const TAINT = 'node.kubernetes.io/network-unavailable';

/**
 * The route controller's event (k8s.io/cloud-provider controllers/route/route_controller.go, reason FailedToCreateRoute):
 * `Could not create route <hint> <pod CIDR> for node <node> after <duration>: <cloud error>`.
 */
const ROUTE_FAILURE = /^Could not create route (\S+) (\S+) for node (\S+) after [^:]+: ([\s\S]+)$/;

export const nodeNetworkUnavailable: Check = {
  id: 'node-network-unavailable',
  title: 'Nodes with NetworkUnavailable=True (no pod network routes; new pods kept off)',
  codes: ['NODE-NETWORK-UNAVAILABLE', 'NODE-ROUTE-MISSING'],
  needs: ['Node', 'DaemonSet', 'Pod', 'Event', 'Service', 'ReplicaSet'],
  reads: {
    DaemonSet: ['metadata.creationTimestamp', 'metadata.generation', 'spec.selector', 'spec.template.metadata.labels', 'status'],
    Event: ['count', 'message', 'reason', 'type'],
    Node: ['spec.podCIDRs', 'spec.taints', 'status.conditions'],
    Pod: ['metadata.labels', 'metadata.ownerReferences', 'spec.hostNetwork', 'spec.nodeName', 'spec.tolerations', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase', 'status.podIP', 'status.startTime'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.selector'],
  },
  // Events about cluster-scoped objects (the route controller's, about a Node) are recorded in namespace default.
  alsoReads: [{ kind: 'Event', namespace: 'default' }],
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
          code: 'NODE-NETWORK-UNAVAILABLE',
          title: 'NetworkUnavailable: its CNI agent is not running there',
          summary: `Node ${name} reports NetworkUnavailable=True because the ${down.agent.product} agent (${refLabel(refOf('DaemonSet', down.ds))}) is ${down.health.state === 'starting' ? 'still starting' : 'not running'} there; ${consequence}.`,
          subject: ref,
          evidence,
          rootCause: false,
        };
      }
      const routeEvent = warningEvents(ctx.view, ref, ['FailedToCreateRoute']).slice(-1)[0];
      const route = routeEvent ? ROUTE_FAILURE.exec(routeEvent.message ?? '') : null;
      const routes = Boolean(routeEvent) || cond.reason === 'NoRouteCreated';
      const keptOff = podsKeptOffByTaint(ctx.view, node, TAINT);
      const cidrs = node.spec?.podCIDRs?.join(', ') || node.spec?.podCIDR || 'spec.podCIDR';
      if (routeEvent) evidence.push(eventEvidence(routeEvent, ref));
      for (const k of keptOff.slice(0, 2)) {
        const podRef = refOf('Pod', k.pod);
        evidence.push({ type: 'event', text: `pod ${podRef.namespace}/${podRef.name} Pending: ${k.message}`, command: kubectl.events(podRef) });
      }
      if (keptOff.length > 2) evidence.push({ type: 'object', text: `${keptOff.length} pods Pending that do not tolerate ${TAINT}: ${keptOff.map((k) => `${k.pod.metadata?.namespace}/${k.pod.metadata?.name}`).join(', ')}`, command: 'kubectl get pods -A --field-selector status.phase=Pending' });
      const what = routes
        ? `the cloud route controller has not created the route to its pod CIDR ${route?.[2] ?? cidrs}${route ? `: the cloud API answers "${route[4]}"` : ` (reason ${cond.reason})`}`
        : 'whatever programs its pod network (the cloud route controller, or a CNI that reports this condition) has not done so';
      const pending = keptOff.length > 0 ? ` ${keptOff.length} pod${keptOff.length === 1 ? ' is' : 's are'} Pending because ${keptOff.length === 1 ? 'it does' : 'they do'} not tolerate the taint.` : '';
      return {
        severity: all || keptOff.length > 0 ? 'critical' : severity,
        code: routes ? 'NODE-ROUTE-MISSING' : 'NODE-NETWORK-UNAVAILABLE',
        title: routes ? `Node ${name} has no cloud route for its pod CIDR (NetworkUnavailable)` : 'Node reports NetworkUnavailable',
        summary:
          `Node ${name} has had NetworkUnavailable=True${cond.reason ? ` (${cond.reason})` : ''} for ${formatAge(ageMs(cond.lastTransitionTime, ctx.now))}: ${what}, and ${consequence}.${pending}` +
          (agents.length > 0 ? ` The CNI agent${agents.length > 1 ? 's' : ''} look${agents.length > 1 ? '' : 's'} healthy, so look at routes.` : ''),
        subject: ref,
        evidence,
        rootCause: true,
        explains: explainsForPods(
          ctx.view,
          keptOff.map((k) => k.pod),
          [ref, ...ctx.view.list('Pod').filter((p) => p.spec?.nodeName === name && !p.spec?.hostNetwork && !p.status?.podIP).map((p) => refOf('Pod', p))],
        ),
        advice: [
          ...(routes
            ? [
                `The route controller (cloud-controller-manager, or kube-controller-manager with --configure-cloud-routes) retries on its own: fix what the cloud API refuses${route ? ` ("${route[4]}")` : ''} — route table quota, the controller's cloud permissions, or the instance it cannot find — then watch: kubectl get events --field-selector involvedObject.name=${name},reason=FailedToCreateRoute`,
                `Once the route for ${cidrs} exists the controller sets NetworkUnavailable=False (RouteCreated) and the ${TAINT} taint is lifted; the Pending pods then schedule by themselves.`,
              ]
            : [
                agents.length > 0
                  ? `Read the CNI agent's log on ${name} (it sets the condition when it has configured the node), e.g. kubectl -n ${agents[0]!.ds.metadata?.namespace} logs -l ${Object.entries(agents[0]!.ds.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} --all-containers --tail=50`
                  : `No CNI agent netdoctor knows runs here: on a cloud cluster, check the route controller of the cloud-controller-manager (kubectl -n kube-system logs -l component=cloud-controller-manager) and the VPC route table for ${name}'s pod CIDR (${cidrs}).`,
              ]),
          'Do not patch the node status by hand, nor tolerate the taint: the pods would land on a node whose pod network is not routed.',
        ],
      };
    });
  },
};
