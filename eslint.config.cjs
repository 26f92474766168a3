// ESLint flat config (CommonJS): typescript-eslint's strict type-checked preset over src, test and bench.
// `npx eslint .` runs in npm test. Options below loosen a rule only where the reason is stated.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/cluster/go/', 'examples/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      // Numbers and booleans print as themselves in messages and keys.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `(x) => void send(x)`-style shorthands read fine; statements that return void are still flagged.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `_`-prefixed names are deliberately unused (rest-destructuring omits, positional parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      // With noUncheckedIndexedAccess every index is `T | undefined`; `m[1]!` after a matched
      // regex or a checked length is the idiom, and the type checker still sees the rest.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `async` on a port method without `await` is how it returns a Promise and turns a throw
      // into a rejection, which is what its callers handle.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Checks and readers handle objects from apiservers and dumps netdoctor does not control:
    // client-node marks fields required that real objects can lack, so their optional chains stay.
    files: ['src/checks/**/*.ts', 'src/cluster/**/*.ts'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
  {
    // Tests and benchmarks read JSON and YAML they just produced (helm output, API bodies) and
    // build Kubernetes objects as literals; teardown guards `x?.close()` a `let` that beforeAll
    // may not have reached.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // client-node models are classes used as plain shapes (spread and rebuilt freely), and
      // test doubles edit objects by computed key.
      '@typescript-eslint/no-misused-spread': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
    },
  },
  {
    // Walks helm-rendered manifests of any shape.
    files: ['test/integration/deploy/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
