import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
});
