import type { V1ServicePort } from '@kubernetes/client-node';
import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import type { Pod, Service, Wire } from '../domain/kube-types';
import { refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { owningWorkload } from './support/pods';
import { type DeclaredPort, declaredPorts, formatPort, hasSelector, resolveTargetPort, selectedPods, serviceEndpoints, servicesInScope, svcRef } from './support/services';

const ID = 'service-target-port';
type ServicePort = Wire<V1ServicePort>;

const portLabel = (p: DeclaredPort): string => `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`;

/** Ports the pods declare for this protocol, minus those other ports of the same Service already target. */
function spareDeclaredPorts(svc: Service, pods: Pod[], index: number, protocol: string): DeclaredPort[] {
  const ports = svc.spec?.ports ?? [];
  const claimed = ports.filter((_, i) => i !== index).map((p) => p.targetPort ?? p.port);
  const seen = new Map<string, DeclaredPort>();
  for (const pod of pods) {
    for (const d of declaredPorts(pod.spec)) {
      if (d.protocol !== protocol || claimed.includes(d.port) || (d.name !== undefined && claimed.includes(d.name))) continue;
      seen.set(`${d.port}/${d.name ?? ''}`, d);
    }
  }
  return [...seen.values()];
}

function patchFor(svc: Service, index: number, sp: ServicePort, value: number | string): JsonPatchOp[] {
  const path = pointer('spec', 'ports', index, 'targetPort');
  if (sp.targetPort === undefined) {
    return [
      { op: 'test', path: pointer('spec', 'ports', index, 'port'), value: sp.port },
      { op: 'add', path, value },
    ];
  }
  return testAndReplace(path, sp.targetPort, value);
}

/** SVC-02 / SVC-03: a Service targetPort that the selected pods do not declare (numeric) or do not define (named). */
export const serviceTargetPort: Check = {
  id: ID,
  title: 'Service targetPort is not a port the selected pods expose',
  codes: ['SVC-TARGET-PORT'],
  needs: ['Service', 'Pod', 'EndpointSlice', 'Endpoints', 'ReplicaSet'],
  reads: {
    EndpointSlice: ['endpoints', 'metadata.labels'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.containers.ports', 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['metadata.resourceVersion', 'spec.ports', 'spec.selector', 'spec.type'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const svc of servicesInScope(ctx)) {
      if (!hasSelector(svc)) continue;
      const pods = selectedPods(ctx.view, svc);
      if (pods.length === 0) continue; // service-no-endpoints' case
      const ref = svcRef(svc);
      const ns = ref.namespace;
      (svc.spec?.ports ?? []).forEach((sp, index) => {
        const target = sp.targetPort ?? sp.port;
        const protocol = sp.protocol ?? 'TCP';
        if (pods.some((p) => resolveTargetPort(p, target, protocol))) return;
        // Declared under another protocol: service-port-protocol's case, not a wrong port.
        if (pods.some((p) => declaredPorts(p.spec).some((d) => (typeof target === 'number' ? d.port === target : d.name === target)))) return;
        const named = typeof target === 'string';
        const declaring = pods.filter((p) => declaredPorts(p.spec).length > 0);
        // A numeric port works without being declared; when nothing is declared we cannot tell, so we stay quiet.
        if (!named && declaring.length === 0) return;
        const spare = spareDeclaredPorts(svc, pods, index, protocol);
        const only = spare.length === 1 ? spare[0]! : undefined;
        const newValue = only ? (named && only.name ? only.name : only.port) : undefined;
        const workloads = [...new Map(pods.map((p) => owningWorkload(ctx.view, p)).map((w) => [`${w.kind}/${w.name}`, w])).values()];
        const who = workloads.map((w) => `${w.kind} ${w.name}`).join(', ');
        const exposed = [...new Set(pods.flatMap((p) => declaredPorts(p.spec).map(portLabel)))];
        const eps = serviceEndpoints(ctx.view, svc);
        const plan: Plan | null =
          newValue === undefined
            ? null
            : makePlan({
                summary: `Set service/${ref.name} port ${formatPort({ ...sp, port: sp.port })} targetPort ${JSON.stringify(target)} → ${JSON.stringify(newValue)}`,
                risk: 'low',
                effect: 'the Service forwards to the port the pods serve as soon as its endpoints update; nothing restarts',
                operations: [{ action: 'patch', target: ref, patchType: 'json', patch: patchFor(svc, index, sp, newValue), resourceVersion: svc.metadata?.resourceVersion }],
                verify: { check: ID, subject: ref, waitFor: 'endpoints' },
              });
        const consequence = named
          ? `the endpoints controller skips pods without that port name, so the Service has no endpoints (${eps.endpoints.length} now) and connections are refused`
          : 'traffic reaches the pods on a port nothing declares, so connections are most likely refused or time out';
        findings.push({
          severity: named || only ? 'critical' : 'warning',
          code: 'SVC-TARGET-PORT',
          title: named
            ? `Named targetPort "${target}" is not defined on its pods`
            : `targetPort ${target} is not a port its pods expose`,
          summary:
            `Service ${ns}/${ref.name} sends port ${sp.port}/${protocol} to targetPort ${JSON.stringify(target)}, but the pods of ${who} ` +
            `declare ${exposed.length > 0 ? exposed.join(', ') : 'no ports'}: ${consequence}.`,
          subject: ref,
          evidence: [
            objectEvidence(ref, `service/${ref.name} ports[${index}]: port ${sp.port}/${protocol} → targetPort ${JSON.stringify(target)}`),
            ...pods.slice(0, 3).map((p) =>
              objectEvidence(refOf('Pod', p), `pod/${p.metadata?.name} declares ${declaredPorts(p.spec).map((d) => `${d.container}:${portLabel(d)}`).join(', ') || 'no ports'}`),
            ),
            { type: 'command', text: `${eps.endpoints.length} endpoint(s) from ${eps.source}`, command: eps.command },
          ],
          rootCause: true,
          explains: [ref],
          advice: plan
            ? []
            : [
                named
                  ? `Use the port's number or an existing port name, or add name: ${target} to the containerPort in the pod template: kubectl -n ${ns} edit service ${ref.name}`
                  : `Set targetPort to the port the application listens on (pods declare ${exposed.join(', ') || 'nothing'}): kubectl -n ${ns} edit service ${ref.name}`,
              ],
          plan,
        });
      });
    }
    return findings;
  },
};
