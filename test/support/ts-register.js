// Runs a TypeScript file in a plain node child process (for tests that SIGKILL a worker):
//   node test/support/ts-register.js path/to/file.ts [args...]
// Compiles .ts on require with scripts/ts-register.js. No build needed.
'use strict';
const path = require('node:path');
require('../../scripts/ts-register.js');

const [, , entry, ...rest] = process.argv;
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));
