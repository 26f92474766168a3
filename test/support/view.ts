import { parseAllDocuments } from 'yaml';
import { ClusterSnapshot } from '../../src/cluster/snapshot';
import { CHECKS } from '../../src/checks';
import { isKind, type RawObject } from '../../src/domain/kube-types';
import { project } from '../../src/domain/projection';
import { projectionFor } from '../../src/engine/engine-reads';

/** What a live read keeps of each object: fixtures go through it too, so a check reading an undeclared field fails its tests. */
const PROJECTION = projectionFor(CHECKS);

/**
 * A ClusterView from YAML documents (objects carry their kind) and logs keyed
 * `ns/pod/container` or `ns/pod/container#previous`, each object projected as the readers do. Fixtures for pure check tests.
 */
export function viewOf(yamlDocs: string, logs: Record<string, string> = {}): ClusterSnapshot {
  const objects = parseAllDocuments(yamlDocs)
    .map((d) => d.toJS() as RawObject | null)
    .filter((o): o is RawObject => o !== null)
    .map((o) => {
      const fields = o.kind && isKind(o.kind) ? PROJECTION[o.kind] : undefined;
      return fields ? project(o, fields) : o;
    });
  const view = new ClusterSnapshot().addObjects(objects);
  for (const [key, text] of Object.entries(logs)) {
    const [path, previous] = key.split('#');
    const [namespace, pod, container] = (path ?? '').split('/');
    view.setLog({ namespace: namespace!, pod: pod!, container: container!, previous: previous === 'previous' }, text);
  }
  return view;
}
