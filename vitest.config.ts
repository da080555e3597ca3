import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The example imports the package by name, as a user's app would; in the repository that name
  // is the source (tsconfig `paths` does the same for tsc and tsx).
  resolve: { alias: { 'account-shield': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
