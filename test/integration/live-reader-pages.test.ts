// A LIST of many objects through the real apiserver, page by page: the first page's limit is a
// guess, later limits fit the page size the reader aims at to the bytes per item seen, and every
// object arrives once.
import { KubeApi, type RequestOptions } from '../../src/cluster/kube-api';
import { LiveReader } from '../../src/cluster/live-reader';
import { adminApi } from '../support/live';

jest.setTimeout(120_000);

const NS = 'nd-pages';
const COUNT = 150;
const name = (i: number): string => `settings-${String(i).padStart(3, '0')}`;

describe('LiveReader: paginated LISTs', () => {
  let admin: KubeApi;

  beforeAll(async () => {
    admin = await adminApi();
    await admin.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
    // ≈ 2 KiB each.
    for (let i = 0; i < COUNT; i++) {
      await admin.request(`/api/v1/namespaces/${NS}/configmaps`, {
        method: 'POST',
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name(i) }, data: { 'app.conf': `# ${i}\n${'key = value\n'.repeat(160)}` } },
      });
    }
  });

  afterAll(async () => {
    await admin.request(`/api/v1/namespaces/${NS}`, { method: 'DELETE' }).catch(() => undefined);
    admin.close();
  });

  it('reads every object once, with page limits fitted to the bytes per item', async () => {
    const limits: number[] = [];
    const request = admin.request.bind(admin);
    const api = Object.assign(Object.create(admin) as KubeApi, {
      request: (path: string, options?: RequestOptions) => {
        if (path === `/api/v1/namespaces/${NS}/configmaps`) limits.push(Number(options?.query?.limit));
        return request(path, options);
      },
    });
    const view = await new LiveReader(api, { pageBytes: 40 * 1024 }).read({ namespace: NS, alsoNamespaces: [], kinds: ['ConfigMap'] });
    const names = view.list('ConfigMap', NS).map((c) => c.metadata?.name).filter((n) => n?.startsWith('settings-'));
    expect(names).toEqual(Array.from({ length: COUNT }, (_, i) => name(i)));
    // The first page guesses 100 items; then 40 KiB at ≈ 2 KiB per item: about 20 per page, four pages in all.
    expect(limits[0]).toBe(100);
    expect(limits.slice(1).every((l) => l >= 15 && l <= 25)).toBe(true);
    const all = view.list('ConfigMap', NS).length; // ours and the namespace's kube-root-ca.crt
    expect(limits.length).toBe(1 + Math.ceil((all - 100) / limits[1]!));
    expect(view.readErrors).toEqual([]);
  });
});
