import { CONTAINER_STATUS_READS } from '../checks/support/pods';
import type { Check } from '../domain/check';
import { KINDS } from '../domain/kube-types';
import { ATTRIBUTED_KINDS } from '../domain/managed-fields';
import { type FieldReads, type Projection, projectionOf } from '../domain/projection';

const TEMPLATE = 'spec.template.spec';
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'];
/** What the baseline keeps of a pod template (take-baseline.ts) and what redaction scans (redact.ts: env values). */
const templateReads = (root: string): string[] => [
  `${root === 'spec' ? 'metadata' : 'spec.template.metadata'}.labels`,
  ...['hostNetwork', 'nodeSelector', 'tolerations'].map((f) => `${root}.${f}`),
  ...['name', 'image', 'command', 'args', 'ports', 'env', ...PROBES].map((f) => `${root}.containers.${f}`),
  `${root}.initContainers.env`,
];

const PRECONDITIONS = ['metadata.uid', 'metadata.resourceVersion', 'metadata.generation'];
const OWN_READS: FieldReads = {
  Pod: [...templateReads('spec'), ...CONTAINER_STATUS_READS],
  Deployment: ['spec.replicas', ...templateReads(TEMPLATE)],
  StatefulSet: ['spec.replicas', ...templateReads(TEMPLATE)],
  DaemonSet: ['spec.replicas', ...templateReads(TEMPLATE)],
  ReplicaSet: [`${TEMPLATE}.containers.env`, `${TEMPLATE}.initContainers.env`],
  Service: ['type', 'selector', 'ports', 'externalName', 'externalTrafficPolicy', 'internalTrafficPolicy'].map((f) => `spec.${f}`),
  NetworkPolicy: ['spec'],
  ConfigMap: ['data'],
  Node: ['spec.podCIDR', 'spec.taints', 'status.conditions.type', 'status.conditions.status'],
  Event: ['metadata.creationTimestamp', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'lastTimestamp', 'eventTime', 'firstTimestamp'],
};
/**
 * The fields the engine and the readers themselves read, beyond the checks': plan preconditions (uid,
 * resourceVersion, generation: pin-preconditions.ts), who changed what (managedFields of the kinds a
 * baseline attributes: changes-since.ts), the baseline's networking fields (take-baseline.ts), the
 * credential scan (redact.ts), the event index (snapshot.ts) and which container logs to fetch (live-reader.ts).
 */
export const ENGINE_READS: FieldReads = Object.fromEntries(
  KINDS.map((kind) => [kind, [...PRECONDITIONS, ...(ATTRIBUTED_KINDS.has(kind) ? ['metadata.managedFields'] : []), ...(OWN_READS[kind] ?? [])]]),
);

/** What a run of these checks keeps of each kind it reads: their declared fields and the engine's. */
export function projectionFor(checks: readonly Check[]): Projection {
  return projectionOf(KINDS, [ENGINE_READS, ...checks.map((c) => c.reads)]);
}
