// A cluster-wide read taken namespace by namespace (the digest): one paged LIST per kind across
// all namespaces, merged by namespace in the apiserver's key order. Every object arrives once, in
// its namespace's view, whatever the page boundaries; a continue token that expires mid-list
// (410 Gone) resumes after the last object taken.
import { ApiError } from '../../src/domain/errors';
import type { ReadError } from '../../src/domain/cluster-view';
import { KubeApi, type RequestOptions } from '../../src/cluster/kube-api';
import { LiveReader } from '../../src/cluster/live-reader';
import { namespaceOrder } from '../../src/domain/kube-types';
import { adminApi } from '../support/live';

jest.setTimeout(120_000);

// `nd-each-a` lists before `nd-each` (the key `nd-each-a/…` sorts before `nd-each/…`).
const NAMESPACES = ['nd-each', 'nd-each-a', 'nd-each-b'];
const PER_NAMESPACE = 60;
const name = (i: number): string => `settings-${String(i).padStart(2, '0')}`;

/** The same API with a hook before each request (to count or to fail one). */
function hooked(api: KubeApi, before: (path: string, options?: RequestOptions) => void): KubeApi {
  const request = api.request.bind(api);
  return Object.assign(Object.create(api) as KubeApi, {
    request: (path: string, options?: RequestOptions) => {
      before(path, options);
      return request(path, options);
    },
  });
}

describe('LiveReader.eachNamespace', () => {
  let admin: KubeApi;

  beforeAll(async () => {
    admin = await adminApi();
    for (const ns of NAMESPACES) {
      await admin.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
      for (let i = 0; i < PER_NAMESPACE; i++) {
        await admin.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name(i) }, data: { conf: `${ns} ${i} ${'x'.repeat(1500)}` } } });
      }
      await admin.request(`/api/v1/namespaces/${ns}/services`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    }
  });

  afterAll(async () => {
    for (const ns of NAMESPACES) await admin.request(`/api/v1/namespaces/${ns}`, { method: 'DELETE' }).catch(() => undefined);
    admin.close();
  });

  async function readAll(api: KubeApi): Promise<{ order: string[]; names: Map<string, string[]>; services: Map<string, string[]>; errors: ReadError[] }> {
    const errors: ReadError[] = [];
    const order: string[] = [];
    const names = new Map<string, string[]>();
    const services = new Map<string, string[]>();
    const scope = { kinds: ['ConfigMap', 'Service'] as const, except: [{ kind: 'ConfigMap' as const, namespace: 'nd-each-b' }], readErrors: errors };
    for await (const { namespace, view } of new LiveReader(api, { pageBytes: 16 * 1024 }).eachNamespace({ ...scope, kinds: [...scope.kinds] })) {
      order.push(namespace);
      // Nothing of another namespace is in a namespace's view.
      expect(view.list('ConfigMap').every((c) => c.metadata?.namespace === namespace)).toBe(true);
      names.set(namespace, view.list('ConfigMap', namespace).map((c) => c.metadata!.name!));
      services.set(namespace, view.list('Service', namespace).map((c) => c.metadata!.name!));
    }
    return { order, names, services, errors };
  }

  const ours = (names: string[] | undefined): string[] => (names ?? []).filter((n) => n.startsWith('settings-'));

  it('yields each namespace once, in key order, with every object of it; leaves out the lists it is told were read', async () => {
    let pages = 0;
    const { order, names, services, errors } = await readAll(hooked(admin, (path) => {
      if (path === '/api/v1/configmaps') pages++;
    }));
    expect(pages).toBeGreaterThan(3); // namespaces cross page boundaries
    expect(errors).toEqual([]);
    expect(order).toEqual([...order].sort(namespaceOrder));
    expect(new Set(order).size).toBe(order.length);
    expect(order.indexOf('nd-each-a')).toBeLessThan(order.indexOf('nd-each'));
    for (const ns of ['nd-each', 'nd-each-a']) expect(ours(names.get(ns))).toEqual(Array.from({ length: PER_NAMESPACE }, (_, i) => name(i)));
    expect(names.get('nd-each-b')).toEqual([]); // its ConfigMaps were "read already"; its Service was not
    expect(services.get('nd-each-b')).toEqual(['web']);
  });

  it('resumes after the last object taken when the continue token expires mid-list (410)', async () => {
    let failed = false;
    const api = hooked(admin, (path, options) => {
      // The first page that continues a list (the first page holds 100 objects, those after it ≈ 10).
      if (path === '/api/v1/configmaps' && options?.query?.continue && !failed) {
        failed = true;
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old');
      }
    });
    const { names, errors } = await readAll(api);
    expect(failed).toBe(true);
    expect(errors).toEqual([]);
    for (const ns of ['nd-each', 'nd-each-a']) expect(ours(names.get(ns))).toEqual(Array.from({ length: PER_NAMESPACE }, (_, i) => name(i)));
  });
});
