import { fileURLToPath } from 'node:url';
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
      {
        // The dashboard's server code (loads, actions) against a real coordinator, and its
        // browser suite; `$lib` is SvelteKit's alias for dashboard/src/lib.
        test: {
          name: 'dashboard',
          root: './dashboard',
          include: ['src/**/*.test.ts'],
          testTimeout: 120_000,
        },
        resolve: {
          alias: { $lib: fileURLToPath(new URL('./dashboard/src/lib', import.meta.url)) },
        },
      },
    ],
  },
});
