// The operator-supplied manifest a missing CNI agent is installed from (CNI-01).
//
// Convention: a ConfigMap in kube-system labelled `netdoctor.io/cni=<plugin>` (the CNI family —
// weave, flannel, calico, cilium — or the agent DaemonSet's name, e.g. weave-net) whose key
// `manifest.yaml` holds the multi-document YAML the cluster was built with. netdoctor never
// fetches a manifest from the internet: without such a ConfigMap the finding only advises.
// Only kube-system is searched (whoever may write there already administers the cluster).
import { parseAllDocuments } from 'yaml';
import type { ClusterView } from '../../domain/cluster-view';
import type { ConfigMap, DaemonSet } from '../../domain/kube-types';
import type { ObjectRef } from '../../domain/object-ref';
import type { Operation } from '../../domain/plan';
import type { CniAgent } from './cni';
import { selectorMatches } from './selectors';

export const CNI_MANIFEST_LABEL = 'netdoctor.io/cni';
export const CNI_MANIFEST_KEY = 'manifest.yaml';
export const CNI_MANIFEST_NAMESPACE = 'kube-system';
/** Set on every object created from the manifest, naming the ConfigMap it came from. */
export const INSTALLED_FROM_ANNOTATION = 'netdoctor.io/installed-from';

/**
 * The kinds a manifest may hold, in creation order (identities and RBAC before the config the
 * agent reads, the DaemonSet last). The remediation writer can create and delete each of them
 * (src/cluster/kube-writer.ts WRITABLE_RESOURCES; a unit test keeps the two in step).
 */
export const MANIFEST_KINDS: readonly { kind: string; apiVersion: string; namespaced: boolean }[] = [
  { kind: 'ServiceAccount', apiVersion: 'v1', namespaced: true },
  { kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  { kind: 'ConfigMap', apiVersion: 'v1', namespaced: true },
  { kind: 'DaemonSet', apiVersion: 'apps/v1', namespaced: true },
];

export type ManifestLookup =
  | { state: 'absent' }
  | { state: 'invalid'; configMap: ConfigMap; why: string }
  | { state: 'ready'; configMap: ConfigMap; operations: Operation[]; daemonSet: ObjectRef & { apiVersion: string }; skipped: string[] };

type Doc = { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown; [k: string]: unknown }; [k: string]: unknown };

/** Whether a `netdoctor.io/cni` label value names this agent (its family or one of its DaemonSet names). */
function namesAgent(value: string | undefined, agent: CniAgent): boolean {
  const v = (value ?? '').trim().toLowerCase();
  return v !== '' && (v === agent.family || agent.daemonSetNames.includes(v));
}

export const cmLabel = (cm: ConfigMap): string => `${cm.metadata?.namespace}/${cm.metadata?.name}`;

/** The ConfigMaps in kube-system that declare a manifest for this agent. */
export function manifestConfigMaps(view: ClusterView, agent: CniAgent): ConfigMap[] {
  return view.list('ConfigMap', CNI_MANIFEST_NAMESPACE).filter((cm) => namesAgent(cm.metadata?.labels?.[CNI_MANIFEST_LABEL], agent));
}

function flatten(doc: Doc): Doc[] {
  if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) return (doc.items as Doc[]).flatMap(flatten);
  return [doc];
}

/** The object as it is to be created: server-set metadata and status dropped, namespace settled, provenance annotated. */
function createBody(doc: Doc, namespace: string | undefined, from: string): Record<string, unknown> {
  const { status: _status, ...rest } = doc;
  const { uid: _u, resourceVersion: _rv, creationTimestamp: _ct, generation: _g, managedFields: _mf, selfLink: _sl, namespace: _ns, ...metadata } = doc.metadata ?? {};
  const annotations = { ...((metadata.annotations as Record<string, string> | undefined) ?? {}), [INSTALLED_FROM_ANNOTATION]: from };
  return { ...rest, metadata: { ...metadata, ...(namespace ? { namespace } : {}), annotations } };
}

const isAgentDaemonSet = (doc: Doc, agent: CniAgent): boolean => {
  const ds = doc as DaemonSet;
  return agent.daemonSetNames.includes(ds.metadata?.name ?? '') || agent.labels.some((l) => selectorMatches(l, ds.spec?.template?.metadata?.labels));
};

/** Turns one manifest ConfigMap into create operations, or says why it cannot. */
export function manifestOperations(view: ClusterView, agent: CniAgent, cm: ConfigMap): ManifestLookup {
  const invalid = (why: string): ManifestLookup => ({ state: 'invalid', configMap: cm, why });
  const text = cm.data?.[CNI_MANIFEST_KEY];
  if (!text?.trim()) return invalid(`it has no \`${CNI_MANIFEST_KEY}\` key (or it is empty)`);
  const parsed = parseAllDocuments(text);
  const docs: Doc[] = [];
  for (const [i, d] of (Array.isArray(parsed) ? parsed : [parsed]).entries()) {
    if (d.errors.length > 0) return invalid(`document ${i + 1} of ${CNI_MANIFEST_KEY} does not parse: ${d.errors[0]!.message.split('\n')[0]}`);
    const js = d.toJS() as unknown;
    if (js === null || js === undefined) continue;
    if (typeof js !== 'object' || Array.isArray(js)) return invalid(`document ${i + 1} of ${CNI_MANIFEST_KEY} is not a Kubernetes object`);
    docs.push(...flatten(js as Doc));
  }
  const from = cmLabel(cm);
  const skipped: string[] = [];
  const unsupported = new Set<string>();
  const ops: { rank: number; op: Operation }[] = [];
  const seen = new Set<string>();
  for (const doc of docs) {
    const kind = typeof doc.kind === 'string' ? doc.kind : '';
    const name = typeof doc.metadata?.name === 'string' ? doc.metadata.name : '';
    if (!kind || typeof doc.apiVersion !== 'string' || !name) return invalid(`an object in ${CNI_MANIFEST_KEY} lacks apiVersion, kind or metadata.name`);
    if (kind === 'Secret') return invalid(`it holds Secret ${name}, and netdoctor never writes Secrets: create it yourself, then remove it from the manifest`);
    if (kind === 'Namespace') {
      if (view.get('Namespace', undefined, name)) {
        skipped.push(`Namespace ${name} (exists)`);
        continue;
      }
      return invalid(`it creates Namespace ${name}, which netdoctor does not create: kubectl create namespace ${name}, then re-run netdoctor`);
    }
    const rank = MANIFEST_KINDS.findIndex((k) => k.kind === kind);
    const info = MANIFEST_KINDS[rank];
    if (!info) {
      unsupported.add(kind);
      continue;
    }
    if (doc.apiVersion !== info.apiVersion) return invalid(`${kind} ${name} has apiVersion ${doc.apiVersion}; netdoctor creates ${kind} only as ${info.apiVersion}`);
    const namespace = info.namespaced ? (typeof doc.metadata?.namespace === 'string' && doc.metadata.namespace) || CNI_MANIFEST_NAMESPACE : undefined;
    const target = { apiVersion: info.apiVersion, kind, name, ...(namespace ? { namespace } : {}) };
    const key = `${kind}/${namespace ?? ''}/${name}`;
    if (seen.has(key)) return invalid(`it holds ${kind} ${namespace ? `${namespace}/` : ''}${name} twice`);
    seen.add(key);
    ops.push({ rank, op: { action: 'create', target, body: createBody(doc, namespace, from) } });
  }
  if (unsupported.size > 0) {
    return invalid(`it holds kinds netdoctor does not install (${[...unsupported].sort().join(', ')}); it creates only ${MANIFEST_KINDS.map((k) => k.kind).join(', ')}`);
  }
  const agentDs = ops.find((o) => o.op.target.kind === 'DaemonSet' && isAgentDaemonSet(o.op.body as Doc, agent));
  if (!agentDs) {
    return invalid(`it holds no ${agent.product} agent DaemonSet (named ${agent.daemonSetNames.join(' or ')}, or with pod labels ${agent.labels.map((l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',')).join(' or ')})`);
  }
  const operations = ops.sort((a, b) => a.rank - b.rank).map((o) => o.op);
  return { state: 'ready', configMap: cm, operations, daemonSet: agentDs.op.target, skipped };
}

/** The manifest for this agent: none configured, one that cannot be used (and why), or its create operations. */
export function cniManifestFor(view: ClusterView, agent: CniAgent): ManifestLookup {
  const cms = manifestConfigMaps(view, agent);
  if (cms.length === 0) return { state: 'absent' };
  if (cms.length > 1) {
    return { state: 'invalid', configMap: cms[0]!, why: `${cms.length} ConfigMaps in ${CNI_MANIFEST_NAMESPACE} are labelled ${CNI_MANIFEST_LABEL} for ${agent.product} (${cms.map((c) => c.metadata?.name).join(', ')}); keep exactly one` };
  }
  return manifestOperations(view, agent, cms[0]!);
}
