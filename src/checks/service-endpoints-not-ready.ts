import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refOf } from '../domain/object-ref';
import { START_GRACE_MS, ageMs } from './support/age';
import { eventEvidence, objectEvidence, warningEvents } from './support/evidence';
import { isReady, owningWorkload, podState, waitingReasons, CONTAINER_STATUS_READS } from './support/pods';
import { hasSelector, selectedPods, serviceEndpoints, servicesInScope, svcRef } from './support/services';

/** `httpGet :8080/ready`, `tcpSocket :3306`, `exec mysqladmin ping`. */
function describeProbe(probe: NonNullable<NonNullable<Pod['spec']>['containers'][number]['readinessProbe']>): string {
  if (probe.httpGet) return `httpGet :${probe.httpGet.port}${probe.httpGet.path ?? '/'}`;
  if (probe.tcpSocket) return `tcpSocket :${probe.tcpSocket.port}`;
  if (probe.grpc) return `grpc :${probe.grpc.port}`;
  if (probe.exec) return `exec ${(probe.exec.command ?? []).join(' ')}`;
  return 'probe';
}

/** Younger than the start grace period with no warning event: starting, not failing. */
function stillStarting(ctx: CheckContext, pod: Pod): boolean {
  const age = ageMs(pod.metadata?.creationTimestamp, ctx.now);
  return age !== undefined && age < START_GRACE_MS && warningEvents(ctx.view, refOf('Pod', pod)).length === 0;
}

function stateText(pod: Pod): string {
  const state = podState(pod);
  if (state === 'running') return 'Running, not Ready';
  return waitingReasons(pod)[0] ?? pod.status?.phase ?? state;
}

/**
 * SVC-05: a Service whose endpoints exist (or whose selected pods exist) but none is Ready.
 * Always a symptom: what keeps the pods from being Ready (a failing readiness probe, a crash loop,
 * Pending, no CNI) is a fault of the pods, their workload or their node. It names the pods and
 * workloads in `dependsOn`, so the engine hangs it under the finding about them.
 */
export const serviceEndpointsNotReady: Check = {
  id: 'service-endpoints-not-ready',
  title: 'Service has endpoints but none is Ready',
  codes: ['SVC-READINESS-FAILING', 'SVC-NO-READY-ENDPOINTS'],
  needs: ['Service', 'Pod', 'EndpointSlice', 'Endpoints', 'Event', 'ReplicaSet'],
  reads: {
    EndpointSlice: ['endpoints', 'metadata.labels'],
    Endpoints: ['subsets'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.creationTimestamp', 'metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.containers.readinessProbe', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.selector', 'spec.type'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const svc of servicesInScope(ctx)) {
      if (!hasSelector(svc)) continue;
      const ns = svc.metadata?.namespace;
      const eps = serviceEndpoints(ctx.view, svc);
      const live = eps.endpoints.filter((e) => !e.terminating);
      if (live.some((e) => e.ready)) continue;
      const selected = selectedPods(ctx.view, svc);
      let backing: Pod[];
      if (live.length > 0) {
        const fromRefs = live.map((e) => (e.pod ? ctx.view.get('Pod', e.pod.namespace, e.pod.name) : undefined)).filter((p): p is Pod => p !== undefined);
        backing = fromRefs.length > 0 ? fromRefs : selected.filter((p) => !isReady(p));
      } else {
        // No endpoint at all: a selector matching nothing is service-no-endpoints', ready pods left out is a port problem.
        if (selected.length === 0 || selected.some(isReady)) continue;
        backing = selected;
      }
      if (backing.length === 0) continue;
      // A rollout's new pods: still starting, nothing gone wrong yet, not a finding.
      if (backing.every((p) => stillStarting(ctx, p))) continue;
      const ref = svcRef(svc);
      const podRefs = backing.map((p) => refOf('Pod', p));
      const workloads = [...new Map(backing.map((p) => owningWorkload(ctx.view, p)).map((w) => [refKey(w), w])).values()];
      const probeFailing = backing.every((p) => podState(p) === 'running');
      const evidence: Evidence[] = [
        {
          type: 'command',
          text: live.length > 0 ? `${live.length} endpoint(s) from ${eps.source}, none Ready: ${live.map((e) => `${e.ip}${e.pod ? ` (${e.pod.name})` : ''}`).join(', ')}` : `no endpoints; ${selected.length} selected pod(s), none Ready`,
          command: eps.command,
        },
      ];
      let probes = 0;
      for (const pod of backing.slice(0, 3)) {
        const pref = refOf('Pod', pod);
        const probe = (pod.spec?.containers ?? []).find((c) => c.readinessProbe);
        evidence.push(objectEvidence(pref, `pod/${pref.name}: ${stateText(pod)}${probe?.readinessProbe ? `; readinessProbe ${probe.name}: ${describeProbe(probe.readinessProbe)}` : ''}`, kubectl.describe(pref)));
        const unhealthy = warningEvents(ctx.view, pref, ['Unhealthy']).filter((e) => /^Readiness probe/i.test(e.message ?? '')).slice(-1);
        probes += unhealthy.length;
        for (const e of unhealthy) evidence.push(eventEvidence(e, pref));
      }
      const states = [...new Set(backing.map(stateText))].join(', ');
      const explains: ObjectRef[] = [ref, ...podRefs, ...workloads];
      const dependsOn: ObjectRef[] = [...new Map([...podRefs, ...workloads].map((r) => [refKey(r), r])).values()];
      if (probeFailing) {
        findings.push({
          severity: 'critical',
          code: 'SVC-READINESS-FAILING',
          title: 'No ready endpoints: readiness probe failing',
          summary:
            `All ${backing.length} pod(s) behind Service ${ns}/${ref.name} run but fail their readiness probe${probes > 0 ? '' : ' (no Unhealthy event left; events expire after an hour)'}, ` +
            `so the Service has no ready endpoints and connections to it are refused.`,
          subject: ref,
          evidence,
          rootCause: false,
          explains,
          dependsOn,
          advice: [
            `Check what the probe calls against what the application serves (path, port, start-up time): ${kubectl.describe(podRefs[0]!)}`,
            `Read the application's log: kubectl logs -n ${ns} ${podRefs[0]!.name}`,
          ],
          plan: null,
        });
      } else {
        findings.push({
          severity: 'critical',
          code: 'SVC-NO-READY-ENDPOINTS',
          title: `No ready endpoints: pods are ${states}`,
          summary: `Service ${ns}/${ref.name} has no ready endpoint because its ${backing.length} pod(s) are ${states}; it answers again once they run.`,
          subject: ref,
          evidence,
          rootCause: false,
          explains,
          dependsOn,
          plan: null,
        });
      }
    }
    return findings;
  },
};
