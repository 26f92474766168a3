import { parseSchedulingFailure } from '../../../src/checks/support/scheduling';

// Messages as kube-scheduler writes them in FailedScheduling events: pkg/scheduler/framework/types.go
// (FitError.Error: "0/%v nodes are available: %v." + the preemption PostFilter message),
// plugins/noderesources/fit.go ("Insufficient %v"), plugins/tainttoleration/taint_toleration.go
// ("node(s) had untolerated taint {%s: %s}"), plugins/nodeaffinity ("node(s) didn't match Pod's node affinity/selector").
describe('parseSchedulingFailure', () => {
  it('reads count/reason pairs before the preemption part', () => {
    const f = parseSchedulingFailure(
      '0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..',
    );
    expect(f.reasons).toEqual([
      { nodes: 1, text: 'Insufficient cpu' },
      { nodes: 1, text: 'Insufficient memory' },
      { nodes: 1, text: 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }' },
    ]);
    expect(f.insufficient).toEqual(['cpu', 'memory']);
    expect(f.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', value: '' }]);
  });

  it('reads the pairs of a v1.36 message, whose DRA part stands between them and the preemption part (real node)', () => {
    const f = parseSchedulingFailure(
      '0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    expect(f.reasons).toEqual([{ nodes: 1, text: 'Insufficient cpu' }]);
    expect(f.insufficient).toEqual(['cpu']);
  });

  it('reads a taint with a value and a message without the preemption part', () => {
    const f = parseSchedulingFailure('0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}.');
    expect(f.taints).toEqual([{ key: 'dedicated', value: 'gpu' }]);
    expect(f.insufficient).toEqual([]);
  });

  it('finds nothing in other reasons or in no message at all', () => {
    expect(parseSchedulingFailure("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.")).toMatchObject({ insufficient: [], taints: [] });
    expect(parseSchedulingFailure(undefined)).toEqual({ reasons: [], insufficient: [], taints: [] });
  });
});
