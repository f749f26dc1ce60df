import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CITYOPS_TEST_JSON
      ? ['default', ['json', { outputFile: process.env.CITYOPS_TEST_JSON }]]
      : ['default'],
  },
});
