import { defineConfig } from 'vitest/config';

const project = (name: string, testTimeout = 60_000) => ({
  test: { name, root: `./${name}`, include: ['src/**/*.test.ts'], testTimeout },
});

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      project('protocol'),
      project('storage'),
      project('node'),
      project('coordinator'),
      project('sim', 120_000),
    ],
  },
});
