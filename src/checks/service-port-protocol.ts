import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { Pod, Service } from '../domain/kube-types';
import { refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { pointer, testAndReplace } from './support/json-patch';
import { owningWorkload } from './support/pods';
import { type DeclaredPort, declaredPorts, hasSelector, resolveTargetPort, selectedPods, servicesInScope, svcRef } from './support/services';

const ID = 'service-port-protocol';

/** The ports the pods declare for a targetPort (by number or name) under any protocol. */
function declaredUnderAnyProtocol(pods: Pod[], target: number | string): DeclaredPort[] {
  return pods.flatMap((p) => declaredPorts(p.spec).filter((d) => (typeof target === 'number' ? d.port === target : d.name === target)));
}

/** Another port entry of the Service already carries this port under that protocol (DNS-style TCP+UDP pairs). */
function pairedElsewhere(svc: Service, index: number, port: number, protocol: string): boolean {
  return (svc.spec?.ports ?? []).some((p, i) => i !== index && p.port === port && (p.protocol ?? 'TCP') === protocol);
}

/**
 * SVC-06: a Service port whose protocol (TCP/UDP/SCTP) differs from the protocol of the container port it targets.
 * kube-proxy programs rules only for the Service's protocol, so clients speaking the container's protocol find no
 * rule at the ClusterIP (TCP: refused or timed out), and a named targetPort resolves to no endpoint at all.
 */
export const servicePortProtocol: Check = {
  id: ID,
  title: "Service port protocol differs from the container port's protocol",
  codes: ['SVC-PORT-PROTOCOL'],
  needs: ['Service', 'Pod', 'ReplicaSet'],
  reads: {
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.containers.ports', 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['metadata.resourceVersion', 'spec.ports', 'spec.selector', 'spec.type'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const svc of servicesInScope(ctx)) {
      if (!hasSelector(svc)) continue;
      const pods = selectedPods(ctx.view, svc);
      if (pods.length === 0) continue;
      const ref = svcRef(svc);
      (svc.spec?.ports ?? []).forEach((sp, index) => {
        const target = sp.targetPort ?? sp.port;
        const protocol = sp.protocol ?? 'TCP';
        if (pods.some((p) => resolveTargetPort(p, target, protocol))) return;
        const others = declaredUnderAnyProtocol(pods, target).filter((d) => d.protocol !== protocol);
        const served = [...new Set(others.map((d) => d.protocol))];
        if (served.length === 0 || served.some((proto) => pairedElsewhere(svc, index, sp.port, proto))) return;
        const workloads = [...new Map(pods.map((p) => owningWorkload(ctx.view, p)).map((w) => [`${w.kind}/${w.name}`, w])).values()];
        const only = served.length === 1 ? served[0]! : undefined;
        const path = pointer('spec', 'ports', index, 'protocol');
        // An absent protocol defaults to TCP; `add` then sets it, guarded by a test of the port number.
        const patch =
          sp.protocol === undefined
            ? [
                { op: 'test' as const, path: pointer('spec', 'ports', index, 'port'), value: sp.port },
                { op: 'add' as const, path, value: only },
              ]
            : testAndReplace(path, sp.protocol, only);
        findings.push({
          code: 'SVC-PORT-PROTOCOL',
          severity: 'critical',
          title: `Service ${ref.name} port ${sp.port} is ${protocol}, its pods serve ${target}/${served.join('/')}`,
          summary:
            `Service ${ref.namespace}/${ref.name} port ${sp.port}/${protocol} targets ${JSON.stringify(target)}, which the pods of ${workloads.map((w) => `${w.kind} ${w.name}`).join(', ')} declare as ${served.join(' and ')}. ` +
            `kube-proxy only programs ${protocol} rules for this port, so ${served.join('/')} clients of the ClusterIP reach nothing (TCP: connection refused or timeout)` +
            `${typeof target === 'string' ? ', and the named targetPort resolves to no endpoint' : ''}.`,
          subject: ref,
          evidence: [
            objectEvidence(ref, `service/${ref.name} ports[${index}]: port ${sp.port}/${protocol} → targetPort ${JSON.stringify(target)}`),
            ...pods.slice(0, 3).map((p) => objectEvidence(refOf('Pod', p), `pod/${p.metadata?.name} declares ${declaredPorts(p.spec).map((d) => `${d.container}:${d.port}/${d.protocol}${d.name ? ` (${d.name})` : ''}`).join(', ')}`)),
          ],
          rootCause: true,
          explains: [ref],
          advice: only ? [] : [`The pods declare ${target} under several protocols (${served.join(', ')}): add one Service port per protocol.`],
          plan: only
            ? makePlan({
                summary: `Set service/${ref.name} port ${sp.port} protocol ${protocol} → ${only}`,
                risk: 'low',
                effect: `kube-proxy reprograms the ClusterIP rules for ${only}; nothing restarts`,
                operations: [{ action: 'patch', target: ref, patchType: 'json', patch, resourceVersion: svc.metadata?.resourceVersion }],
                verify: { check: ID, subject: ref, waitFor: 'endpoints' },
              })
            : null,
        });
      });
    }
    return findings;
  },
};
