// ESLint with typescript-eslint: the linter TypeScript projects share, flat config, and it reads the
// same tsconfig as the build. Its recommended rules, plus the few type-aware rules that catch bugs a
// server cannot afford (a promise nobody awaits or catches loses its error; an async function where
// a callback's result is ignored hides a rejection). Type-aware rules need the type checker, so only
// these few are on, to keep `npm run lint` quick.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.runtimes/', 'build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // An object literal's getters reach their owner through `self`.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // tsc's noUnusedLocals and noUnusedParameters already report these, with `_` for an unused parameter.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The lab (deploy/lab): plain Node.js scripts, run as they are, with no build step.
    files: ['deploy/lab/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', performance: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
  },
  {
    // Plain scripts run by npm under Node.js.
    files: ['scripts/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
