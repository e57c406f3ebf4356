// Lint rules that guard the architecture as well as the code: policy stays pure, and no
// context reaches into another's folder except through the wire types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const layer = (from, forbidden, why) => ({
  files: [from],
  rules: { 'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message: why })) }] },
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'public/tools/', 'tools/**/*.ts', 'tools/_scratch/', '**/*.d.ts', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-globals': ['error', { name: 'eval', message: 'no eval: the CSP forbids it and so do we' }],
      'no-new-func': 'error',
    },
  },
  layer('src/policy/**', ['../server/*', '../sandbox/*', '../../sandbox/*', '../store/*', '../ui/*', '../client/*', '../transport/*', '../api/*', '../entries/*', 'idb', 'comlink', 'lit', '@modelcontextprotocol/*'], 'policy is pure: it decides, it does not do (it may use the wire types of src/shared)'),
  layer('src/shared/**', ['../*', '!../shared/*'], 'shared holds wire types only; it depends on nothing of ours'),
  layer('src/store/**', ['../server/*', '../sandbox/*', '../ui/*', '../client/*', '../transport/*'], 'the store is below every other layer'),
  layer('src/transport/**', ['../server/*', '../sandbox/*', '../ui/*', '../store/*', '../../server/*', '../../ui/*'], 'transports carry messages; they know no server'),
  layer('src/sandbox/**', ['../server/*', '../../server/*', '../ui/*', '../../ui/*', '../store/*', '../../store/*'], 'the sandbox runs calls; it knows no server, store or UI'),
  layer('src/server/**', ['../ui/*', '../sandbox/host/*', '../sandbox/worker/*', '../client/*'], 'the server reaches the sandbox only by messages'),
  layer('src/ui/**', ['../server/*', '../sandbox/*', '../transport/*'], 'the UI reaches the server only through the client and admin APIs'),
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
