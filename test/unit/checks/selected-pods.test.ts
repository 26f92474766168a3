// selectedPods and serviceEndpoints answer from per-view indexes; these properties hold them to the
// plain definition (every live pod of the namespace the selector matches; the slices labelled with
// the Service's name), for arbitrary label sets, phases, deletions and namespaces.
import fc from 'fast-check';
import { selectorMatches } from '../../../src/checks/support/selectors';
import { isLive, livePodsSelected, selectedPods, serviceEndpoints } from '../../../src/checks/support/services';
import type { Service } from '../../../src/domain/kube-types';
import { cluster } from './network-fixtures';

const NAMESPACES = ['triton', 'data'];
const labelSet = fc.dictionary(fc.constantFrom('app', 'tier', 'name', 'version'), fc.constantFrom('web', 'db', 'v1', 'v2'), { maxKeys: 3 });

interface PodShape {
  ns: string;
  labels: Record<string, string>;
  phase: string;
  deleting: boolean;
}
interface SliceShape {
  ns: string;
  service: string | undefined;
}

const podArb: fc.Arbitrary<PodShape> = fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  labels: labelSet,
  phase: fc.constantFrom('Running', 'Pending', 'Succeeded', 'Failed'),
  deleting: fc.boolean(),
});
const sliceArb: fc.Arbitrary<SliceShape> = fc.record({ ns: fc.constantFrom(...NAMESPACES), service: fc.option(fc.constantFrom('web', 'db'), { nil: undefined }) });

function objects(pods: PodShape[], slices: SliceShape[]): Record<string, unknown>[] {
  return [
    ...pods.map((p, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace: p.ns, labels: p.labels, ...(p.deleting ? { deletionTimestamp: '2026-03-01T06:59:00Z' } : {}) },
      status: { phase: p.phase },
    })),
    ...slices.map((s, i) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `slice-${i}`, namespace: s.ns, labels: s.service ? { 'kubernetes.io/service-name': s.service } : {} },
      addressType: 'IPv4',
      endpoints: [{ addresses: [`10.0.0.${i + 1}`] }],
    })),
  ];
}

describe('selected pods and endpoints from the per-view index', () => {
  it('pick exactly the live pods of the namespace that the selector matches, in the view order', () => {
    fc.assert(
      fc.property(fc.array(podArb, { maxLength: 30 }), fc.array(labelSet, { minLength: 1, maxLength: 8 }), fc.constantFrom(...NAMESPACES), (pods, selectors, ns) => {
        const view = cluster(objects(pods, []));
        for (const selector of selectors) {
          const expected = view.list('Pod', ns).filter((p) => isLive(p) && selectorMatches(selector, p.metadata?.labels));
          expect(livePodsSelected(view, ns, selector).map((p) => p.metadata?.name)).toEqual(expected.map((p) => p.metadata?.name));
          const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: ns }, spec: { selector } };
          expect(selectedPods(view, svc)).toEqual(expected);
        }
      }),
    );
  });

  it('read a Service its slices by the service-name label of its own namespace', () => {
    fc.assert(
      fc.property(fc.array(sliceArb, { maxLength: 20 }), fc.constantFrom(...NAMESPACES), fc.constantFrom('web', 'db'), (slices, ns, name) => {
        const view = cluster(objects([], slices));
        const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: {} };
        const expected = view.list('EndpointSlice', ns).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name);
        const eps = serviceEndpoints(view, svc);
        expect(eps.source).toBe(expected.length > 0 ? 'EndpointSlice' : 'none');
        expect(eps.endpoints.map((e) => e.ip)).toEqual(expected.flatMap((s) => s.endpoints?.flatMap((e) => e.addresses) ?? []));
      }),
    );
  });
});
