// Kinds a check needs from every namespace (needsEverywhere: the Services env vars name elsewhere) are one
// cluster-wide LIST in the run's single round; a bot bound only to namespaced Roles gets them per namespace
// instead, and the report says what it could not see.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { LiveReader } from '../../src/cluster/live-reader';
import { adminApi } from '../support/live';

jest.setTimeout(60_000);

const NS = 'nd-everywhere';
const OTHER = 'nd-everywhere-other';
const service = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ port: 80 }] } });

describe('LiveReader: kinds read everywhere', () => {
  let admin: KubeApi;
  let bot: KubeApi | undefined;

  beforeAll(async () => {
    admin = await adminApi();
    for (const ns of [NS, OTHER]) {
      await admin.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
    }
    await admin.request(`/api/v1/namespaces/${NS}/services`, { method: 'POST', body: service(NS, 'web') });
    await admin.request(`/api/v1/namespaces/${OTHER}/services`, { method: 'POST', body: service(OTHER, 'mysql') });
    // A bot that may list Services in NS only (a namespaced Role, no ClusterRole).
    await admin.request(`/api/v1/namespaces/${NS}/serviceaccounts`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bot' } } });
    await admin.request(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
      method: 'POST',
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bot' }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }] },
    });
    await admin.request(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      method: 'POST',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'bot' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'bot' },
        subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: NS }],
      },
    });
    const { status } = await admin.json<{ status: { token: string } }>(`/api/v1/namespaces/${NS}/serviceaccounts/bot/token`, {
      method: 'POST',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    });
    const cluster = (await loadKubeConfig({ file: process.env.NETDOCTOR_TEST_KUBECONFIG, env: {} })).getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
      users: [{ name: 'bot', token: status.token }],
      contexts: [{ name: 'test', cluster: 'test', user: 'bot' }],
      currentContext: 'test',
    });
    bot = await KubeApi.fromKubeConfig(kc);
  });

  afterAll(async () => {
    bot?.close();
    for (const ns of [NS, OTHER]) await admin.request(`/api/v1/namespaces/${ns}`, { method: 'DELETE' }).catch(() => undefined);
    admin.close();
  });

  it('lists Services of every namespace in one cluster-wide LIST on a namespace run', async () => {
    const reader = new LiveReader(admin);
    const before = reader.apiCalls;
    const view = await reader.read({ namespace: NS, alsoNamespaces: ['kube-system'], kinds: ['Service'], everywhere: ['Service'] });
    expect(reader.apiCalls - before).toBe(1);
    expect(view.get('Service', OTHER, 'mysql')).toBeDefined();
    expect(view.get('Service', NS, 'web')).toBeDefined();
    expect(view.readErrors).toEqual([]);
  });

  it('keeps of other namespaces’ objects only the fields read everywhere; the run’s own namespaces keep the run’s', async () => {
    const reader = new LiveReader(admin);
    const fields = { Service: { apiVersion: true, kind: true, metadata: { name: true, namespace: true, uid: true }, spec: { ports: true, clusterIP: true } } } as const;
    const everywhereFields = { Service: { apiVersion: true, kind: true, metadata: { name: true, namespace: true }, spec: { ports: true } } } as const;
    const view = await reader.read({ namespace: NS, alsoNamespaces: ['kube-system'], kinds: ['Service'], everywhere: ['Service'], fields, everywhereFields });
    const ports = [{ port: 80, protocol: 'TCP', targetPort: 80 }];
    expect(view.get('Service', OTHER, 'mysql')).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: OTHER }, spec: { ports } });
    expect(view.get('Service', NS, 'web')).toEqual({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS, uid: expect.any(String) }, spec: { clusterIP: expect.any(String), ports },
    });
    expect(Object.keys(view.get('Service', 'default', 'kubernetes')?.spec ?? {})).toEqual(['ports']);
  });

  it('refused cluster-wide: per namespace instead, and the refusal is reported', async () => {
    const reader = new LiveReader(bot!);
    const view = await reader.read({ namespace: NS, alsoNamespaces: [], kinds: ['Service'], everywhere: ['Service'] });
    expect(view.get('Service', NS, 'web')).toBeDefined();
    expect(view.get('Service', OTHER, 'mysql')).toBeUndefined();
    expect(view.readErrors).toEqual([{ kind: 'Service', message: expect.stringContaining('read per namespace instead, other namespaces unchecked') }]);
  });
});
