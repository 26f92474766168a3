import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Ingress, IngressClass, Service } from '../domain/kube-types';
import { kubectl, refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { formatPort, similarNames, svcRef } from './support/services';

const ID = 'ingress-backend';
const DEFAULT_CLASS = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS = 'kubernetes.io/ingress.class';

interface Backend {
  /** Where the backend sits in the Ingress: `/spec/defaultBackend` or `/spec/rules/0/http/paths/1/backend`. */
  path: string;
  /** `host/path` the backend serves, or `default backend`. */
  route: string;
  service: string;
  port: { number?: number; name?: string };
}

function backendsOf(ing: Ingress): Backend[] {
  const out: Backend[] = [];
  const d = ing.spec?.defaultBackend?.service;
  if (d?.name) out.push({ path: '/spec/defaultBackend', route: 'default backend', service: d.name, port: d.port ?? {} });
  (ing.spec?.rules ?? []).forEach((rule, i) =>
    (rule.http?.paths ?? []).forEach((p, j) => {
      const s = p.backend?.service;
      if (s?.name) out.push({ path: pointer('spec', 'rules', i, 'http', 'paths', j, 'backend'), route: `${rule.host ?? '*'}${p.path ?? '/'}`, service: s.name, port: s.port ?? {} });
    }),
  );
  return out;
}

const portText = (p: Backend['port']): string => (p.number !== undefined ? String(p.number) : p.name ? `"${p.name}"` : '(none)');

/** The Service port a backend names, if the Service has it. */
function servicePortOf(svc: Service, port: Backend['port']): boolean {
  return (svc.spec?.ports ?? []).some((sp) => (port.number !== undefined ? sp.port === port.number : port.name !== undefined && sp.name === port.name));
}

/** Backends whose Service does not exist, or exists without the port named: the controller answers 503 (ING-01). */
function backendFindings(ing: Ingress, services: readonly Service[]): FindingDraft[] {
  const ref = { ...refOf('Ingress', ing), apiVersion: 'networking.k8s.io/v1' };
  const ns = ref.namespace ?? '';
  const findings: FindingDraft[] = [];
  const seen = new Set<string>();
  for (const b of backendsOf(ing)) {
    const svc = services.find((s) => s.metadata?.name === b.service);
    const key = `${b.service}:${portText(b.port)}`;
    if (seen.has(key)) continue;
    if (!svc) {
      seen.add(key);
      const near = services.filter((s) => similarNames(s.metadata?.name ?? '', b.service));
      const target = near.length === 1 ? near[0]! : undefined;
      const usable = target && servicePortOf(target, b.port);
      findings.push({
        code: 'ING-BACKEND-SERVICE',
        severity: 'critical',
        title: `Ingress ${ref.name} routes ${b.route} to Service ${b.service}, which does not exist`,
        summary:
          `Ingress ${ns}/${ref.name} sends ${b.route} to Service ${b.service}:${portText(b.port)}, but namespace ${ns} has no Service of that name` +
          `${services.length ? ` (it has ${services.map((s) => s.metadata?.name).join(', ')})` : ''}: the ingress controller answers 503 Service Unavailable for it.`,
        subject: ref,
        evidence: [
          objectEvidence(ref, `ingress/${ref.name} ${b.route} → service ${b.service} port ${portText(b.port)}`),
          { type: 'command', text: `Services in ${ns}: ${services.map((s) => s.metadata?.name).join(', ') || 'none'}`, command: kubectl.list('services', ns) },
        ],
        rootCause: true,
        explains: [ref],
        advice: target && !usable ? [`Service ${target.metadata?.name} looks meant, but has no port ${portText(b.port)}: fix the backend's name and port together.`] : [],
        plan: usable
          ? makePlan({
              summary: `Point ingress/${ref.name} ${b.route} at Service ${target.metadata?.name}`,
              risk: 'low',
              effect: 'the ingress controller reloads its routes; nothing restarts',
              operations: [{ action: 'patch', target: ref, patchType: 'json', patch: testAndReplace(`${b.path}/service/name`, b.service, target.metadata?.name), resourceVersion: ing.metadata?.resourceVersion }],
              verify: { check: ID, subject: ref, waitFor: 'none' },
            })
          : null,
      });
      continue;
    }
    if (servicePortOf(svc, b.port)) continue;
    seen.add(key);
    const ports = svc.spec?.ports ?? [];
    const only = ports.length === 1 ? ports[0]! : undefined;
    const portPath = `${b.path}/service/port`;
    const patch: JsonPatchOp[] | undefined = only ? testAndReplace(portPath, b.port, { number: only.port }) : undefined;
    const sref = svcRef(svc);
    findings.push({
      code: 'ING-BACKEND-PORT',
      severity: 'critical',
      title: `Ingress ${ref.name} routes ${b.route} to port ${portText(b.port)} of Service ${b.service}, which has no such port`,
      summary:
        `Ingress ${ns}/${ref.name} sends ${b.route} to Service ${b.service} port ${portText(b.port)}, but the Service's ports are ${ports.map((p) => formatPort(p)).join(', ') || 'none'}` +
        ` (an Ingress names the Service's port, not the container's): the controller finds no endpoint and answers 503.`,
      subject: ref,
      evidence: [objectEvidence(ref, `ingress/${ref.name} ${b.route} → service ${b.service} port ${portText(b.port)}`), objectEvidence(sref, `service/${b.service} ports: ${ports.map((p) => formatPort(p)).join(', ') || 'none'}`)],
      rootCause: true,
      explains: [ref],
      advice: only ? [] : [`Name one of the Service's ports (${ports.map((p) => formatPort(p)).join(', ')}) in the backend.`],
      plan: patch
        ? makePlan({
            summary: `Set ingress/${ref.name} ${b.route} backend port to ${only!.port} (Service ${b.service}'s only port)`,
            risk: 'low',
            effect: 'the ingress controller reloads its routes; nothing restarts',
            operations: [{ action: 'patch', target: ref, patchType: 'json', patch, resourceVersion: ing.metadata?.resourceVersion }],
            verify: { check: ID, subject: ref, waitFor: 'none' },
          })
        : null,
    });
  }
  return findings;
}

/** ING-02: a class no IngressClass defines, or no class and no default one: no controller takes the Ingress. */
function classFinding(ing: Ingress, classes: readonly IngressClass[]): FindingDraft | undefined {
  const ref = { ...refOf('Ingress', ing), apiVersion: 'networking.k8s.io/v1' };
  const named = ing.spec?.ingressClassName;
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS];
  const names = classes.map((c) => `${c.metadata?.name} (${c.spec?.controller ?? 'no controller'})`);
  const admitted = (ing.status?.loadBalancer?.ingress ?? []).length > 0;
  const evidence: Evidence[] = [
    objectEvidence(ref, `ingress/${ref.name}: ingressClassName ${named ?? '(unset)'}${legacy ? `, annotation ${LEGACY_CLASS}=${legacy}` : ''}; status.loadBalancer ${admitted ? 'set' : 'empty'}`),
    { type: 'command', text: `IngressClasses: ${names.join(', ') || 'none'}`, command: kubectl.list('ingressclasses', undefined) },
  ];
  if (named && !classes.some((c) => c.metadata?.name === named)) {
    const near = classes.filter((c) => similarNames(c.metadata?.name ?? '', named));
    return {
      code: 'ING-CLASS-MISSING',
      severity: 'critical',
      title: `Ingress ${ref.name} asks for IngressClass ${named}, which does not exist`,
      summary: `Ingress ${ref.namespace}/${ref.name} sets ingressClassName: ${named}, but the cluster's IngressClasses are ${names.join(', ') || 'none'}: no ingress controller serves it${admitted ? '' : ' (its status has no address)'}.`,
      subject: ref,
      evidence,
      rootCause: true,
      explains: [ref],
      advice: near.length === 1 ? [] : [classes.length ? `Set ingressClassName to one of ${classes.map((c) => c.metadata?.name).join(', ')}.` : 'Install an ingress controller (it creates its IngressClass), or set the class of the one you run.'],
      plan:
        near.length === 1
          ? makePlan({
              summary: `Set ingress/${ref.name} ingressClassName to ${near[0]!.metadata?.name}`,
              risk: 'low',
              effect: 'the controller of that class picks the Ingress up; nothing restarts',
              operations: [{ action: 'patch', target: ref, patchType: 'json', patch: testAndReplace('/spec/ingressClassName', named, near[0]!.metadata?.name), resourceVersion: ing.metadata?.resourceVersion }],
              verify: { check: ID, subject: ref, waitFor: 'none' },
            })
          : null,
    };
  }
  if (named || legacy || admitted || classes.some((c) => c.metadata?.annotations?.[DEFAULT_CLASS] === 'true')) return undefined;
  return {
    code: 'ING-CLASS-MISSING',
    severity: 'warning',
    title: `Ingress ${ref.name} has no class and the cluster has no default IngressClass`,
    summary:
      `Ingress ${ref.namespace}/${ref.name} sets no ingressClassName and no IngressClass is marked default (${DEFAULT_CLASS}: "true"); IngressClasses: ${names.join(', ') || 'none'}. ` +
      'Controllers only take Ingresses of their class, so none serves it and its status has no address.',
    subject: ref,
    evidence,
    rootCause: true,
    explains: [ref],
    advice: [classes.length ? `Set spec.ingressClassName (${classes.map((c) => c.metadata?.name).join(', ')}), or mark one class default: kubectl annotate ingressclass <name> ${DEFAULT_CLASS}=true` : 'No IngressClass exists: install an ingress controller (ingress-nginx, Traefik, …).'],
    plan: null,
  };
}

/** ING-01/02: Ingress backends that name a missing Service or port, and Ingresses no controller's class covers. */
export const ingressBackend: Check = {
  id: ID,
  title: 'Ingress backends naming a missing Service or port; Ingresses whose class no controller serves',
  codes: ['ING-BACKEND-SERVICE', 'ING-BACKEND-PORT', 'ING-CLASS-MISSING'],
  needs: ['Ingress', 'IngressClass', 'Service'],
  reads: {
    Ingress: ['metadata.annotations', 'metadata.resourceVersion', 'spec', 'status.loadBalancer'],
    IngressClass: ['metadata.annotations', 'spec.controller'],
    Service: ['spec.ports'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    // Without the class list (RBAC), a missing class cannot be told from an unread one.
    const classesRead = !ctx.view.readErrors.some((e) => e.kind === 'IngressClass');
    for (const ing of ctx.view.list('Ingress', ctx.namespace)) {
      findings.push(...backendFindings(ing, ctx.view.list('Service', ing.metadata?.namespace)));
      const cls = classesRead ? classFinding(ing, ctx.view.list('IngressClass')) : undefined;
      if (cls) findings.push(cls);
    }
    return findings;
  },
};
