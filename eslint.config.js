// Lint rules for the whole package: typescript-eslint's recommended set; React's hook rules for
// the web client.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

// The web client names the API's shapes from the modules' schemas, never from route files.
const NO_ROUTE_FILES = {
  group: ['**/server/**/routes', '**/server/**/routes.js'],
  message: 'Import types from the module schema.ts or src/shared (docs/web-client.md).',
};

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'data/',
      'coverage/',
      'bin/',
      'test-results/',
      'playwright-report/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // User-text validation and the renderer's placeholders match control characters on purpose.
      'no-control-regex': 'off',
      'no-console': 'off',
    },
  },
  // Applets written for the original system run in a browser frame as plain scripts.
  {
    files: ['test/browser/applets/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly' } },
  },
  // The vetted libraries handed to applet frames are plain scripts too.
  {
    files: ['src/applet-sdk/libraries/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        globalThis: 'readonly',
        Blob: 'readonly',
        DataView: 'readonly',
        DecompressionStream: 'readonly',
        TextDecoder: 'readonly',
        btoa: 'readonly',
      },
    },
  },
  {
    files: ['src/web/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [NO_ROUTE_FILES],
        },
      ],
    },
  },
  {
    // Screens get data through the typed modules of src/web/api/, never by a path of their own.
    files: ['src/web/App.tsx', 'src/web/screens/**/*.{ts,tsx}', 'src/web/ui/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_ROUTE_FILES,
            {
              group: ['**/api/client'],
              importNames: ['api'],
              message: "Use the resource's module in src/web/api/ (docs/web-client.md).",
            },
          ],
        },
      ],
    },
  },
);
