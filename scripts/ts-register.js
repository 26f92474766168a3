'use strict';
// The one require hook that runs netdoctor's TypeScript in place (bench/, src/, test/ children, serve's
// worker thread from sources) with @swc/core (already a devDependency for jest): CommonJS, no build step, no output dir.
// Files keep their real paths, so __dirname-relative lookups (workflows/, shared/) hold.
// swc strips types only; `npx tsc --noEmit -p .` type-checks bench/ with the rest.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    swcrc: false,
    configFile: false,
    sourceMaps: 'inline',
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    // Keep dynamic import() as a require(): Node >= 20.19 loads the ESM-only client that way.
    module: { type: 'commonjs', ignoreDynamic: false },
  });
  module._compile(code, filename);
};
