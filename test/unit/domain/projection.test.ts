// The projection readers apply to every object they read, and the string table a live read shares
// across its objects.
import { project, projectionOf, StringTable } from '../../../src/domain/projection';

const pod = (name: string, node: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'triton', labels: { app: 'web', tier: 'frontend' }, annotations: { big: 'x'.repeat(100) } },
  spec: { nodeName: node, containers: [{ name: 'app', image: 'web:1.0', args: ['--verbose'] }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

describe('project', () => {
  const tree = projectionOf(['Pod'], [{ Pod: ['metadata.labels', 'spec.containers.image', 'status.conditions'] }]).Pod!;

  it('keeps the declared fields, names and kinds, and drops the rest', () => {
    expect(project(pod('web-1', 'node01'), tree)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'triton', labels: { app: 'web', tier: 'frontend' } },
      spec: { containers: [{ image: 'web:1.0' }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
  });

  it('with a string table: the same objects, each distinct string value held once across them', () => {
    const strings = new StringTable();
    const a = project(pod('web-1', 'node01'), tree, strings);
    const b = project(pod('web-2', 'node02'), tree, strings);
    expect(a).toEqual(project(pod('web-1', 'node01'), tree));
    expect(b).toEqual(project(pod('web-2', 'node02'), tree));
    // v1, Pod, triton, web, frontend, web:1.0, Ready, True, and the two names: the second pod adds only its name.
    expect(strings.size).toBe(10);
  });
});
