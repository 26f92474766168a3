import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Service } from '../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import { byIdentity } from './support/by-identity';
import { objectEvidence } from './support/evidence';
import { hostIn, serviceNameOf } from './support/hostnames';
import { pointer, testAndReplace } from './support/json-patch';
import { podsOf } from './support/pods';
import { formatSelector } from './support/selectors';
import { type PodTemplateOwner, formatPort, podTemplateOwners, similarNames, svcRef } from './support/services';

const ID = 'env-missing-service';

/** One env value a container sees, and where it is written. */
interface EnvValue {
  container: string;
  variable: string;
  value: string;
  /** A literal in the pod spec (patchable), or a ConfigMap key (advice only). */
  source: { type: 'env'; path: string } | { type: 'configMap'; name: string; key: string };
}

function envValues(ctx: Parameters<Check['run']>[0], owner: PodTemplateOwner): EnvValue[] {
  const ns = owner.ref.namespace;
  const out: EnvValue[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    (owner.spec[field] ?? []).forEach((c, ci) => {
      (c.env ?? []).forEach((e, ei) => {
        if (e.value !== undefined) {
          out.push({ container: c.name, variable: e.name, value: e.value, source: { type: 'env', path: `${owner.specPath}${pointer(field, ci, 'env', ei, 'value')}` } });
        }
        const ref = e.valueFrom?.configMapKeyRef;
        const fromCm = ref?.name ? ctx.view.get('ConfigMap', ns, ref.name)?.data?.[ref.key] : undefined;
        if (ref?.name && fromCm !== undefined) out.push({ container: c.name, variable: e.name, value: fromCm, source: { type: 'configMap', name: ref.name, key: ref.key } });
      });
      for (const from of c.envFrom ?? []) {
        const name = from.configMapRef?.name;
        const data = name ? ctx.view.get('ConfigMap', ns, name)?.data : undefined;
        for (const [key, value] of Object.entries(data ?? {})) {
          out.push({ container: c.name, variable: `${from.prefix ?? ''}${key}`, value, source: { type: 'configMap', name: name!, key } });
        }
      }
    });
  }
  return out;
}

interface Candidate {
  svc: Service;
  host: string;
}

/** A function of string arguments computed once per distinct arguments. */
// Derived once per list: a digest hands every namespace's run the same list of every namespace's Services.
const namespacesOf = byIdentity((objects: readonly { metadata?: { namespace?: string } }[]) => new Set(objects.map((o) => o.metadata?.namespace ?? '')));
const servicesByName = byIdentity((services: readonly Service[]) => {
  const byName = new Map<string, Service[]>();
  for (const s of services) {
    const same = byName.get(s.metadata?.name ?? '');
    if (same) same.push(s);
    else byName.set(s.metadata?.name ?? '', [s]);
  }
  return byName;
});

function memo<A extends string[], R>(compute: (...args: A) => R): (...args: A) => R {
  const seen = new Map<string, R>();
  return (...args: A) => {
    const key = args.join('\0');
    if (!seen.has(key)) seen.set(key, compute(...args));
    return seen.get(key)!;
  };
}

const LISTED_NAMES = 20;
/** The Services' names, the first 20 of a long list (a namespace of 1,000 Services is not evidence). */
function someNames(services: readonly Service[]): string {
  const names = services.map((s) => s.metadata?.name ?? '');
  if (names.length === 0) return 'none';
  return names.length > LISTED_NAMES ? `${names.slice(0, LISTED_NAMES).join(', ')} and ${names.length - LISTED_NAMES} more` : names.join(', ');
}

/**
 * SVC-04: a workload's env names a Service that does not exist in the namespace it names, while a similarly named one
 * does, or the same name exists in the pod's own namespace (`mysql.data.svc.cluster.local` while mysql lives in triton).
 * Services are read from every namespace in the run's one round (needsEverywhere), so names into other namespaces are checked too.
 */
export const envMissingService: Check = {
  id: ID,
  title: 'Workload env names a Service that does not exist',
  codes: ['WL-ENV-UNKNOWN-SERVICE'],
  needs: ['Service', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ConfigMap', 'Namespace'],
  reads: {
    ConfigMap: ['data'],
    DaemonSet: ['metadata.resourceVersion', 'spec.template.metadata.labels', 'spec.template.spec.containers.env', 'spec.template.spec.containers.envFrom', 'spec.template.spec.containers.name', 'spec.template.spec.initContainers'],
    Deployment: ['metadata.resourceVersion', 'spec.template.metadata.labels', 'spec.template.spec.containers.env', 'spec.template.spec.containers.envFrom', 'spec.template.spec.containers.name', 'spec.template.spec.initContainers'],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'metadata.resourceVersion', 'spec.containers.env', 'spec.containers.envFrom', 'spec.containers.name', 'spec.initContainers', 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.ports', 'spec.selector'],
  },
  needsEverywhere: ['Service'],
  run(ctx) {
    const findings: FindingDraft[] = [];
    const namespaces = ctx.view.list('Namespace').map((n) => n.metadata?.name ?? '');
    // Namespaces whose Services the view holds: every namespace, unless the cluster-wide Service read was refused.
    const wideReadFailed = ctx.view.readErrors.some((e) => e.kind === 'Service' && e.namespace === undefined);
    const loaded = new Set(
      ctx.namespace && wideReadFailed
        ? [ctx.namespace, 'kube-system']
        : [...namespaces, ...namespacesOf(ctx.view.list('Pod')), ...namespacesOf(ctx.view.list('Service'))],
    );
    const known = new Set([...loaded, ...namespaces]);
    // A named namespace that does not exist resolves nothing either (when the namespace list was read).
    const namespaceListed = namespaces.length > 0 && !ctx.view.readErrors.some((e) => e.kind === 'Namespace');
    // Many workloads name the same missing host: each lookup once per run, not once per env var (1,000 workloads × 1,000 Services).
    const similarServices = memo((namespace: string, name: string) => ctx.view.list('Service', namespace).filter((s) => similarNames(name, s.metadata?.name ?? '')));
    const sameNameServices = (name: string): readonly Service[] => servicesByName(ctx.view.list('Service')).get(name) ?? [];
    for (const owner of podTemplateOwners(ctx.view, ctx.namespace)) {
      const ns = owner.ref.namespace ?? 'default';
      for (const env of envValues(ctx, owner)) {
        const host = hostIn(env.variable, env.value);
        const target = host ? serviceNameOf(host.host, ns, known) : undefined;
        if (!host || !target) continue;
        if (!loaded.has(target.namespace) && !(namespaceListed && !known.has(target.namespace))) continue;
        if (ctx.view.get('Service', target.namespace, target.name)) continue;
        const labels = host.host.split('.');
        let candidates: Candidate[] = similarServices(target.namespace, target.name).map((svc) => ({ svc, host: [svc.metadata?.name ?? '', ...labels.slice(1)].join('.') }));
        if (target.short) {
          for (const svc of sameNameServices(target.name)) {
            if (svc.metadata?.namespace !== ns) candidates.push({ svc, host: `${target.name}.${svc.metadata?.namespace}` });
          }
        }
        // Named into another namespace, and the same name lives in the pod's own: keep the name's form, swap the namespace.
        const ownSameName = !target.short && target.namespace !== ns ? ctx.view.get('Service', ns, target.name) : undefined;
        if (ownSameName) candidates.push({ svc: ownSameName, host: [labels[0]!, ns, ...labels.slice(2)].join('.') });
        if (host.port !== undefined && candidates.some((c) => (c.svc.spec?.ports ?? []).some((p) => p.port === host.port))) {
          candidates = candidates.filter((c) => (c.svc.spec?.ports ?? []).some((p) => p.port === host.port));
        }
        if (candidates.length === 0) continue;
        const only = candidates.length === 1 ? candidates[0]! : undefined;
        const newValue = only ? env.value.slice(0, host.start) + only.host + env.value.slice(host.end) : undefined;
        const where = env.source.type === 'env' ? `container ${env.container}` : `ConfigMap ${env.source.name} key ${env.source.key} (env of container ${env.container})`;
        const plan: Plan | null =
          only && newValue !== undefined && env.source.type === 'env' && !owner.bare
            ? makePlan({
                summary: `Set ${env.variable} of ${owner.ref.kind.toLowerCase()}/${owner.ref.name} (${env.container}) to ${newValue}`,
                risk: 'medium',
                effect: `the ${owner.ref.kind} rolls out new pods with the corrected ${env.variable}`,
                operations: [{ action: 'patch', target: owner.ref, patchType: 'json', patch: testAndReplace(env.source.path, env.value, newValue), resourceVersion: owner.resourceVersion }],
                verify: { check: ID, subject: owner.ref, waitFor: 'rollout' },
              })
            : null;
        const named = candidates.map((c) => `${c.svc.metadata?.name}${c.svc.metadata?.namespace !== target.namespace ? ` (namespace ${c.svc.metadata?.namespace})` : ''}`).join(', ');
        const nsMissing = !known.has(target.namespace) ? ` (namespace ${target.namespace} does not exist)` : '';
        const why = ownSameName && only ? `Service ${target.name} exists in the pod's own namespace ${ns}` : `similarly named: ${named}`;
        const evidence: Evidence[] = [
          objectEvidence(env.source.type === 'env' ? owner.ref : { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: env.source.name }, `${where}: ${env.variable}=${env.value}`),
          { type: 'command', text: `no Service ${target.name} in namespace ${target.namespace}; it has ${someNames(ctx.view.list('Service', target.namespace))}`, command: kubectl.list('services', target.namespace) },
          ...candidates.slice(0, 3).map((c) =>
            objectEvidence(svcRef(c.svc), `service/${c.svc.metadata?.name} -n ${c.svc.metadata?.namespace}: ports ${(c.svc.spec?.ports ?? []).map(formatPort).join(', ')}, selector ${formatSelector(c.svc.spec?.selector) || '(none)'}`),
          ),
        ];
        const explains: ObjectRef[] = [owner.ref, ...(owner.bare ? [] : podsOf(ctx.view, owner.ref).map((p) => refOf('Pod', p)))];
        findings.push({
          severity: 'critical',
          code: 'WL-ENV-UNKNOWN-SERVICE',
          title: `${env.variable}=${host.host} names no Service; ${only ? `did you mean ${only.host}?` : `similar: ${named}`}`,
          summary:
            `${owner.ref.kind} ${ns}/${owner.ref.name} sets ${env.variable}=${env.value}, but there is no Service ${target.name} in namespace ${target.namespace}${nsMissing} ` +
            `(${why}). The name does not resolve, so the app cannot reach its backend.`,
          subject: owner.ref,
          evidence,
          rootCause: true,
          explains,
          advice: [
            ...(plan
              ? []
              : only
                ? [
                    env.source.type === 'configMap'
                      ? `Set ${env.source.key} to ${newValue} in ConfigMap ${env.source.name}, then restart: kubectl -n ${ns} rollout restart ${owner.ref.kind.toLowerCase()}/${owner.ref.name}`
                      : `A bare pod's env cannot be patched: recreate pod ${owner.ref.name} with ${env.variable}=${newValue}`,
                  ]
                : [`Point ${env.variable} at the Service it means (one of ${named}).`]),
            `If other clients use the name ${target.name}, create a Service of that name instead (a copy of the existing one without clusterIP); that is additive and changes no workload.`,
          ],
          plan,
        });
      }
    }
    return findings;
  },
};
