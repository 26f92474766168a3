// The dependency direction, checked mechanically: adapters → engine → checks → domain.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '..', '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Runtime imports (type-only imports are erased and allowed). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
  const dynamic = [...text.matchAll(/(?:import|require)\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
  return [...specs, ...dynamic].map((s) => (s.startsWith('.') ? relative(SRC, resolve(file, '..', s)) : s));
}

const FORBIDDEN: Record<string, RegExp> = {
  domain: /^(checks|engine|cluster|queue|slack|cli|remediation|audit|observability)\/|^(@slack|bullmq|ioredis|pino|@kubernetes)/,
  checks: /^(engine|cluster|queue|slack|cli|remediation|audit|observability)\/|^(@slack|bullmq|ioredis|pino|@kubernetes)/,
  engine: /^(cluster|queue|slack|cli|remediation|audit|observability)\/|^(@slack|bullmq|ioredis|pino|@kubernetes)/,
  remediation: /^(engine|checks|queue|slack|cli)\/|^(@slack|bullmq|ioredis)/,
  render: /^(cluster|queue|slack|cli|checks|engine)\/|^(@slack|bullmq|ioredis|@kubernetes)/,
};

describe.each(Object.entries(FORBIDDEN))('src/%s', (folder, forbidden) => {
  it('imports only what its layer may', () => {
    const offending = files(join(SRC, folder)).flatMap((file) =>
      runtimeImports(file)
        .filter((spec) => forbidden.test(spec))
        .map((spec) => `${relative(SRC, file)} → ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
