import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { NetdoctorError } from '../../../src/domain/errors';
import { KINDS } from '../../../src/domain/kube-types';

// What an attacker can put in a dump directory handed to `netdoctor diagnose --from` (issue 16, item 3-5).
const pod = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [{ name: 'app' }] } });
const scope = (namespace?: string) => ({ namespace, alsoNamespaces: [], kinds: [...KINDS] });
const appLog = { namespace: 'triton', pod: 'web', container: 'app', previous: false };

describe('DumpReader on hostile and large dumps', () => {
  let dir: string;
  let outside: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nd-dump-'));
    outside = mkdtempSync(join(tmpdir(), 'nd-outside-'));
    writeFileSync(join(dir, 'objects.yaml'), JSON.stringify(pod('triton', 'web')));
    mkdirSync(join(dir, 'logs', 'triton', 'web'), { recursive: true });
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('does not follow a log symlink out of the dump, and says so', async () => {
    writeFileSync(join(outside, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    symlinkSync(join(outside, 'passwd'), join(dir, 'logs', 'triton', 'web', 'app.log'));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.log(appLog)).toBeUndefined();
    expect(view.readErrors).toEqual([{ kind: 'File', message: 'logs/triton/web/app.log: a symbolic link to a file outside the dump (not read)' }]);
  });

  it('reads a symlink that stays inside the dump', async () => {
    writeFileSync(join(dir, 'app.log.real'), 'inside\n');
    symlinkSync(join(dir, 'app.log.real'), join(dir, 'logs', 'triton', 'web', 'app.log'));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.log(appLog)).toBe('inside\n');
    expect(view.readErrors).toEqual([]);
  });

  it('does not follow a directory symlink (inside or out), so no file outside the dump is read', async () => {
    writeFileSync(join(outside, 'stolen.yaml'), JSON.stringify(pod('triton', 'stolen')));
    symlinkSync(outside, join(dir, 'more'));
    symlinkSync(join(dir, 'logs'), join(dir, 'logs-again'));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.get('Pod', 'triton', 'stolen')).toBeUndefined();
    expect(view.readErrors.map((e) => e.message)).toEqual([
      'logs-again: a symbolic link to a directory (not followed)',
      'more: a symbolic link to a directory (not followed)',
    ]);
  });

  it('skips FIFOs without hanging and reports them', async () => {
    execFileSync('mkfifo', [join(dir, 'logs', 'triton', 'web', 'app.log'), join(dir, 'pipe.yaml')]);
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.log(appLog)).toBeUndefined();
    expect(view.readErrors.map((e) => e.message)).toEqual([
      'logs/triton/web/app.log: not a regular file (a FIFO, socket or device; not read)',
      'pipe.yaml: not a regular file (a FIFO, socket or device; not read)',
    ]);
  });

  it('does not read a device through a symlink', async () => {
    symlinkSync('/dev/zero', join(dir, 'logs', 'triton', 'web', 'app.log'));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.log(appLog)).toBeUndefined();
    expect(view.readErrors).toHaveLength(1);
  });

  it('reports a symlink loop and a dangling link instead of a stack trace', async () => {
    symlinkSync(join(dir, 'b.yaml'), join(dir, 'a.yaml'));
    symlinkSync(join(dir, 'a.yaml'), join(dir, 'b.yaml'));
    symlinkSync(join(dir, 'gone'), join(dir, 'c.yaml'));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.readErrors.map((e) => e.message)).toEqual([
      'a.yaml: a symbolic link that does not resolve (dangling or a loop; not read)',
      'b.yaml: a symbolic link that does not resolve (dangling or a loop; not read)',
      'c.yaml: a symbolic link that does not resolve (dangling or a loop; not read)',
    ]);
  });

  it('a dump directory that is a symlink loop is a clear error', () => {
    symlinkSync(join(outside, 'loop'), join(outside, 'loop'));
    expect(() => new DumpReader(join(outside, 'loop'))).toThrow(NetdoctorError);
    expect(() => new DumpReader(join(outside, 'loop'))).toThrow(/cannot open dump directory .*loop/);
  });

  it('skips a file name that is not UTF-8 and reports it', async () => {
    writeFileSync(Buffer.concat([Buffer.from(join(dir, 'bad-')), Buffer.from([0xff, 0xfe]), Buffer.from('.yaml')]), 'kind: Pod\n');
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.readErrors.map((e) => e.message)).toEqual(['bad-\ufffd\ufffd.yaml: a file name that is not UTF-8 (not read)']);
  });

  it('refuses a file over the per-file limit with a clear error, before reading it', () => {
    truncateSync(join(dir, 'objects.yaml'), 200 * 1024 * 1024); // sparse: 200 MiB on paper, nothing on disk
    expect(() => new DumpReader(dir)).toThrow(NetdoctorError);
    expect(() => new DumpReader(dir)).toThrow('objects.yaml is 200.0 MiB; a dump file may be at most 64.0 MiB');
  });

  it('refuses a dump whose object files together exceed the total limit', () => {
    writeFileSync(join(dir, 'more.yaml'), JSON.stringify(pod('triton', 'db')));
    expect(() => new DumpReader(dir, { limits: { maxTotalBytes: 120 } })).toThrow(/object files add up to .* MiB; a dump may hold at most .* MiB/);
  });

  it('refuses a log over the per-file limit', () => {
    writeFileSync(join(dir, 'logs', 'triton', 'web', 'app.log'), '');
    truncateSync(join(dir, 'logs', 'triton', 'web', 'app.log'), 100 * 1024 * 1024);
    expect(() => new DumpReader(dir)).toThrow('logs/triton/web/app.log is 100.0 MiB; a dump file may be at most 64.0 MiB');
  });

  it('refuses a YAML alias bomb with a clear error', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(join(dir, 'bomb.yaml'), `kind: ConfigMap\nmetadata: {name: bomb, namespace: triton}\ndata:\n${bomb.map((l) => `  ${l}`).join('\n')}\n`);
    expect(() => new DumpReader(dir)).toThrow(/cannot parse .*bomb\.yaml: YAML aliases expand/);
  });

  it('tolerates an Event without involvedObject', async () => {
    writeFileSync(join(dir, 'events.json'), JSON.stringify({ kind: 'EventList', items: [{ metadata: { name: 'e1', namespace: 'triton' }, reason: 'Odd' }] }));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.list('Event', 'triton')).toHaveLength(1);
    expect(view.events({ kind: 'Pod', namespace: 'triton', name: 'web' })).toEqual([]);
  });

  // Scale (issue 16 item 4).
  // Scale is a correctness test here (no stack overflow, nothing dropped, order kept); how fast is the
  // benchmark's business: a timed assertion here would fail on a loaded machine, not on a regression.
  it('indexes 20,000 events on one pod, newest last', async () => {
    const n = 20_000;
    const items: object[] = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % n) * 1000).toISOString();
      items.push({ kind: 'Event', metadata: { name: `e${i}`, namespace: 'triton' }, involvedObject: { kind: 'Pod', namespace: 'triton', name: 'web' }, lastTimestamp: at });
    }
    writeFileSync(join(dir, 'objects.json'), JSON.stringify({ kind: 'List', items }));
    const view = await new DumpReader(dir).read(scope('triton'));
    const events = view.events({ kind: 'Pod', namespace: 'triton', name: 'web' });
    expect(events).toHaveLength(n);
    expect(events[0]?.lastTimestamp).toBe('2026-01-01T00:00:00.000Z');
    expect(events[n - 1]?.lastTimestamp).toBe(new Date(Date.UTC(2026, 0, 1) + (n - 1) * 1000).toISOString());
  });

  it('parses 200,000 small YAML objects in one file (was a stack overflow)', async () => {
    const docs: string[] = [];
    for (let i = 0; i < 200_000; i++) docs.push(`---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: triton\ndata:\n  k: v${i}\n`);
    writeFileSync(join(dir, 'objects.yaml'), docs.join(''));
    const view = await new DumpReader(dir).read(scope('triton'));
    expect(view.list('ConfigMap', 'triton')).toHaveLength(200_000);
  }, 300_000);
});
