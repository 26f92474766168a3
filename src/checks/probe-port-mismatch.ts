import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { KubeEvent, Pod, Service } from '../domain/kube-types';
import { type ObjectRef, refKey, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import { eventEvidence, objectEvidence } from './support/evidence';
import { pointer, testAndReplace } from './support/json-patch';
import { owningWorkload } from './support/pods';
import { type PodSpec, declaredPorts, selectedPods } from './support/services';

const ID = 'probe-port-mismatch';
type ProbeField = 'readinessProbe' | 'livenessProbe' | 'startupProbe';
const FIELD: Record<string, ProbeField> = { Readiness: 'readinessProbe', Liveness: 'livenessProbe', Startup: 'startupProbe' };
type Handler = 'httpGet' | 'tcpSocket' | 'grpc';

/**
 * The kubelet's Unhealthy event: `<Readiness|Liveness|Startup> probe failed: <output>` (pkg/kubelet/prober/prober.go).
 * The output of a refused HTTP probe is Go's url.Error, `Get "http://10.244.0.5:8081/": dial tcp 10.244.0.5:8081: connect: connection refused`
 * (pkg/probe/http/http.go returns err.Error()); of a TCP probe, the net.OpError `dial tcp 10.244.0.5:8081: connect: connection refused` (pkg/probe/tcp/tcp.go).
 */
const PROBE_FAILED = /^(Readiness|Liveness|Startup) probe failed: ([\s\S]*)$/;
const REFUSED = /dial tcp (\S+):(\d+): connect: connection refused/;

/** pkg/probe/http/http.go: `HTTP probe failed with statuscode: %d`; a 404 says the path is not served at all. */
const NOT_FOUND = /^HTTP probe failed with statuscode: 404$/;

export interface RefusedProbe {
  type: 'Readiness' | 'Liveness' | 'Startup';
  port: number;
  output: string;
}

/** A probe the kubelet found refused: which probe and on which port. Undefined for other probe failures (timeouts, status codes, exec). */
export function refusedProbe(message: string | undefined): RefusedProbe | undefined {
  const m = PROBE_FAILED.exec((message ?? '').trim());
  const refused = m ? REFUSED.exec(m[2]!) : null;
  if (!m || !refused) return undefined;
  return { type: m[1] as RefusedProbe['type'], port: Number(refused[2]), output: m[2]!.trim() };
}

/** A probe answered 404: the port is served, the path is not. */
export function notFoundProbe(message: string | undefined): RefusedProbe['type'] | undefined {
  const m = PROBE_FAILED.exec((message ?? '').trim());
  return m && NOT_FOUND.test(m[2]!.trim()) ? (m[1] as RefusedProbe['type']) : undefined;
}

interface Template {
  ref: ObjectRef & { apiVersion: string };
  spec: PodSpec;
  resourceVersion?: string;
}

/** The workload whose pod template stamps the pod: the plan patches it, never the pod. */
function templateOf(ctx: CheckContext, pod: Pod): Template | undefined {
  const owner = owningWorkload(ctx.view, pod);
  const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const;
  const kind = kinds.find((k) => k === owner.kind);
  const w = kind ? ctx.view.get(kind, owner.namespace, owner.name) : undefined;
  const spec = w?.spec?.template?.spec;
  if (!kind || !w || !spec) return undefined;
  return { ref: { ...refOf(kind, w), apiVersion: 'apps/v1' }, spec, resourceVersion: w.metadata?.resourceVersion };
}

function handlerOf(probe: NonNullable<PodSpec['containers'][number]['readinessProbe']>): { handler: Handler; port: number | string } | undefined {
  if (probe.httpGet) return { handler: 'httpGet', port: probe.httpGet.port };
  if (probe.tcpSocket) return { handler: 'tcpSocket', port: probe.tcpSocket.port };
  if (probe.grpc) return { handler: 'grpc', port: probe.grpc.port };
  return undefined;
}

function consequenceOf(type: RefusedProbe['type'], services: readonly { metadata?: { name?: string } }[]): string {
  if (type === 'Liveness') return 'the kubelet kills and restarts the container after every failureThreshold failures';
  if (type === 'Startup') return 'the container never finishes starting and is restarted';
  return `the pods never become Ready, so ${services.length > 0 ? `Service ${services.map((s) => s.metadata?.name).join(', ')} gets no ready endpoint` : 'no Service sends them traffic'}`;
}

/** The pods of the probe's workload and the Services that select them: what a bad probe keeps out of service. */
function reach(ctx: CheckContext, pod: Pod, template: Template | undefined): { siblings: Pod[]; services: Service[] } {
  const siblings = template ? ctx.view.list('Pod', pod.metadata?.namespace).filter((p) => refKey(owningWorkload(ctx.view, p)) === refKey(template.ref)) : [pod];
  const services = ctx.view.list('Service', pod.metadata?.namespace).filter((s) => selectedPods(ctx.view, s).includes(pod));
  return { siblings, services };
}

const anyReady = (pods: Pod[]): boolean => pods.some((p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));

/** WL-PROBE-PATH: an httpGet probe whose path the application answers with 404 (no exact plan: only the app knows its health path). */
function pathNotFound(ctx: CheckContext, pod: Pod, event: KubeEvent, type: RefusedProbe['type'], seen: Set<string>): FindingDraft | undefined {
  const field = FIELD[type]!;
  const container = (pod.spec?.containers ?? []).find((c) => c[field]?.httpGet);
  const probe = container?.[field]?.httpGet;
  if (!container || !probe) return undefined;
  const template = templateOf(ctx, pod);
  // The template probes another path by now: fixed, and the rollout replaces these pods.
  if (template && (template.spec.containers ?? []).find((c) => c.name === container.name)?.[field]?.httpGet?.path !== probe.path) return undefined;
  const subject: ObjectRef = template?.ref ?? refOf('Pod', pod);
  const key = `${refKey(subject)}/${container.name}/${field}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const { siblings, services } = reach(ctx, pod, template);
  const path = probe.path ?? '/';
  return {
    code: 'WL-PROBE-PATH',
    severity: type === 'Readiness' && anyReady(siblings) ? 'warning' : 'critical',
    title: `${type} probe of ${subject.name} calls ${path}, which answers 404`,
    summary:
      `${subject.kind} ${subject.namespace}/${subject.name} probes container ${container.name} with httpGet ${path} on port ${probe.port} (${field}); the application serves that port but not that path. ` +
      `The kubelet reports "${type} probe failed: HTTP probe failed with statuscode: 404", and ${consequenceOf(type, services)}.`,
    subject,
    evidence: [objectEvidence(subject, `${subject.kind.toLowerCase()}/${subject.name} container ${container.name}: ${field} httpGet port ${probe.port} path ${path}`), eventEvidence(event, refOf('Pod', pod))],
    rootCause: true,
    explains: [subject, ...siblings.map((p) => refOf('Pod', p)), ...services.map((s) => refOf('Service', s))],
    advice: [`Point the ${field} path at the application's health endpoint (curl it from a pod: kubectl -n ${subject.namespace} exec ${pod.metadata?.name} -- wget -qO- http://localhost:${probe.port}${path}).`],
    plan: null,
  };
}

/**
 * WL-01: a readiness/liveness/startup probe aimed at a port no container of the pod declares, refused by the kubelet's
 * probe, while the container declares another port (WL-PROBE-PORT), or an httpGet path the application answers with 404
 * (WL-PROBE-PATH). The cause is the probe in the workload's template (not the Service, not the app): the pods never
 * become Ready (readiness) or are restarted (liveness).
 */
export const probePortMismatch: Check = {
  id: ID,
  title: 'Probe on a port or path the container does not serve (kubelet: connection refused, 404)',
  codes: ['WL-PROBE-PORT', 'WL-PROBE-PATH'],
  needs: ['Pod', 'Event', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  reads: {
    Deployment: ['metadata.resourceVersion', 'spec.template.spec.containers.livenessProbe', 'spec.template.spec.containers.name', 'spec.template.spec.containers.readinessProbe'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.livenessProbe', 'spec.containers.name', 'spec.containers.ports', 'spec.containers.readinessProbe', 'status.conditions', 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.selector', 'spec.type'],
    StatefulSet: ['metadata.resourceVersion', 'spec.template.spec.containers.livenessProbe', 'spec.template.spec.containers.name'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    const seen = new Set<string>();
    for (const pod of ctx.view.list('Pod', ctx.namespace)) {
      const events = ctx.view.events(refOf('Pod', pod)).filter((e) => e.type === 'Warning' && e.reason === 'Unhealthy');
      for (const e of [...events].reverse()) {
        const type = notFoundProbe(e.message);
        const f = type ? pathNotFound(ctx, pod, e, type, seen) : undefined;
        if (f) findings.push(f);
      }
      const refusals = events.map((e) => ({ e, r: refusedProbe(e.message) })).filter((x): x is { e: KubeEvent; r: RefusedProbe } => x.r !== undefined);
      for (const { e, r } of refusals.reverse()) {
        const field = FIELD[r.type]!;
        const declared = declaredPorts(pod.spec);
        if (declared.some((d) => d.port === r.port && d.protocol === 'TCP')) continue; // something should serve it: an app problem, not the probe
        const containerIndex = (pod.spec?.containers ?? []).findIndex((c) => {
          const h = c[field] ? handlerOf(c[field]) : undefined;
          return h !== undefined && h.port === r.port;
        });
        const container = pod.spec?.containers[containerIndex];
        if (!container) continue;
        const own = declared.filter((d) => d.container === container.name && d.protocol === 'TCP');
        if (own.length === 0) continue; // nothing declared: the app may listen anywhere, the spec cannot tell what is right
        const template = templateOf(ctx, pod);
        const subject: ObjectRef = template?.ref ?? refOf('Pod', pod);
        const key = `${refKey(subject)}/${container.name}/${field}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const handler = handlerOf(container[field]!)!;
        const { siblings, services } = reach(ctx, pod, template);
        const only = own.length === 1 ? own[0]! : undefined;
        const tIndex = template ? (template.spec.containers ?? []).findIndex((c) => c.name === container.name) : -1;
        const tProbe = tIndex >= 0 ? template!.spec.containers[tIndex]![field] : undefined;
        const tHandler = tProbe ? handlerOf(tProbe) : undefined;
        // The template no longer probes that port: fixed, and the rollout replaces these pods.
        if (template && tHandler?.port !== r.port) continue;
        const path = `/spec/template/spec${pointer('containers', tIndex, field, handler.handler, 'port')}`;
        const plan: Plan | null =
          only && template && tHandler?.handler === handler.handler && tHandler.port === r.port
            ? makePlan({
                summary: `Set the ${r.type.toLowerCase()} probe port of ${template.ref.kind.toLowerCase()}/${template.ref.name} (${container.name}) ${r.port} → ${only.port}`,
                risk: 'medium',
                effect: `the ${template.ref.kind} rolls out new pods whose ${r.type.toLowerCase()} probe calls port ${only.port}`,
                operations: [{ action: 'patch', target: template.ref, patchType: 'json', patch: testAndReplace(path, r.port, only.port), resourceVersion: template.resourceVersion }],
                verify: { check: ID, subject: template.ref, waitFor: 'rollout' },
              })
            : null;
        const consequence = consequenceOf(r.type, services);
        const evidence: Evidence[] = [
          objectEvidence(subject, `${subject.kind.toLowerCase()}/${subject.name} container ${container.name}: ${field} ${handler.handler} port ${r.port}${handler.handler === 'httpGet' ? ` path ${container[field]!.httpGet!.path ?? '/'}` : ''}; declared ports ${own.map((d) => `${d.port}/${d.protocol}${d.name ? ` (${d.name})` : ''}`).join(', ')}`),
          eventEvidence(e, refOf('Pod', pod)),
        ];
        findings.push({
          code: 'WL-PROBE-PORT',
          severity: r.type === 'Readiness' && anyReady(siblings) ? 'warning' : 'critical',
          title: `${r.type} probe of ${subject.name} calls port ${r.port}; the container serves ${own.map((d) => d.port).join(', ')}`,
          summary:
            `${subject.kind} ${subject.namespace}/${subject.name} probes container ${container.name} on port ${r.port} (${field}), which no container declares; the container declares ${own.map((d) => d.port).join(', ')}. ` +
            `The kubelet reports "${r.type} probe failed: ${r.output}", and ${consequence}.`,
          subject,
          evidence,
          rootCause: true,
          explains: [subject, ...siblings.map((p) => refOf('Pod', p)), ...services.map((s) => refOf('Service', s))],
          advice: plan ? [] : [`Point the ${field} at the port the application listens on (declared: ${own.map((d) => d.port).join(', ')}).`],
          plan,
        });
      }
    }
    return findings;
  },
};
