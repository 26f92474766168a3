// One jest run, three projects: pure unit tests over fixtures, integration tests that need the
// real control plane and Redis started by the integration project's globalSetup, and node tests
// that need a real node (the node project's globalSetup).
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }];
// ESM-only packages (client-node and its ESM dependencies) are transformed to CJS for jest on Node 20.
const esmOnly = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose', 'jsonpath-plus', 'rfc4648'];
const common = {
  transform: { '^.+\\.(t|j)sx?$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  testEnvironment: 'node',
  // Dynamic imports in CJS output need the emitted `.js` name; in tests the source is `.ts`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], globalSetup: '<rootDir>/test/unit/global-setup.ts' },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
    },
    {
      // A real node (containerd, kubelet, flannel, kube-proxy, CoreDNS, the triton app) beside a
      // control plane of its own; needs root and the Debian packages .ci/run installs.
      ...common,
      displayName: 'node',
      testMatch: ['<rootDir>/test/node/**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/node-setup.ts',
      globalTeardown: '<rootDir>/test/cluster/node-teardown.ts',
    },
  ],
};
