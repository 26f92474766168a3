import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { writeDump } from '../../../src/cluster/dump-writer';
import type { ClusterSnapshot } from '../../../src/cluster/snapshot';
import { NetdoctorError } from '../../../src/domain/errors';
import { KINDS } from '../../../src/domain/kube-types';

const pod = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [] } });
const scope = (namespace?: string) => ({ namespace, alsoNamespaces: ['kube-system'], kinds: [...KINDS] });

describe('DumpReader', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nd-dump-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads multi-document YAML, JSON Lists and typed lists, and keeps only the scope', async () => {
    writeFileSync(join(dir, 'a.yaml'), `${JSON.stringify(pod('triton', 'web'))}\n---\n${JSON.stringify(pod('other', 'x'))}\n`);
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('kube-system', 'kube-proxy-1')] }));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ServiceList', items: [{ metadata: { name: 'db', namespace: 'triton' }, spec: {} }] }));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.list('Pod').map((p) => p.metadata?.name)).toEqual(['kube-proxy-1', 'web']);
    expect(view.get('Service', 'triton', 'db')?.kind).toBe('Service');
    expect(view.objectCount).toBe(3);
  });

  it('adds the single kinds a check reads outside the scope (kube-public ConfigMaps), and nothing else from there', async () => {
    const cm = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: {} });
    writeFileSync(join(dir, 'a.yaml'), [cm('kube-public', 'cluster-info'), pod('kube-public', 'stray'), cm('other', 'x'), pod('triton', 'web')].map((o) => JSON.stringify(o)).join('\n---\n'));
    const view = await new DumpReader(dir).read({ ...scope('triton'), alsoLists: [{ kind: 'ConfigMap', namespace: 'kube-public' }] });
    expect(view.get('ConfigMap', 'kube-public', 'cluster-info')).toBeDefined();
    expect(view.list('ConfigMap').map((c) => c.metadata?.name)).toEqual(['cluster-info']);
    expect(view.list('Pod').map((p) => p.metadata?.name)).toEqual(['web']);
  });

  it('reads kinds listed as everywhere from every namespace, on a namespace scope', async () => {
    const svc = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: ns }, spec: {} });
    writeFileSync(join(dir, 'a.yaml'), [pod('triton', 'web'), pod('data', 'x'), svc('triton'), svc('data')].map((o) => JSON.stringify(o)).join('\n---\n'));
    const view = await new DumpReader(dir).read({ ...scope('triton'), everywhere: ['Service'] });
    expect(view.list('Service').map((s) => s.metadata?.namespace)).toEqual(['data', 'triton']);
    expect(view.list('Pod').map((p) => p.metadata?.name)).toEqual(['web']);
  });

  it('keeps of other namespaces’ objects of kinds read everywhere only the everywhere fields, as a live read does', async () => {
    const svc = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: ns, resourceVersion: '5', labels: { app: 'db' } }, spec: { ports: [{ port: 5432 }], type: 'ClusterIP' } });
    writeFileSync(join(dir, 'a.yaml'), ['triton', 'kube-system', 'data', 'kube-public'].map((ns) => JSON.stringify(svc(ns))).join('\n---\n'));
    const fields = { Service: { apiVersion: true, kind: true, metadata: { name: true, namespace: true, resourceVersion: true, labels: true }, spec: true } } as const;
    const everywhereFields = { Service: { apiVersion: true, kind: true, metadata: { name: true, namespace: true }, spec: { ports: true } } } as const;
    const view = await new DumpReader(dir).read({ ...scope('triton'), everywhere: ['Service'], fields, everywhereFields, alsoLists: [{ kind: 'Service', namespace: 'kube-public' }] });
    // The run's own namespaces (and one a check lists the kind in) keep the run's fields.
    for (const ns of ['triton', 'kube-system', 'kube-public']) expect(view.get('Service', ns, 'db')).toEqual(svc(ns));
    expect(view.get('Service', 'data', 'db')).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'data' }, spec: { ports: [{ port: 5432 }] } });
  });

  it('reads logs in its own layout and in kubectl cluster-info dump layout', async () => {
    writeFileSync(join(dir, 'objects.yaml'), JSON.stringify(pod('triton', 'web')));
    mkdirSync(join(dir, 'logs', 'triton', 'web'), { recursive: true });
    writeFileSync(join(dir, 'logs', 'triton', 'web', 'app.previous.log'), 'crashed\n');
    mkdirSync(join(dir, 'triton', 'web', 'sidecar'), { recursive: true });
    writeFileSync(join(dir, 'triton', 'web', 'sidecar', 'logs.txt'), 'hello\n');
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.log({ namespace: 'triton', pod: 'web', container: 'app', previous: true })).toBe('crashed\n');
    expect(view.log({ namespace: 'triton', pod: 'web', container: 'app', previous: false })).toBeUndefined();
    expect(view.log({ namespace: 'triton', pod: 'web', container: 'sidecar', previous: false })).toBe('hello\n');
  });

  it('knows which namespaces exist', async () => {
    writeFileSync(join(dir, 'objects.yaml'), JSON.stringify(pod('triton', 'web')));
    const reader = new DumpReader(dir);
    await expect(reader.namespaceExists('triton')).resolves.toBe(true);
    await expect(reader.namespaceExists('nope')).resolves.toBe(false);
  });

  it('refuses a missing directory, an empty one and unparsable files with a clear error', () => {
    expect(() => new DumpReader(join(dir, 'missing'))).toThrow(/does not exist/);
    expect(() => new DumpReader(dir)).toThrow(/no Kubernetes objects/);
    writeFileSync(join(dir, 'bad.yaml'), 'a: [unclosed');
    expect(() => new DumpReader(dir)).toThrow(NetdoctorError);
    expect(() => new DumpReader(dir)).toThrow(/cannot parse .*bad\.yaml/);
  });

  it('round-trips through the dump writer', async () => {
    writeFileSync(join(dir, 'objects.yaml'), [pod('triton', 'web'), pod('kube-system', 'dns')].map((p) => JSON.stringify(p)).join('\n---\n'));
    mkdirSync(join(dir, 'logs', 'triton', 'web'), { recursive: true });
    writeFileSync(join(dir, 'logs', 'triton', 'web', 'app.log'), 'line\n');
    const first = (await new DumpReader(dir).read(scope('triton'))) as ClusterSnapshot;
    const out = join(dir, 'out');
    writeDump(first, out);
    const second = (await new DumpReader(out).read(scope('triton'))) as ClusterSnapshot;
    expect(second.entries()).toEqual(first.entries());
  });

  it('splits a large snapshot into files under the size given, which read back as the same snapshot', async () => {
    const pods = Array.from({ length: 40 }, (_, i) => pod(i % 2 ? 'triton' : 'kube-system', `web-${i}`));
    writeFileSync(join(dir, 'objects.yaml'), pods.map((p) => JSON.stringify(p)).join('\n---\n'));
    const first = (await new DumpReader(dir).read(scope('triton'))) as ClusterSnapshot;
    const out = join(dir, 'out');
    const written = writeDump(first, out, 1_000);
    expect(written.objects).toBe(40);
    const files = readdirSync(out).filter((f) => f.endsWith('.yaml'));
    expect(files).toHaveLength(written.files);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(statSync(join(out, f)).size).toBeLessThanOrEqual(1_000);
    const second = (await new DumpReader(out).read(scope('triton'))) as ClusterSnapshot;
    expect(second.entries()).toEqual(first.entries());
  });

  // `kubectl cluster-info dump --output-directory` (staging/src/k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go):
  // one `<namespace>/<pod>/logs.txt` per pod, each container between
  // "==== START logs for container %s of pod %s/%s ====\n" and "==== END logs for container %s of pod %s/%s ====\n";
  // the log bytes are written as received, so the END marker may follow the last line without a newline;
  // a failed log request leaves "Request log error: %s\n" (or "Create log request error: %s\n") instead.
  it('kubectl cluster-info dump: splits each pod logs.txt into its containers by the START/END markers', async () => {
    mkdirSync(join(dir, 'triton', 'web'), { recursive: true });
    writeFileSync(join(dir, 'triton', 'pods.json'), JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [pod('triton', 'web')] }));
    writeFileSync(
      join(dir, 'triton', 'web', 'logs.txt'),
      [
        '==== START logs for container init-db of pod triton/web ====\n',
        'Request log error: the server rejected our request for an unknown reason\n',
        '==== END logs for container init-db of pod triton/web ====\n',
        '==== START logs for container app of pod triton/web ====\n',
        'listening on :8080\ndial tcp 10.96.0.10:53: i/o timeout\n',
        '==== END logs for container app of pod triton/web ====\n',
        '==== START logs for container sidecar of pod triton/web ====\n',
        'no newline at the end',
        '==== END logs for container sidecar of pod triton/web ====\n',
      ].join(''),
    );
    const view = await new DumpReader(dir).read(scope('triton'));
    const log = (container: string) => view.log({ namespace: 'triton', pod: 'web', container, previous: false });
    expect(log('app')).toBe('listening on :8080\ndial tcp 10.96.0.10:53: i/o timeout\n');
    expect(log('sidecar')).toBe('no newline at the end');
    expect(log('init-db')).toBeUndefined();
    expect(view.list('Pod', 'triton').map((p) => p.metadata?.name)).toEqual(['web']);
  });
});
