// Runs a TypeScript file in a plain node child process (for tests that SIGKILL a worker):
//   node test/support/ts-register.js path/to/file.ts [args...]
// Compiles .ts on require with @swc/core, the same settings as jest.config.js. No build needed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const options = { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' }, sourceMaps: 'inline' };
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};

const [, , entry, ...rest] = process.argv;
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));
