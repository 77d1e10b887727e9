import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database suites share one PostgreSQL and one MariaDB database; files run one at a time
    // against them, and in parallel otherwise would fight over the same tables.
    fileParallelism: false,
    reporters: ['default'],
  },
});
