import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'web/dist/', 'node_modules/', 'data/', 'coverage/', 'bench/results/', 'bench/.work/', 'test-results/', 'playwright-report/', 'web/src/api/schema.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // The CSP forbids inline styles: every look is a class in styles.css.
      'no-restricted-syntax': ['error', { selector: "JSXAttribute[name.name='style']", message: 'Use a CSS class: the content security policy forbids inline styles.' }],
    },
  },
);
