import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'protocol', root: './protocol', include: ['src/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'sim', root: './sim', include: ['src/**/*.test.ts'], testTimeout: 120_000 } },
    ],
  },
});
