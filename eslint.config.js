// eslint flat config: typescript-eslint's strict, type-aware rules over the library, its tests,
// benchmarks and the demo app. Layer rules live in .dependency-cruiser.cjs (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'node_modules/**', 'tests/consumer/**', 'coverage/**', 'test-output/**', 'bench/.builds/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans read naturally in messages ("after 3 attempts"); objects and nullish
      // values still need an explicit String() or JSON.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => void promise` and `(x) => list.push(x)` are clear as they stand.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `this: void` is how a method says it may be called unbound (TaskContext.progress), as unbound-method asks.
      '@typescript-eslint/no-invalid-void-type': ['error', { allowAsThisParameter: true }],
    },
  },
  {
    // Tests read HTTP answers, whose bodies supertest and fetch type as `any`; asserting on their
    // members is the point of those tests, and a wrong shape fails the assertion anyway.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  // typescript-eslint parses every file as an ES module; .cjs files are CommonJS (module, require).
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
);
