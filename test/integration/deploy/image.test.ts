// The image built without a container engine (deploy/tools/build-oci-image.sh, an OCI archive) against
// the recipe users build (deploy/Dockerfile's runtime stage): the same files, user, entrypoint, command,
// workdir, env, ports and labels, read from the Dockerfile, so neither recipe can change alone. Then
// the archive is run in its own root (deploy/tools/check-image-layout.sh): only the packaged runtime.
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBuildScript } from '../../cluster/build-script';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BUILD = path.join(ROOT, 'deploy', 'tools', 'build-oci-image.sh');
const CHECK = path.join(ROOT, 'deploy', 'tools', 'check-image-layout.sh');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** deploy/Dockerfile as its global ARG defaults and stages (comments dropped, continuation lines joined). */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^\s*(\S+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.trim().replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      const [from = '', , name = ''] = instruction.args.split(' ');
      stages.push({ name, from, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [k = '', v = ''] = instruction.args.split('=');
      args.set(k, v);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

interface Entry {
  mode: string;
  uid: number;
  gid: number;
  /** Absolute path in the image, without a trailing slash. */
  name: string;
}

interface OciConfig {
  config: {
    User: string;
    WorkingDir: string;
    Entrypoint: string[];
    Cmd: string[];
    Env: string[];
    ExposedPorts: Record<string, object>;
    Labels: Record<string, string>;
  };
}

const sha256 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const filesUnder = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();

describe('the OCI image (build-oci-image.sh) and deploy/Dockerfile', () => {
  const dockerfile = parseDockerfile(fs.readFileSync(path.join(ROOT, 'deploy', 'Dockerfile'), 'utf8'));
  const runtime = dockerfile.stages.at(-1)!;
  const stage = (name: string): Stage => dockerfile.stages.find((s) => s.name === name)!;
  const instructions = (keyword: string, s: Stage = runtime): string[] => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
  const single = (keyword: string): string => {
    const [found, ...more] = instructions(keyword);
    if (found === undefined || more.length > 0) throw new Error(`deploy/Dockerfile: expected one ${keyword} in the runtime stage`);
    return found;
  };
  const workdir = single('WORKDIR');

  let archive: string;
  let config: OciConfig;
  let layer: Entry[];
  let paths: Set<string>;
  /** The layer's /app, bin files and tini, extracted (the layer is root-owned: extracted as root here too). */
  let extracted: string;

  beforeAll(async () => {
    archive = path.join(await runBuildScript(BUILD), 'netdoctor.tar');
    const fromArchive = (member: string): string => execFileSync('tar', ['-xOf', archive, member], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const blob = (digest: string): string => `blobs/sha256/${digest.replace(/^sha256:/, '')}`;
    const index = JSON.parse(fromArchive('index.json')) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(fromArchive(blob(index.manifests[0]!.digest))) as { config: { digest: string }; layers: { digest: string }[] };
    config = JSON.parse(fromArchive(blob(manifest.config.digest))) as OciConfig;
    expect(manifest.layers).toHaveLength(1);
    const layerMember = blob(manifest.layers[0]!.digest);
    const listing = execFileSync('bash', ['-c', 'tar -xOf "$1" "$2" | tar --numeric-owner -tvf -', 'list', archive, layerMember], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    layer = listing
      .trim()
      .split('\n')
      .map((line) => {
        const m = /^(\S+) (\d+)\/(\d+) +\d+ \S+ \S+ \.(.*?)(?: -> .*)?$/.exec(line);
        if (!m) throw new Error(`unexpected tar listing line: ${line}`);
        return { mode: m[1]!, uid: Number(m[2]), gid: Number(m[3]), name: m[4]!.replace(/\/$/, '') || '/' };
      });
    paths = new Set(layer.map((e) => e.name));
    extracted = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-image-test-'));
    execFileSync('bash', ['-c', 'tar -xOf "$1" "$2" | tar -xf - -C "$3" ./app ./etc/passwd ./etc/group ./usr/bin/tini', 'extract', archive, layerMember, extracted]);
  }, 1_800_000);

  afterAll(() => {
    if (extracted) fs.rmSync(extracted, { recursive: true, force: true });
  });

  it('config: User, WorkingDir, Entrypoint, Cmd as the runtime stage says', () => {
    const json = (s: string): unknown => JSON.parse(s);
    expect({ User: config.config.User, WorkingDir: config.config.WorkingDir, Entrypoint: config.config.Entrypoint, Cmd: config.config.Cmd }).toEqual({
      User: single('USER'),
      WorkingDir: workdir,
      Entrypoint: json(single('ENTRYPOINT')),
      Cmd: json(single('CMD')),
    });
  });

  it("config: the runtime stage's ENV, EXPOSE and LABEL", () => {
    const env = instructions('ENV').flatMap((a) => a.split(' '));
    expect(env.length).toBeGreaterThan(0);
    expect(config.config.Env).toEqual(expect.arrayContaining(env));
    const ports = instructions('EXPOSE').flatMap((a) => a.split(' ').map((p) => (p.includes('/') ? p : `${p}/tcp`)));
    expect(Object.keys(config.config.ExposedPorts).sort()).toEqual(ports.sort());
    const labels = Object.fromEntries(instructions('LABEL').flatMap((a) => [...a.matchAll(/(\S+?)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));
    expect(config.config.Labels).toEqual(labels);
  });

  it('the entrypoint finds node on the PATH where the node image has it, the version the FROM tag names', () => {
    const [init, separator, program] = config.config.Entrypoint;
    expect({ init, separator, initInImage: paths.has(init!) }).toEqual({ init: '/usr/bin/tini', separator: '--', initInImage: true });
    const searchPath = config.config.Env.find((e) => e.startsWith('PATH='))!.slice('PATH='.length).split(':');
    expect(searchPath.map((d) => `${d}/${program}`).find((p) => paths.has(p))).toBe('/usr/local/bin/node');
    expect(runtime.from).toBe('node:${NODE_TAG}');
    const major = /^(\d+)-/.exec(dockerfile.args.get('NODE_TAG') ?? '')?.[1];
    expect(config.config.Env).toContainEqual(expect.stringMatching(new RegExp(`^NODE_VERSION=${major}\\.`)));
  });

  it("/app holds exactly what the runtime stage's COPY instructions put there, root's and read-only to the process", () => {
    const dests = instructions('COPY')
      .map((a) => a.split(' ').filter((t) => !t.startsWith('--')))
      .map((tokens) => path.posix.resolve(workdir, tokens.at(-1)!.endsWith('/') ? path.posix.join(tokens.at(-1)!, path.posix.basename(tokens[0]!)) : tokens.at(-1)!));
    const inApp = layer.filter((e) => path.posix.dirname(e.name) === workdir).map((e) => e.name);
    expect(inApp.sort()).toEqual(dests.filter((d) => path.posix.dirname(d) === workdir).sort());
    for (const d of dests) expect({ d, inImage: paths.has(d) }).toEqual({ d, inImage: true });
    const writable = layer.filter((e) => e.uid !== 0 || e.gid !== 0 || (/^.{5}w|^.{8}w/.test(e.mode) && !e.mode.startsWith('l') && e.name !== '/tmp'));
    expect(writable).toEqual([]);
    expect(layer.find((e) => e.name === '/tmp')?.mode).toBe('drwxrwxrwt');
  });

  it('files copied from the build context are the repository files, byte for byte', () => {
    const fromContext = instructions('COPY')
      .filter((a) => !a.startsWith('--from'))
      .map((a) => a.split(' '));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const tokens of fromContext) {
      const dest = tokens.at(-1)!;
      for (const src of tokens.slice(0, -1)) {
        const inImage = path.join(extracted, workdir, dest.endsWith('/') ? path.join(dest, path.basename(src)) : dest);
        const inRepo = path.join(ROOT, src);
        const files = fs.statSync(inRepo).isDirectory() ? filesUnder(inRepo) : [''];
        expect({ src, files: fs.statSync(inImage).isDirectory() ? filesUnder(inImage) : [''] }).toEqual({ src, files });
        for (const f of files) expect({ f: path.join(src, f), sha: sha256(path.join(inImage, f)) }).toEqual({ f: path.join(src, f), sha: sha256(path.join(inRepo, f)) });
      }
    }
  });

  it("node_modules: the lock file's production packages for this platform, and nothing else (deps stage: npm ci --omit=dev)", () => {
    expect(instructions('RUN', stage('deps')).join(' ')).toContain('npm ci --omit=dev');
    expect(instructions('COPY')).toContain(`--from=deps ${workdir}/node_modules ./node_modules`);
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; os?: string[]; cpu?: string[]; libc?: string[] }>;
    };
    const fits = (allowed: string[] | undefined, value: string): boolean =>
      !allowed || (allowed.some((a) => !a.startsWith('!')) ? allowed.includes(value) : !allowed.includes(`!${value}`));
    const expected = Object.entries(lock.packages)
      .filter(([key, p]) => key !== '' && !p.dev && fits(p.os, process.platform) && fits(p.cpu, process.arch) && fits(p.libc, 'glibc'))
      .map(([key]) => `${workdir}/${key}`);
    const packageDir = new RegExp(`^${workdir}/node_modules/(?:@[^/]+/)?[^/]+(?:/node_modules/(?:@[^/]+/)?[^/]+)*/package\\.json$`);
    const installed = layer.filter((e) => packageDir.test(e.name)).map((e) => path.posix.dirname(e.name));
    expect(installed.sort()).toEqual(expected.sort());
  });

  it('dist: what tsc emits for every source file (build stage), and nothing else', () => {
    expect(instructions('COPY')).toContain(`--from=build ${workdir}/dist ./dist`);
    const expected = filesUnder(path.join(ROOT, 'src'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .flatMap((f) => [f.replace(/\.ts$/, '.js'), f.replace(/\.ts$/, '.js.map')]);
    expect(filesUnder(path.join(extracted, workdir, 'dist'))).toEqual(expected.sort());
  });

  it("tini is Debian's statically linked tini, as the tini stage installs it", () => {
    expect(instructions('RUN', stage('tini')).join(' ')).toMatch(/apt-get install .*\btini\b/);
    expect(instructions('COPY')).toContain('--from=tini /usr/bin/tini-static /usr/bin/tini');
    expect(execFileSync('dpkg-query', ['-S', '/usr/bin/tini-static'], { encoding: 'utf8' })).toMatch(/^tini: /);
    expect(sha256(path.join(extracted, 'usr', 'bin', 'tini'))).toBe(sha256('/usr/bin/tini-static'));
  });

  it("every Debian package the runtime stage installs is in the image with all its files", () => {
    const packages = instructions('RUN').flatMap((a) =>
      [...a.matchAll(/apt-get install ((?:\S+ )*?\S+)(?: &&|$)/g)].flatMap((m) => m[1]!.split(' ').filter((t) => !t.startsWith('-'))),
    );
    expect(packages.length).toBeGreaterThan(0);
    for (const pkg of packages) {
      const files = execFileSync('dpkg-query', ['-L', pkg], { encoding: 'utf8' })
        .split('\n')
        .filter((f) => f.startsWith('/') && f !== '/.');
      expect({ pkg, missing: files.filter((f) => !paths.has(f)) }).toEqual({ pkg, missing: [] });
    }
  });

  it("the runtime stage's user and group are in /etc/passwd and /etc/group", () => {
    const run = instructions('RUN').find((a) => a.includes('useradd'))!;
    const option = (cmd: string, name: string): string => new RegExp(`${cmd} [^&]*--${name} (\\S+)`).exec(run)![1]!;
    const user = /useradd [^&]* (\S+)$/.exec(run.split('&&').find((c) => c.includes('useradd'))!.trim())![1]!;
    const group = /groupadd [^&]* (\S+)$/.exec(run.split('&&').find((c) => c.includes('groupadd'))!.trim())![1]!;
    const passwd = fs.readFileSync(path.join(extracted, 'etc', 'passwd'), 'utf8').split('\n');
    const groups = fs.readFileSync(path.join(extracted, 'etc', 'group'), 'utf8').split('\n');
    expect(passwd).toContain(`${user}:x:${option('useradd', 'uid')}:${option('useradd', 'gid')}::${option('useradd', 'home-dir')}:${option('useradd', 'shell')}`);
    expect(groups).toContain(`${group}:x:${option('groupadd', 'gid')}:`);
  });

  it('runs in its own root as its config says: the packaged node and libraries alone (check-image-layout.sh)', () => {
    const r = spawnSync('bash', [CHECK, archive], { encoding: 'utf8', maxBuffer: 16 << 20 });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.any(String) as string });
    const oks = r.stdout.split('\n').filter((l) => l.startsWith('ok   '));
    expect(oks.map((l) => l.replace(/^ok {3}(\S+ \S+).*/, '$1'))).toEqual([
      'OCI layout:',
      'runtime: node',
      'netdoctor checks',
      'netdoctor diagnose',
      'netdoctor serve',
    ]);
    const major = /^(\d+)-/.exec(dockerfile.args.get('NODE_TAG') ?? '')?.[1];
    expect(oks[1]).toMatch(new RegExp(`runtime: node v${major}\\.`));
  });
});
