import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { NetworkPolicy, Pod, Service } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refOf } from '../domain/object-ref';
import { type Operation, makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { envReferences } from './support/hostnames';
import { type FlowPort, describePolicy, egressVerdict, ingressRuleMisses, ingressVerdict, isolates, selectsPod } from './support/netpol';
import { owningWorkload } from './support/pods';
import { notEnforced, policiesNotEnforced } from './support/policy-enforcement';
import { formatSelector } from './support/selectors';
import { declaredPorts, hasSelector, isLive, resolveTargetPort, selectedPods, servicesInScope, stableLabels, svcRef } from './support/services';

const ID = 'network-policy-blocks';
const NP_API = 'networking.k8s.io/v1';
const DNS_PORT: FlowPort = { port: 53, protocol: 'UDP' };

/** A workload whose pods name the Service in their env: the clients we know want to reach it. */
interface Talker {
  workload: ObjectRef;
  pods: Pod[];
  /** Labels that select exactly its pods (the workload's matchLabels, or the pod's labels minus generated ones). */
  labels: Record<string, string>;
  reference: string;
  ingressBlocked: boolean;
  egressBlocked: boolean;
  egressDnsBlocked: boolean;
}

/** The pod ports a Service port lands on, per backend pod (named targetPorts resolved on that pod). */
function flowPorts(svc: Service, pod: Pod): FlowPort[] {
  return (svc.spec?.ports ?? []).flatMap((sp) => {
    const target = sp.targetPort ?? sp.port;
    const protocol = sp.protocol ?? 'TCP';
    const declared = resolveTargetPort(pod, target, protocol);
    if (declared) return [{ port: declared.port, protocol, ...(declared.name ? { name: declared.name } : {}) }];
    return typeof target === 'number' ? [{ port: target, protocol }] : [];
  });
}

function dnsPods(ctx: CheckContext): Pod[] {
  return ctx.view.list('Pod', 'kube-system').filter((p) => isLive(p) && p.metadata?.labels?.['k8s-app'] === 'kube-dns');
}

function selectorOf(ctx: CheckContext, workload: ObjectRef, pod: Pod): Record<string, string> {
  const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const;
  const kind = kinds.find((k) => k === workload.kind);
  const matchLabels = kind ? ctx.view.get(kind, workload.namespace, workload.name)?.spec?.selector?.matchLabels : undefined;
  return matchLabels && Object.keys(matchLabels).length > 0 ? { ...matchLabels } : stableLabels(pod.metadata?.labels);
}

function talkersOf(ctx: CheckContext, svc: Service, backends: Pod[], known: ReadonlySet<string>): Talker[] {
  const target = { name: svc.metadata?.name ?? '', namespace: svc.metadata?.namespace ?? '' };
  const byWorkload = new Map<string, Talker>();
  for (const pod of ctx.view.list('Pod').filter(isLive)) {
    if (backends.includes(pod)) continue;
    const refs = envReferences(ctx.view, pod.metadata?.namespace ?? '', pod.spec, target, known);
    if (refs.length === 0) continue;
    const workload = owningWorkload(ctx.view, pod);
    const flows = backends.flatMap((b) => flowPorts(svc, b).map((port) => ({ b, port })));
    const ingressOk = flows.some(({ b, port }) => ingressVerdict(ctx.view, pod, b, port).allowed);
    const egressOk = flows.some(({ b, port }) => egressVerdict(ctx.view, pod, b, port).allowed);
    const dns = dnsPods(ctx);
    const egressDnsBlocked = dns.length > 0 && !dns.some((d) => egressVerdict(ctx.view, pod, d, DNS_PORT).allowed);
    const existing = byWorkload.get(refKey(workload));
    if (existing) {
      existing.pods.push(pod);
      continue;
    }
    byWorkload.set(refKey(workload), {
      workload,
      pods: [pod],
      labels: selectorOf(ctx, workload, pod),
      reference: refs.map((r) => `${r.variable}=${r.value}`).join(', '),
      ingressBlocked: flows.length > 0 && !ingressOk,
      egressBlocked: flows.length > 0 && !egressOk,
      egressDnsBlocked,
    });
  }
  return [...byWorkload.values()];
}

/** A DNS-1123 name of at most 63 characters. */
function policyName(parts: string[]): string {
  const name = `netdoctor-allow-${parts.join('-')}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return name.slice(0, 63).replace(/-+$/, '');
}

function allowPolicies(svc: Service, backendPorts: FlowPort[], blocked: Talker[]): Operation[] {
  const ns = svc.metadata?.namespace ?? '';
  const svcName = svc.metadata?.name ?? '';
  const ports = backendPorts.map((p) => ({ protocol: p.protocol, port: p.port }));
  const managed = { 'app.kubernetes.io/managed-by': 'netdoctor' };
  const ops: Operation[] = [];
  const ingressFrom = blocked.filter((t) => t.ingressBlocked);
  if (ingressFrom.length > 0) {
    const name = policyName([...ingressFrom.map((t) => t.workload.name), 'to', svcName]);
    ops.push({
      action: 'create',
      target: { apiVersion: NP_API, kind: 'NetworkPolicy', namespace: ns, name },
      body: {
        apiVersion: NP_API,
        kind: 'NetworkPolicy',
        metadata: { name, namespace: ns, labels: managed },
        spec: {
          podSelector: { matchLabels: { ...svc.spec?.selector } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: ingressFrom.map((t) =>
                t.workload.namespace === ns
                  ? { podSelector: { matchLabels: t.labels } }
                  : { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': t.workload.namespace } }, podSelector: { matchLabels: t.labels } },
              ),
              ports,
            },
          ],
        },
      },
    });
  }
  for (const t of blocked.filter((x) => x.egressBlocked)) {
    const name = policyName([t.workload.name, 'egress-to', svcName]);
    const to = t.workload.namespace === ns ? { podSelector: { matchLabels: { ...svc.spec?.selector } } } : { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: { ...svc.spec?.selector } } };
    const egress: Record<string, unknown>[] = [{ to: [to], ports }];
    if (t.egressDnsBlocked) {
      egress.push({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      });
    }
    ops.push({
      action: 'create',
      target: { apiVersion: NP_API, kind: 'NetworkPolicy', namespace: t.workload.namespace ?? ns, name },
      body: {
        apiVersion: NP_API,
        kind: 'NetworkPolicy',
        metadata: { name, namespace: t.workload.namespace ?? ns, labels: managed },
        spec: { podSelector: { matchLabels: t.labels }, policyTypes: ['Egress'], egress },
      },
    });
  }
  return ops;
}

const policyRef = (p: NetworkPolicy): ObjectRef => refOf('NetworkPolicy', p);

/**
 * NP-01: NetworkPolicies isolate a Service's pods and admit none of the pods that talk to it.
 * Talkers are the pods whose env names the Service (`DB_Host=mysql`, `http://mysql.triton:3306`, a ConfigMap
 * value they load): the only clients whose intent the API shows. Other pods are not assumed to be clients.
 * Egress isolation of the talkers is evaluated as well (the mirror image), DNS included.
 */
export const networkPolicyBlocks: Check = {
  id: ID,
  title: 'NetworkPolicy blocks the clients of a Service',
  codes: ['NP-BLOCKS-CLIENTS', 'NP-INGRESS-DENY-ALL', 'NP-NOT-ENFORCED'],
  needs: ['NetworkPolicy', 'Service', 'Pod', 'Namespace', 'ConfigMap', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'],
  reads: {
    DaemonSet: ['spec.template.metadata.labels'],
    Deployment: ['spec.selector'],
    NetworkPolicy: ['spec'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.env', 'spec.containers.envFrom', 'spec.containers.name', 'spec.containers.ports', 'spec.initContainers', 'status.phase', 'status.podIP'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.ports', 'spec.selector', 'spec.type'],
  },
  run(ctx) {
    if (ctx.view.list('NetworkPolicy').length === 0) return [];
    const findings: FindingDraft[] = [];
    const known = new Set([...ctx.view.list('Namespace').map((n) => n.metadata?.name ?? ''), ...ctx.view.list('Pod').map((p) => p.metadata?.namespace ?? '')]);
    const anyEgressIsolation = ctx.view.list('NetworkPolicy').some((p) => isolates(p).egress);
    for (const svc of servicesInScope(ctx)) {
      if (!hasSelector(svc)) continue;
      const backends = selectedPods(ctx.view, svc);
      if (backends.length === 0) continue;
      const ref = svcRef(svc);
      const ns = ref.namespace ?? '';
      const backendPorts = [...new Map(backends.flatMap((b) => flowPorts(svc, b)).map((p) => [`${p.port}/${p.protocol}`, p])).values()];
      const portText = backendPorts.map((p) => `${p.port}/${p.protocol}`).join(', ');
      const ingressIsolating = ctx.view.list('NetworkPolicy', ns).filter((p) => isolates(p).ingress && backends.some((b) => selectsPod(p, b)));
      // Nothing isolates the backends and no policy isolates egress anywhere: no flow to this Service can be blocked.
      if (ingressIsolating.length === 0 && !anyEgressIsolation) continue;
      const talkers = talkersOf(ctx, svc, backends, known);
      const blocked = talkers.filter((t) => t.ingressBlocked || t.egressBlocked);

      if (talkers.length === 0) {
        // No known client: only say something when the isolation admits nobody at all on the Service's ports.
        const admitsSomeone = ingressIsolating.some((p) => (p.spec?.ingress ?? []).length > 0);
        if (ingressIsolating.length > 0 && !admitsSomeone) {
          findings.push({
            severity: 'info',
            code: 'NP-INGRESS-DENY-ALL',
            title: `Service ${ref.name}'s pods accept no ingress (${ingressIsolating.map((p) => p.metadata?.name).join(', ')})`,
            summary: `NetworkPolicy ${ingressIsolating.map((p) => `${ns}/${p.metadata?.name}`).join(', ')} isolates the pods behind Service ${ns}/${ref.name} and admits nothing: every connection to ${portText} is dropped. No pod in view names the Service in its env, so netdoctor cannot tell which clients should be admitted.`,
            subject: policyRef(ingressIsolating[0]!),
            evidence: ingressIsolating.map((p) => objectEvidence(policyRef(p), describePolicy(p), kubectl.describe(policyRef(p)))),
            rootCause: true,
            explains: [ref],
            advice: [`Add a NetworkPolicy that admits the clients' labels on ${portText}; leave the deny policy as it is.`],
            plan: null,
          });
        }
        continue;
      }
      if (blocked.length === 0) continue;

      const egressIsolating = [
        ...new Map(
          blocked
            .filter((t) => t.egressBlocked)
            .flatMap((t) => ctx.view.list('NetworkPolicy', t.workload.namespace).filter((p) => isolates(p).egress && t.pods.some((pod) => selectsPod(p, pod))))
            .map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]),
        ).values(),
      ];
      const culprits = [...ingressIsolating.filter(() => blocked.some((t) => t.ingressBlocked)), ...egressIsolating];
      const who = blocked.map((t) => t.workload.name).join(', ');
      // Why the allow rules that exist miss the first blocked client (a selector typo, the Service port instead of the pod's).
      const firstIngress = blocked.find((t) => t.ingressBlocked);
      const servicePorts = (svc.spec?.ports ?? []).map((p) => p.port);
      const misses = firstIngress && backendPorts[0]
        ? ingressIsolating.flatMap((p) => ingressRuleMisses(ctx.view, p, firstIngress.pods[0]!, backendPorts[0]!, servicePorts).map((text) => ({ policy: policyRef(p), text: `networkpolicy/${p.metadata?.name} ${text}` })))
        : [];
      // An allow rule that misses its client is the mistake; a deny-all beside it is the intent.
      const subject = misses[0]?.policy ?? (culprits[0] ? policyRef(culprits[0]) : ref);
      const evidence: Evidence[] = [
        ...culprits.map((p) => objectEvidence(policyRef(p), describePolicy(p), kubectl.describe(policyRef(p)))),
        ...misses.slice(0, 3).map((m) => objectEvidence(m.policy, m.text, kubectl.describe(m.policy))),
        objectEvidence(ref, `service/${ref.name}: selector ${formatSelector(svc.spec?.selector)}, pod ports ${portText}`),
        ...blocked.map((t) =>
          objectEvidence(t.workload, `${t.workload.kind.toLowerCase()}/${t.workload.name} (pods ${formatSelector(t.labels)}) talks to it: ${t.reference}; ${[t.ingressBlocked ? 'ingress to the backends denied' : '', t.egressBlocked ? 'its own egress denied' : '', t.egressDnsBlocked ? 'DNS egress denied' : ''].filter(Boolean).join(', ')}`),
        ),
        { type: 'command', text: `all NetworkPolicies in ${ns}`, command: kubectl.list('networkpolicies', ns) },
      ];
      const operations = allowPolicies(svc, backendPorts, blocked);
      const plan =
        operations.length > 0 && blocked.every((t) => Object.keys(t.labels).length > 0)
          ? makePlan({
              summary: `Create ${operations.map((o) => `networkpolicy/${o.target.name}`).join(' and ')} admitting ${who} to ${ref.name} on ${portText}`,
              risk: 'low',
              effect: 'adds allow rules next to the existing policies (policies are additive: nothing is edited or deleted); effective as soon as the CNI programs them',
              operations,
              verify: { check: ID, subject, waitFor: 'none' },
            })
          : null;
      const direction = blocked.some((t) => t.ingressBlocked) ? `isolates the pods behind Service ${ns}/${ref.name} and admits none of` : `isolates the egress of`;
      findings.push({
        severity: blocked.length === talkers.length ? 'critical' : 'warning',
        code: 'NP-BLOCKS-CLIENTS',
        title: `NetworkPolicy ${culprits.map((p) => p.metadata?.name).join(', ') || '(several)'} blocks ${who} → ${ref.name}:${backendPorts[0]?.port ?? ''}`,
        summary:
          `NetworkPolicy ${culprits.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')} ${direction} ${who} ` +
          `(which name${blocked.length === 1 ? 's' : ''} the Service in env) on ${portText}: their connections time out while DNS, endpoints and ports look fine.` +
          (misses[0] ? ` The allow rule misses them: ${misses[0].text}.` : ''),
        subject,
        evidence,
        rootCause: true,
        explains: [ref, ...blocked.flatMap((t) => [t.workload, ...t.pods.map((p) => refOf('Pod', p))])],
        advice: [
          'Never loosen or delete the deny policy; add an allow policy for exactly these clients and ports.',
          ...(declaredPorts(backends[0]?.spec).length === 0 ? ['The backend pods declare no container ports: the allowed port is the Service targetPort, check that the application listens there.'] : []),
        ],
        plan,
      });
    }
    const unenforced = policiesNotEnforced(ctx.view);
    return unenforced ? findings.map((f) => (f.code === 'NP-BLOCKS-CLIENTS' ? notEnforced(f, unenforced) : f)) : findings;
  },
};
