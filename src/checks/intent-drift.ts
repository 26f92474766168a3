import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Service } from '../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { INTENT_CONFIGMAP, INTENT_KEY, type Intent, type PortIntent, type ServiceIntent, parseIntent } from './support/intent';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { formatSelector, labelSelectorMatches } from './support/selectors';
import { svcRef } from './support/services';

const ID = 'intent-drift';
const KINDS: Record<string, 'Service' | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Pod' | 'ConfigMap' | 'NetworkPolicy'> = {
  service: 'Service',
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  pod: 'Pod',
  configmap: 'ConfigMap',
  networkpolicy: 'NetworkPolicy',
};

function refFor(kindName: string, namespace: string): ObjectRef {
  const [kind, name] = kindName.split('/') as [string, string];
  return { kind: KINDS[kind]!, namespace, name };
}

const exists = (ctx: CheckContext, ref: ObjectRef): boolean => ctx.view.get(ref.kind as 'Service', ref.namespace, ref.name) !== undefined;

/** One field of a Service that is not what the intent says, with the JSON patch ops back to it. */
interface Drift {
  text: string;
  ops: JsonPatchOp[];
}

function portDrifts(svc: Service, want: PortIntent): Drift[] {
  const ports = svc.spec?.ports ?? [];
  const index = ports.findIndex((p) => (want.name !== undefined && p.name === want.name) || p.port === want.port);
  const label = want.name ? `${want.name} (${want.port})` : String(want.port);
  if (index < 0) return [{ text: `port ${label} is missing`, ops: [{ op: 'add', path: '/spec/ports/-', value: want }] }];
  const have = ports[index]!;
  const drifts: Drift[] = [];
  const compare = (field: 'port' | 'targetPort' | 'nodePort' | 'protocol', actual: string | number | undefined, wanted: string | number | undefined): void => {
    if (wanted === undefined || actual === wanted) return;
    const path = pointer('spec', 'ports', index, field);
    drifts.push({
      text: `port ${label} ${field} is ${actual === undefined ? 'unset' : String(actual)}, the intent says ${String(wanted)}`,
      ops: actual === undefined ? [{ op: 'add', path, value: wanted }] : testAndReplace(path, actual, wanted),
    });
  };
  compare('port', have.port, want.port);
  compare('targetPort', have.targetPort ?? have.port, want.targetPort);
  compare('nodePort', have.nodePort, want.nodePort);
  compare('protocol', have.protocol ?? 'TCP', want.protocol);
  return drifts;
}

/** The target workload's pod labels the Service must select, and the selector that would. */
function targetDrift(ctx: CheckContext, svc: Service, target: string, namespace: string): Drift | undefined {
  const ref = refFor(target, namespace);
  const obj = ctx.view.get(ref.kind as 'Deployment', namespace, ref.name);
  if (!obj) return undefined; // a missing target is its own finding (required names) or another check's
  const labels = ref.kind === 'Pod' ? obj.metadata?.labels : obj.spec?.template.metadata?.labels;
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length > 0 && labelSelectorMatches({ matchLabels: selector }, labels ?? {})) return undefined;
  const wanted = ref.kind === 'Pod' ? labels : obj.spec?.selector.matchLabels;
  return {
    text: `selector ${formatSelector(selector)} does not select ${target}, which the intent says it targets`,
    ops: wanted ? testAndReplace('/spec/selector', svc.spec?.selector, wanted) : [],
  };
}

function serviceFinding(ctx: CheckContext, want: ServiceIntent, namespace: string, source: Evidence): FindingDraft | undefined {
  const svc = ctx.view.get('Service', namespace, want.name);
  if (!svc) {
    const ref = { apiVersion: 'v1', kind: 'Service', namespace, name: want.name };
    return { code: 'INTENT-MISSING', severity: 'critical', title: `Service ${want.name} is declared but missing`, summary: `The intent of namespace ${namespace} declares Service ${want.name}, which does not exist: clients of it cannot connect.`, subject: ref, evidence: [source], rootCause: true, explains: [ref], plan: null };
  }
  const drifts: Drift[] = [];
  if (want.type && (svc.spec?.type ?? 'ClusterIP') !== want.type) drifts.push({ text: `type is ${svc.spec?.type ?? 'ClusterIP'}, the intent says ${want.type}`, ops: testAndReplace('/spec/type', svc.spec?.type ?? 'ClusterIP', want.type) });
  for (const p of want.ports ?? []) drifts.push(...portDrifts(svc, p));
  const target = want.targets ? targetDrift(ctx, svc, want.targets, namespace) : undefined;
  if (target) drifts.push(target);
  if (drifts.length === 0) return undefined;
  const ref = svcRef(svc);
  const ops = drifts.flatMap((d) => d.ops);
  return {
    code: 'INTENT-SERVICE-DRIFT',
    severity: 'critical',
    title: `Service ${want.name} drifted from its declared intent`,
    summary: `Service ${namespace}/${want.name} is not what the namespace's intent declares: ${drifts.map((d) => d.text).join('; ')}. Clients built to the declared architecture cannot connect.`,
    subject: ref,
    evidence: [objectEvidence(ref, `service/${want.name}: ${drifts.map((d) => d.text).join('; ')}`), source],
    rootCause: true,
    explains: [ref],
    plan: drifts.every((d) => d.ops.length > 0)
      ? makePlan({
          summary: `Set service/${want.name} back to its declared intent: ${drifts.map((d) => d.text.replace(/, the intent says /, ' → ')).join('; ')}`,
          risk: 'medium',
          effect: 'the Service answers as the intent declares as soon as kube-proxy syncs; clients that used the drifted values stop reaching it',
          operations: [{ action: 'patch', target: ref, patchType: 'json', patch: ops, resourceVersion: svc.metadata?.resourceVersion }],
          verify: { check: ID, subject: ref, waitFor: 'endpoints' },
        })
      : null,
  };
}

function requiredFinding(ctx: CheckContext, kindName: string, namespace: string, source: Evidence): FindingDraft | undefined {
  const ref = refFor(kindName, namespace);
  if (exists(ctx, ref)) return undefined;
  return { code: 'INTENT-MISSING', severity: 'critical', title: `${kindName} is required but missing`, summary: `The intent of namespace ${namespace} requires ${kindName}, which does not exist.`, subject: ref, evidence: [source], rootCause: true, plan: null };
}

function connectionFinding(ctx: CheckContext, from: string, to: string, namespace: string, source: Evidence): FindingDraft | undefined {
  const [host, portText] = to.split(':') as [string, string];
  const [name, ns = namespace] = host.split('.') as [string, string | undefined];
  const svc = ctx.view.get('Service', ns, name);
  if (svc && (svc.spec?.ports ?? []).some((p) => p.port === Number(portText))) return undefined;
  const ref = { apiVersion: 'v1', kind: 'Service', namespace: ns, name };
  return {
    code: 'INTENT-CONNECTION',
    severity: 'critical',
    title: `Expected connection ${from} → ${to} has no Service port`,
    summary: `The intent of namespace ${namespace} expects ${from} to connect to ${to}, but ${svc ? `Service ${ns}/${name} has no port ${portText}` : `Service ${ns}/${name} does not exist`}.`,
    subject: ref,
    evidence: [source, ...(svc ? [objectEvidence(ref, `service/${name} ports: ${(svc.spec?.ports ?? []).map((p) => p.port).join(', ')}`)] : [])],
    rootCause: true,
    explains: [ref],
    plan: null,
  };
}

/**
 * Drift from the namespace's declared intent (ConfigMap netdoctor-intent, key intent.yaml, as
 * `netdoctor intent init` writes it): Services with another type, ports, nodePorts or target,
 * required objects missing, expected connections without a Service port. Plans go back to intent.
 */
export const intentDrift: Check = {
  id: ID,
  title: 'Networking drifted from the declared intent',
  codes: ['INTENT-SERVICE-DRIFT', 'INTENT-MISSING', 'INTENT-CONNECTION', 'INTENT-INVALID'],
  needs: ['ConfigMap', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'Pod', 'NetworkPolicy'],
  reads: {
    ConfigMap: ['data'],
    Deployment: ['spec.template.metadata.labels'],
    Pod: ['metadata.labels'],
    Service: ['metadata.resourceVersion', 'spec.ports', 'spec.selector', 'spec.type'],
  },
  run(ctx) {
    const namespace = ctx.namespace;
    const cm = namespace ? ctx.view.get('ConfigMap', namespace, INTENT_CONFIGMAP) : undefined;
    if (!namespace || !cm) return [];
    const cmRef = refOf('ConfigMap', cm);
    const source = objectEvidence(cmRef, `declared in configmap/${INTENT_CONFIGMAP} (${INTENT_KEY})`, kubectl.get(cmRef));
    let intent: Intent;
    try {
      intent = parseIntent(cm.data?.[INTENT_KEY] ?? '');
    } catch (e) {
      return [{ code: 'INTENT-INVALID', severity: 'warning', title: 'The declared intent cannot be read', summary: `configmap/${INTENT_CONFIGMAP} in ${namespace}: ${(e as Error).message}; drift from intent is not checked.`, subject: cmRef, evidence: [source], rootCause: true, plan: null }];
    }
    return [
      ...intent.services.map((s) => serviceFinding(ctx, s, namespace, source)),
      ...intent.required.filter((r) => !r.startsWith('service/') || !intent.services.some((s) => `service/${s.name}` === r)).map((r) => requiredFinding(ctx, r, namespace, source)),
      ...intent.connections.map((c) => connectionFinding(ctx, c.from, c.to, namespace, source)),
    ].filter((f): f is FindingDraft => f !== undefined);
  },
};
