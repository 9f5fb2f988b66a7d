import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  server: { host: '127.0.0.1', strictPort: false, fs: { allow: ['..'] } },
  // Pre-bundled up front, so a first visit never triggers a dependency re-optimisation (and the
  // full page reload that comes with it) in the middle of a session.
  optimizeDeps: { include: ['chart.js'] },
});
