import { parseAllDocuments } from 'yaml';
import { ClusterSnapshot } from '../../src/cluster/snapshot';
import type { RawObject } from '../../src/domain/kube-types';

/**
 * A ClusterView from YAML documents (objects carry their kind) and logs keyed
 * `ns/pod/container` or `ns/pod/container#previous`. Fixtures for pure check tests.
 */
export function viewOf(yamlDocs: string, logs: Record<string, string> = {}): ClusterSnapshot {
  const objects = parseAllDocuments(yamlDocs)
    .map((d) => d.toJS() as RawObject | null)
    .filter((o): o is RawObject => o !== null);
  const view = new ClusterSnapshot().addObjects(objects);
  for (const [key, text] of Object.entries(logs)) {
    const [path, previous] = key.split('#');
    const [namespace, pod, container] = (path ?? '').split('/');
    view.setLog({ namespace: namespace!, pod: pod!, container: container!, previous: previous === 'previous' }, text);
  }
  return view;
}
