import { DumpReader } from '../../../src/cluster/dump-reader';
import { KINDS, type KubeEvent } from '../../../src/domain/kube-types';
import type { ObjectRef } from '../../../src/domain/object-ref';
import { listAllScenarios } from '../../support/scenarios';

// The snapshot indexes events by the object they are about in one pass and sorts each object's
// list once, when first asked for. It must answer exactly what the obvious quadratic lookup does:
// every Event whose involvedObject is that object, oldest first, ties in listing order.
const time = (e: KubeEvent): string => {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return typeof t === 'string' ? t : '';
};

function scanned(all: readonly KubeEvent[], ref: ObjectRef): KubeEvent[] {
  return all
    .filter((e) => e.involvedObject?.kind === ref.kind && (e.involvedObject.namespace ?? '') === (ref.namespace ?? '') && e.involvedObject.name === ref.name)
    .sort((a, b) => (time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : 0));
}

describe('the event index of a dump', () => {
  const scenarios = listAllScenarios();

  it('covers the scenarios', () => {
    expect(scenarios.length).toBeGreaterThan(20);
  });

  it.each(scenarios.map((s) => [s.name, s.dir]))('answers as a scan of every event would, on %s', async (_name, dir) => {
    const view = await new DumpReader(dir).read({ namespace: undefined, alsoNamespaces: [], kinds: [...KINDS] });
    const all = view.list('Event');
    const refs = new Map<string, ObjectRef>();
    for (const e of all) {
      const o = e.involvedObject;
      if (typeof o?.name === 'string') refs.set(`${o.kind}/${o.namespace}/${o.name}`, { kind: o.kind ?? '', namespace: o.namespace, name: o.name });
    }
    // Objects with no events too: every pod and node.
    for (const kind of ['Pod', 'Node'] as const) {
      for (const o of view.list(kind)) refs.set(`${kind}/${o.metadata?.namespace}/${o.metadata?.name}`, { kind, namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' });
    }
    let indexed = 0;
    for (const ref of refs.values()) {
      const got = view.events(ref);
      expect({ ref, events: got }).toEqual({ ref, events: scanned(all, ref) });
      // Asked twice: the same list, still in order (sorted once, not re-appended).
      expect(view.events(ref)).toEqual(got);
      indexed += got.length;
    }
    expect(indexed).toBe(all.filter((e) => typeof e.involvedObject?.name === 'string').length);
  });
});
