import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DUMP_LIMITS, type DumpFile, dumpRoot, walkDump } from '../../../src/cluster/dump-files';
import { parseDumpFile, parseDumpFiles, parseThreadsFor } from '../../../src/cluster/dump-objects';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { NetdoctorError } from '../../../src/domain/errors';
import { KINDS } from '../../../src/domain/kube-types';

const pod = (ns: string, name: string, i: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: name, rank: String(i) } },
  spec: { containers: [{ name: 'app', ports: [{ containerPort: 8000 + i }] }] },
  status: { phase: i % 3 ? 'Running' : 'Pending', podIP: `10.0.${i % 250}.${i % 7}` },
});

/** Files of very different sizes, YAML streams and JSON Lists, so threads take them out of order. */
function writeFiles(dir: string, count: number): DumpFile[] {
  for (let f = 0; f < count; f++) {
    const pods = Array.from({ length: 1 + ((f * 37) % 90) }, (_, i) => pod(`ns-${f}`, `p-${i}`, i));
    if (f % 3 === 0) writeFileSync(join(dir, `f-${String(f).padStart(2, '0')}.json`), JSON.stringify({ apiVersion: 'v1', kind: 'PodList', items: pods }));
    else writeFileSync(join(dir, `f-${String(f).padStart(2, '0')}.yaml`), pods.map((p) => `# ${p.metadata.name}\n${JSON.stringify(p)}`).join('\n---\n'));
  }
  return walkDump(dumpRoot(dir), DEFAULT_DUMP_LIMITS).files;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nd-dump-objects-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('parseDumpFiles', () => {
  it('gives the objects of a serial parse, in file order, when threads parse beside the caller', async () => {
    const files = writeFiles(dir, 24);
    const serial = files.flatMap((f) => parseDumpFile(f, DEFAULT_DUMP_LIMITS));
    expect(serial.length).toBeGreaterThan(800);
    for (const options of [{ threads: 0 }, { threads: 2, callerParses: false }, { threads: 3 }]) {
      await expect(parseDumpFiles(files, DEFAULT_DUMP_LIMITS, options)).resolves.toEqual(serial);
    }
  });

  it("keeps YAML's non-finite numbers when a thread parses the file (JSON text cannot carry them)", async () => {
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: v}\n');
    writeFileSync(join(dir, 'b.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: x}\nspec: {replicas: .inf, ratio: -.Inf, score: .NaN}\n');
    const files = walkDump(dumpRoot(dir), DEFAULT_DUMP_LIMITS).files;
    const parsed = await parseDumpFiles(files, DEFAULT_DUMP_LIMITS, { threads: 2, callerParses: false });
    expect(parsed.map((o) => o.spec)).toEqual([undefined, { replicas: Infinity, ratio: -Infinity, score: NaN }]);
  });

  it('refuses with the first file in order that does not parse, whichever thread met it', async () => {
    // f-NN.json every third file (0, 3, 6, …), YAML the rest: the caller reads the JSON, the threads the YAML.
    const cases = [
      { broken: ['f-05.yaml', 'f-11.yaml'], first: 'f-05.yaml' },
      { broken: ['f-03.json', 'f-08.yaml'], first: 'f-03.json' },
      { broken: ['f-02.yaml', 'f-09.json'], first: 'f-02.yaml' },
    ];
    for (const { broken, first } of cases) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      const files = writeFiles(dir, 16);
      for (const name of broken) writeFileSync(join(dir, name), name.endsWith('.json') ? '{"kind": "List", "items": [' : 'a: [unclosed');
      for (const options of [{ threads: 0 }, { threads: 2, callerParses: false }, { threads: 1 }]) {
        const e = await parseDumpFiles(files, DEFAULT_DUMP_LIMITS, options).then(() => undefined, (err: unknown) => err);
        // Any other error shows its message here.
        expect(e instanceof NetdoctorError ? e.code : String(e)).toBe('unreadable_dump');
        expect((e as Error).message.startsWith(`cannot parse ${first}: `)).toBe(true);
      }
    }
  });

  it('keeps a small dump on the calling thread and gives a large one no more threads than files to share', () => {
    const file = (size: number, i: number): DumpFile => ({ rel: `f-${i}.yaml`, path: `/x/f-${i}.yaml`, size });
    expect(parseThreadsFor(Array.from({ length: 50 }, (_, i) => file(100_000, i)))).toBe(0);
    const large = parseThreadsFor(Array.from({ length: 2 }, (_, i) => file(8 * 2 ** 20, i)));
    expect(large).toBeLessThanOrEqual(1);
    expect(parseThreadsFor([file(60 * 2 ** 20, 0)])).toBe(0);
    // JSON is parsed by the caller: copying its objects back from a thread costs about what parsing them does.
    expect(parseThreadsFor(Array.from({ length: 8 }, (_, i) => ({ ...file(30 * 2 ** 20, i), rel: `f-${i}.json` })))).toBe(0);
  });
});

describe('DumpReader.open', () => {
  it('reads what the constructor reads', async () => {
    writeFiles(dir, 10);
    const scope = { namespace: 'ns-3', alsoNamespaces: ['ns-4'], kinds: [...KINDS] };
    const [opened, constructed] = await Promise.all([DumpReader.open(dir).then((r) => r.read(scope)), new DumpReader(dir).read(scope)]);
    expect(opened.list('Pod')).toEqual(constructed.list('Pod'));
    expect(opened.list('Pod').length).toBeGreaterThan(0);
    expect(opened.observedAt).toEqual(constructed.observedAt);
  });

  it('refuses as the constructor does', async () => {
    await expect(DumpReader.open(join(dir, 'missing'))).rejects.toThrow(/does not exist/);
    await expect(DumpReader.open(dir)).rejects.toThrow(/no Kubernetes objects/);
    writeFileSync(join(dir, 'bad.yaml'), 'a: [unclosed');
    await expect(DumpReader.open(dir)).rejects.toThrow(/cannot parse .*bad\.yaml/);
  });
});
