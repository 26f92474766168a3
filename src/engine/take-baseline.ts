import { hostIn } from '../checks/support/hostnames';
import { pointer } from '../checks/support/json-patch';
import { clusterDnsService, coreDnsDeployment } from '../checks/support/dns';
import { BASELINE_VERSION, type Baseline, type BaselineObject, CLUSTER_WIDE } from '../domain/baseline';
import type { ClusterView } from '../domain/cluster-view';
import { RESOURCES, type Kind, type KindMap, type RawObject } from '../domain/kube-types';
import { refKey, refOf } from '../domain/object-ref';
import { looksSecret } from './redact';
import { INFRA_NAMESPACES } from './infra-namespaces';

type PodTemplateSpec = NonNullable<NonNullable<KindMap['Deployment']['spec']>['template']['spec']>;
type Fields = Record<string, unknown>;
interface Entry {
  kind: Kind;
  obj: RawObject;
  fields: Fields;
}

/** The ConfigMaps whose contents decide how kube-proxy and CoreDNS behave. */
const PLUMBING_CONFIGMAPS = ['kube-proxy', 'coredns'];
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;

function put(fields: Fields, path: string, value: unknown): void {
  if (value !== undefined && value !== null) fields[path] = value;
}

/** A pod template's networking fields: labels, and per container its ports, probes and env vars that name hosts. */
function templateFields(fields: Fields, base: string[], labels: Record<string, string> | undefined, spec: PodTemplateSpec | undefined, plumbing: boolean): void {
  put(fields, pointer(...base, 'metadata', 'labels'), labels);
  if (plumbing) {
    put(fields, pointer(...base, 'spec', 'hostNetwork'), spec?.hostNetwork);
    put(fields, pointer(...base, 'spec', 'nodeSelector'), spec?.nodeSelector);
    put(fields, pointer(...base, 'spec', 'tolerations'), spec?.tolerations);
  }
  for (const [i, c] of (spec?.containers ?? []).entries()) {
    const at = [...base, 'spec', 'containers', i];
    put(fields, pointer(...at, 'name'), c.name);
    put(fields, pointer(...at, 'ports'), c.ports);
    for (const probe of PROBES) put(fields, pointer(...at, probe), c[probe]);
    if (plumbing) for (const key of ['image', 'command', 'args'] as const) put(fields, pointer(...at, key), c[key]);
    for (const [j, e] of (c.env ?? []).entries()) {
      // Only plain values that name a host; never a credential-named one.
      if (e.value && !looksSecret(e.name) && hostIn(e.name, e.value)) put(fields, pointer(...at, 'env', j), { name: e.name, value: e.value });
    }
  }
}

type Workload = KindMap['Deployment'] | KindMap['StatefulSet'] | KindMap['DaemonSet'];

function workloadFields(w: Workload, plumbing: boolean): Fields {
  const fields: Fields = {};
  put(fields, '/spec/replicas', (w.spec as { replicas?: number } | undefined)?.replicas);
  templateFields(fields, ['spec', 'template'], w.spec?.template.metadata?.labels, w.spec?.template.spec, plumbing);
  return fields;
}

function serviceFields(svc: KindMap['Service']): Fields {
  const fields: Fields = {};
  for (const key of ['type', 'selector', 'ports', 'externalName', 'externalTrafficPolicy', 'internalTrafficPolicy'] as const) put(fields, pointer('spec', key), svc.spec?.[key]);
  return fields;
}

function nodeFields(node: KindMap['Node']): Fields {
  const fields: Fields = {};
  put(fields, '/spec/podCIDR', node.spec?.podCIDR);
  put(fields, '/spec/taints', node.spec?.taints?.map(({ key, value, effect }) => ({ key, ...(value ? { value } : {}), effect })));
  // Conditions carry heartbeat times: only which is in which state decides anything.
  put(fields, '/status/conditions', node.status?.conditions?.map(({ type, status }) => ({ type, status })));
  return fields;
}

/** Who counts as plumbing: every DaemonSet in the infra namespaces (kube-proxy, CNI agents) and CoreDNS with its Service. */
function plumbing(view: ClusterView, namespace: string | undefined): Entry[] {
  const out: Entry[] = [];
  for (const ns of INFRA_NAMESPACES.filter((n) => n !== namespace)) {
    for (const ds of view.list('DaemonSet', ns)) out.push({ kind: 'DaemonSet', obj: ds, fields: workloadFields(ds, true) });
    for (const name of PLUMBING_CONFIGMAPS) {
      const cm = view.get('ConfigMap', ns, name);
      if (cm) out.push({ kind: 'ConfigMap', obj: cm, fields: Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, v]) => [pointer('data', k), v])) });
    }
  }
  const dns = coreDnsDeployment(view);
  if (dns && dns.metadata?.namespace !== namespace) out.push({ kind: 'Deployment', obj: dns, fields: workloadFields(dns, true) });
  const dnsSvc = clusterDnsService(view);
  if (dnsSvc && dnsSvc.metadata?.namespace !== namespace) out.push({ kind: 'Service', obj: dnsSvc, fields: serviceFields(dnsSvc) });
  for (const node of view.list('Node')) out.push({ kind: 'Node', obj: node, fields: nodeFields(node) });
  return out;
}

const entry = (kind: Kind, obj: RawObject, fields: Fields): Entry => ({ kind, obj, fields });

/** The namespace's own Services, workloads and NetworkPolicies. */
function own(view: ClusterView, namespace: string | undefined): Entry[] {
  return [
    ...view.list('Service', namespace).map((s) => entry('Service', s, serviceFields(s))),
    ...(['Deployment', 'StatefulSet', 'DaemonSet'] as const).flatMap((kind) => view.list(kind, namespace).map((w) => entry(kind, w, workloadFields(w, false)))),
    ...view.list('NetworkPolicy', namespace).map((np) => entry('NetworkPolicy', np, np.spec ? { '/spec': np.spec } : {})),
  ];
}

const baselineObject = ({ kind, obj, fields }: Entry): BaselineObject => {
  const ref = refOf(kind, obj);
  return { ref: { ...ref, apiVersion: ref.apiVersion ?? RESOURCES[kind].apiVersion }, fields };
};

/** The baseline objects of a namespace's own Services, workloads and NetworkPolicies. */
export const ownBaselineObjects = (view: ClusterView, namespace: string | undefined): BaselineObject[] => own(view, namespace).map(baselineObject);

/** The baseline objects of the plumbing a namespace depends on (all of it when the namespace is undefined). */
export const plumbingBaselineObjects = (view: ClusterView, namespace: string | undefined): BaselineObject[] => plumbing(view, namespace).map(baselineObject);

/** A baseline of these objects, each ref once: a later one replaces an earlier (plumbing last keeps its image and command). */
export function baselineOf(objects: Iterable<BaselineObject>, cluster: string | undefined, namespace: string | undefined, takenAt: Date): Baseline {
  const byRef = new Map<string, BaselineObject>();
  for (const o of objects) byRef.set(refKey(o.ref), o);
  return { version: BASELINE_VERSION, ...(cluster ? { cluster } : {}), namespace: namespace ?? CLUSTER_WIDE, takenAt: takenAt.toISOString(), objects: [...byRef.values()] };
}

/**
 * The slim baseline of a view: only the fields that decide networking, nothing else of the objects.
 * Without a namespace it covers every namespace the view holds.
 */
export function takeBaseline(view: ClusterView, namespace: string | undefined, takenAt: Date): Baseline {
  return baselineOf([...ownBaselineObjects(view, namespace), ...plumbingBaselineObjects(view, namespace)], view.cluster, namespace, takenAt);
}
