// The layer rules of src/ (npx depcruise src). Type-only imports count: a port is a dependency too.
// Each folder may import itself and the folders listed for it; cli/ is the composition root.
const LAYERS = {
  domain: [],
  checks: ['domain'],
  engine: ['domain', 'checks'],
  render: ['domain'],
  remediation: ['domain'],
  store: ['domain'],
  cluster: ['domain', 'config'],
  observability: ['domain'],
  queue: ['domain', 'store', 'remediation', 'engine', 'cluster', 'observability'],
  slack: ['domain', 'render'],
  'report-page': ['domain', 'render', 'store', 'engine', 'config'],
  config: ['domain'],
};
// Adapter packages, each owned by the folders that may import it (types included).
const PACKAGES = {
  '@slack/': ['slack', 'observability', 'cli'],
  'bullmq': ['queue', 'cli'],
  'ioredis': ['queue', 'store', 'slack', 'cli'],
  'pino': ['observability'],
  'prom-client': ['observability'],
};
const folder = (name) => (name === 'config' ? 'src/config\\.ts$' : `src/${name}/`);

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles anywhere in src/.', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a moved file otherwise slips through a type-only import).',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    ...Object.entries(LAYERS).map(([name, allowed]) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `src/${name} may import only ${allowed.length ? allowed.join(', ') : 'itself'} within src/.`,
      from: { path: `^${folder(name)}` },
      to: { path: '^src/', pathNot: [`^${folder(name)}`, ...allowed.map((a) => `^${folder(a)}`)] },
    })),
    ...Object.entries(PACKAGES).map(([pkg, owners]) => ({
      name: `package-${pkg.replace(/[^a-z]/g, '')}`,
      severity: 'error',
      comment: `${pkg} is used only in ${owners.join(', ')}.`,
      from: { path: '^src/', pathNot: owners.map((o) => `^${folder(o)}`) },
      to: { path: `(^|/)node_modules/${pkg.replace('/', '\\/')}` },
    })),
    {
      name: 'package-kubernetes-client',
      severity: 'error',
      comment: 'Only src/cluster talks to the apiserver; elsewhere the client-node models are imported as types only.',
      from: { path: '^src/', pathNot: '^src/cluster/' },
      to: { path: '(^|/)node_modules/@kubernetes/client-node', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-types-only',
      severity: 'error',
      comment: 'src/domain has no runtime imports of third-party packages (type-only imports of client-node models are fine).',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['npm'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    moduleSystems: ['cjs', 'es6'],
  },
};
